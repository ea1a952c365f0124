//! Bounded runs, as processes: a receiver that accepts connections and never
//! answers gets a fast, clear verdict from every command; Ctrl-C and
//! `--max-time` leave partial reports. The time limits here only guard
//! against hangs; the figures themselves are measured in bench/bench.sh.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::hostile::{self, Hostile};
use common::{Bug, TestReceiver, WEBHOOK_ID};

const BIN: &str = env!("CARGO_BIN_EXE_webhook-harness");

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs the harness with `args`, killed if it outlives `guard`.
async fn harness(args: &[&str], guard: Duration) -> Ran {
    let started = Instant::now();
    let child = tokio::process::Command::new(BIN)
        .args(args)
        .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
        .env_remove("CI")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(guard, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{args:?} did not end within {guard:?}"))
        .unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wh-bounded-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn run_with_default_timeouts_reports_the_rest_as_not_run() {
    let url = hostile::start(Hostile::Silent).await;
    let dir = temp("run");
    let json = dir.join("report.json");
    let ran = harness(
        &[
            "run",
            "--url",
            &url,
            "--report-json",
            json.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    )
    .await;
    eprintln!("run against a silent receiver took {:?}", ran.took);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout
            .contains("stopped: the receiver stopped answering"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("not run "), "{}", ran.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["partial"], true);
    let not_run = report["summary"]["not_run"].as_u64().unwrap();
    let failed = report["summary"]["failed"].as_u64().unwrap();
    assert!(not_run >= 25, "{}", report["summary"]);
    assert!(
        failed >= 1,
        "the cases that got no answer fail: {}",
        report["summary"]
    );
    assert_eq!(report["summary"]["passed"], 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn fuzz_says_the_receiver_stopped_answering_instead_of_shrinking() {
    let url = hostile::start(Hostile::Silent).await;
    let dir = temp("fuzz");
    let ran = harness(
        &[
            "fuzz",
            "--url",
            &url,
            "--timeout",
            "1s",
            "--cases",
            "200",
            "--out",
            dir.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    )
    .await;
    eprintln!("fuzz against a silent receiver took {:?}", ran.took);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("the receiver stopped answering"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("0 findings"), "{}", ran.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn load_duration_means_the_duration() {
    let url = hostile::start(Hostile::Silent).await;
    let ran = harness(
        &["load", "--url", &url, "--duration", "5s"],
        Duration::from_secs(10),
    )
    .await;
    eprintln!(
        "load --duration 5s against a silent receiver took {:?}",
        ran.took
    );
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("cut at the end"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("FAIL: no request was answered"),
        "{}",
        ran.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn load_stops_when_nothing_is_answered_for_a_while() {
    let url = hostile::start(Hostile::Silent).await;
    let ran = harness(
        &[
            "load",
            "--url",
            &url,
            "--deliveries",
            "1000",
            "--timeout",
            "2s",
        ],
        Duration::from_secs(60),
    )
    .await;
    eprintln!("load --deliveries 1000 --timeout 2s took {:?}", ran.took);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout
            .contains("the receiver stopped answering: no request was answered for 10.00s"),
        "{}",
        ran.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn max_time_cuts_every_command_short() {
    let url = hostile::start(Hostile::Silent).await;
    for args in [
        vec!["run", "--url", &url, "--max-time", "2s"],
        vec!["send", "generation", "--url", &url, "--max-time", "2s"],
        vec!["fuzz", "--url", &url, "--max-time", "2s"],
        vec!["load", "--url", &url, "--max-time", "2s"],
    ] {
        let ran = harness(&args, Duration::from_secs(20)).await;
        assert_eq!(ran.code, 1, "{args:?}: {}{}", ran.stdout, ran.stderr);
        assert!(
            ran.stdout.contains("the time limit of 2.00s"),
            "{args:?}: {}",
            ran.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn interrupted_run_writes_partial_reports_and_exits_130() {
    let url = hostile::start(Hostile::Silent).await;
    let dir = temp("sigint");
    let (json, junit) = (dir.join("r.json"), dir.join("r.xml"));
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "run",
            "--url",
            &url,
            "--report-json",
            json.to_str().unwrap(),
            "--report-junit",
            junit.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap().to_string();
    // The run's first line says it started (its signals are caught by
    // then); the rest of the output is read after the exit.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = Vec::new();
    let mut byte = [0u8; 1];
    while first.last() != Some(&b'\n') {
        use tokio::io::AsyncReadExt;
        let read = tokio::time::timeout(Duration::from_secs(60), stdout.read(&mut byte))
            .await
            .expect("the run prints its first line")
            .unwrap();
        assert_eq!(read, 1, "the run ended before its first line");
        first.push(byte[0]);
    }
    // Some cases under way, as a user would press Ctrl-C.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = tokio::time::timeout(Duration::from_secs(30), async {
        use tokio::io::AsyncReadExt;
        let mut rest = Vec::new();
        stdout.read_to_end(&mut rest).await.unwrap();
        first.extend(rest);
        child.wait_with_output().await
    })
    .await
    .expect("exits soon after SIGINT")
    .unwrap();
    let stdout = String::from_utf8_lossy(&first);
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    assert!(stdout.contains("stopped: interrupted"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["partial"], true);
    assert_eq!(report["stopped"], "interrupted");
    assert_eq!(report["summary"]["not_run"], report["summary"]["total"]);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(parsed.tests, 34);
    assert!(xml.contains(r#"name="partial" value="true""#), "{xml}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_receiver_is_not_taken_for_a_dead_one() {
    let receiver = TestReceiver::start(Bug::Answers3sLate).await;
    let ran = harness(
        &[
            "run",
            "--url",
            &receiver.url(),
            "--webhook-id",
            WEBHOOK_ID,
            "--timeout",
            "5s",
            "--filter",
            "events.*",
            "--jobs",
            "8",
        ],
        Duration::from_secs(120),
    )
    .await;
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(!ran.stdout.contains("not run"), "{}", ran.stdout);
    assert!(ran.stdout.contains(" 0 failed"), "{}", ran.stdout);
}
