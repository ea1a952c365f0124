//! Bad input from the user: every command answers with one line that says
//! what is wrong and how to fix it, exit code 2, no panic, no backtrace.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_webhook-harness");

fn stderr_of(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn one_line_errors_with_exit_2() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "send",
            "generation.failed",
            "--url",
            "http://127.0.0.1:9/webhook",
        ],
        vec!["send", "generation", "--url", "localhost:3000/webhook"],
        vec!["send", "generation", "--url", "ftp://127.0.0.1/webhook"],
        vec![
            "send",
            "generation",
            "--url",
            "http://127.0.0.1:9/webhook",
            "--timeout",
            "soon",
        ],
        vec!["send", "generation"],
        vec!["payload", "generation", "--set", "data..id=1"],
        vec!["payload", "generation", "--set", "data.state"],
        vec!["payload", "generation", "--set", "data.state.deeper=1"],
        vec!["payload", "generation", "--dialect", "old"],
        vec!["receive", "--port", &port],
        vec!["run", "no/such/scenarios.yaml"],
        vec!["run", "--effects-url", "http://127.0.0.1:9/effects"],
        vec!["run", "--filter", "no-such-case"],
        vec!["run", "--snapshots-mode", "always"],
        vec!["run", "--jobs", "0"],
        vec!["fuzz", "--only", "weird"],
        vec!["fuzz", "--cases", "many"],
        vec!["fuzz", "--sequences", "--url", "http://127.0.0.1:9/webhook"],
        vec!["load", "--mix", "generation=0"],
        vec!["load", "--rate", "fast"],
        vec!["load", "--duplicates", "150%"],
        vec!["load", "--duplicates", "5"],
        vec!["load", "--duration", "1s", "--deliveries", "10"],
        vec!["validate"],
        vec!["snapshots", "review", "--bogus"],
        vec!["frobnicate"],
        vec!["rnu"],
    ];
    let mut transcript = String::new();
    for args in &cases {
        let (code, stderr) = stderr_of(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?} printed more than one line:\n{stderr}"
        );
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{args:?}: {stderr}"
        );
        let shown = args.join(" ").replace(&port, "PORT");
        transcript.push_str(&format!(
            "$ webhook-harness {shown}\n{}\n",
            stderr.trim_end().replace(&port, "PORT")
        ));
    }
    drop(busy);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("usage-errors", transcript);
    });
}

#[test]
fn a_bad_scenario_file_points_at_the_place() {
    let dir = std::env::temp_dir().join(format!("wh-usage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.yaml");
    std::fs::write(
        &file,
        "cases:\n  - id: a\n    title: t\n    steps:\n      - wait: soon\n",
    )
    .unwrap();
    let (code, stderr) = stderr_of(&["run", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr
            .lines()
            .next()
            .unwrap()
            .contains("`soon` is not a duration"),
        "{stderr}"
    );
    assert!(stderr.contains("broken.yaml:5:15"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}
