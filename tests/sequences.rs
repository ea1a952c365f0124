//! `fuzz --sequences` against real receivers: a dedupe cache that forgets
//! old keys is found with the smallest sequence that shows it, written as a
//! scenario that `run` replays and fails; a dedupe set in memory is found
//! across replicas; a receiver whose record every replica shares passes.

mod common;

use std::path::{Path, PathBuf};

use common::process::{broken_receiver, harness_in};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wh-sequences-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The one scenario file `fuzz --sequences` wrote in `dir`.
fn written(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir.join("fuzz-findings"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("fuzz.sequence.") && n.ends_with(".yaml"))
        })
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

#[test]
fn a_bounded_dedupe_cache_is_found_shrunk_and_replayed() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = rt.block_on(common::TestReceiver::start(common::Bug::DedupeBounded));
    let dir = temp_dir("bounded");
    let target = [
        "--url".to_owned(),
        receiver.url(),
        "--effects-url".to_owned(),
        receiver.effects_url(),
        "--webhook-id".to_owned(),
        common::WEBHOOK_ID.to_owned(),
    ];
    let mut args = vec!["fuzz", "--sequences", "--seed", "1", "--cases", "10"];
    args.extend(target.iter().map(String::as_str));
    let (code, stdout, stderr) = harness_in(&dir, &args, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("finding: sequence "), "{stdout}");
    // The cache holds 1000 keys: only a duplicate behind more than 1000
    // others shows it, and nothing smaller than deliver, 1100 others, the
    // same key again does.
    let file = written(&dir);
    let scenario = std::fs::read_to_string(&file).unwrap();
    assert!(scenario.contains("count: 1100"), "{scenario}");
    assert!(
        stdout.contains("Expected: effect count 1") && stdout.contains("Actual: effect count 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("hint: restarts not tried: pass --serve"),
        "{stdout}"
    );
    assert!(
        stdout.contains("failed 4 of 4 runs"),
        "a cache that forgets by count fails every replay\n{stdout}"
    );

    // The file is a scenario: `run` replays it and fails the same way.
    let file = file.display().to_string();
    let mut args = vec!["run", file.as_str()];
    args.extend(target.iter().map(String::as_str));
    let (code, stdout, stderr) = harness_in(&dir, &args, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
    assert!(stdout.contains("effect count 2"), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Sequences under `--serve` with two replicas: a dedupe set in memory is
/// found (a copy on the other replica, or after a restart, done again); the
/// same receiver with its record in a file both share passes.
#[test]
fn replicas_and_restarts_find_a_dedupe_set_in_memory_and_pass_a_shared_one() {
    let dir = temp_dir("replicas");
    let fuzz = |args: &str, cases: &str| {
        let command = format!("exec {} {args}", broken_receiver().display());
        harness_in(
            &dir,
            &[
                "fuzz",
                "--sequences",
                "--seed",
                "2",
                "--cases",
                cases,
                "--url",
                "http://127.0.0.1:0/webhook",
                "--effects-url",
                "http://127.0.0.1:0/test/effects?key={key}",
                "--webhook-id",
                common::WEBHOOK_ID,
                "--serve",
                &command,
                "--serve-replicas",
                "2",
                "--serve-timeout",
                "60s",
            ],
            &[],
        )
    };
    let memory = dir.join("work.sqlite");
    let (code, stdout, stderr) = fuzz(
        &format!("dedupe-in-memory --store {}", memory.display()),
        "10",
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("finding: sequence "), "{stdout}");
    let scenario = std::fs::read_to_string(written(&dir)).unwrap();
    // Every step names its replica here; the smallest failing sequence
    // restarts, or reaches both replicas (copies on each, or one key on
    // replica 0 then on replica 1).
    let both = scenario.contains("replica: each")
        || (scenario.contains("replica: 0") && scenario.contains("replica: 1"));
    assert!(
        scenario.contains("restart:") || both,
        "the smallest failing sequence restarts or reaches both replicas\n{scenario}"
    );
    assert!(!stdout.contains("hint: "), "{stdout}");

    let shared = dir.join("handled.sqlite");
    let (code, stdout, stderr) = fuzz(&format!("none --store {}", shared.display()), "6");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("6 sequences ("), "{stdout}");
    assert!(stdout.contains("; no finding; seed 2"), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}
