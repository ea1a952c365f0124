//! Idempotency beyond one process: the durability cases, fuzz and load
//! against test receivers run as processes of their own (the
//! `broken_receiver` example) under `--serve`: restarted, as two replicas,
//! as two workers on one port; their record of handled keys in memory, in a
//! cache bounded or expiring, or in a SQLite file every process shares.

mod common;

use std::path::{Path, PathBuf};

use common::process::{broken_receiver, harness_in};

const URL: &str = "http://127.0.0.1:0/webhook";
const PROBE: &str = "http://127.0.0.1:0/test/effects?key={key}";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wh-durability-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The command that serves `broken_receiver` with `args`.
fn serve(args: &str) -> String {
    format!("exec {} {args}", broken_receiver().display())
}

/// `run` with `--serve COMMAND` (and `extra`) in `dir`: (exit code, stdout, stderr).
fn run(dir: &Path, command: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "run",
        "--url",
        URL,
        "--effects-url",
        PROBE,
        "--webhook-id",
        common::WEBHOOK_ID,
        "--serve",
        command,
        "--serve-timeout",
        "60s",
    ];
    args.extend_from_slice(extra);
    harness_in(dir, &args, &[])
}

/// The ids of the cases with `verdict` (`pass`, `FAIL`), in order.
fn cases(stdout: &str, verdict: &str) -> Vec<String> {
    let prefix = format!("{verdict} durability.");
    let mut ids: Vec<String> = Vec::new();
    let named = stdout
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| rest.split(' ').next());
    for id in named {
        // The verdict lines, then the failure blocks name a case again.
        if !ids.iter().any(|seen| seen == id) {
            ids.push(id.to_owned());
        }
    }
    ids
}

#[test]
fn a_receiver_with_a_shared_store_passes_on_two_replicas() {
    let dir = temp_dir("shared");
    let db = dir.join("handled.sqlite");
    let command = serve(&format!("none --store {}", db.display()));
    let (code, stdout, stderr) = run(
        &dir,
        &command,
        &[
            "--serve-replicas",
            "2",
            "--filter",
            "durability",
            "--strict",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("4 passed, 0 failed, 0 warnings, 0 skipped"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_record_in_memory_is_lost_at_a_restart() {
    let dir = temp_dir("memory");
    let (code, stdout, stderr) = run(&dir, &serve("none"), &["--filter", "durability"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    // Lost: the key handled before the restart reads 0 after it. The copy
    // after the restart is done once more, but counted from 0: one.
    assert_eq!(
        cases(&stdout, "FAIL"),
        ["effect-survives-restart"],
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "effect count 0 after the restart: the receiver's record of handled work did not survive a restart (it lives in process memory)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "diagnosis: the receiver's record of handled keys does not survive a restart (1 case)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Likely fix: keep handled keys in a store every process and every restart shares"
        ),
        "{stdout}"
    );
    // The replica cases need two replicas: not applicable, with the hint.
    assert!(stdout.contains("2 not applicable"), "{stdout}");
    assert!(
        stdout.contains("hint: replicas not checked: pass --serve and --serve-replicas 2"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_dedupe_set_in_memory_is_redone_after_a_restart_and_on_another_replica() {
    // The work is durable (counted in the file), the set of handled keys is
    // not: the most common shape of the mistake.
    let dir = temp_dir("dedupe-set");
    let db = dir.join("work.sqlite");
    let command = serve(&format!("dedupe-in-memory --store {}", db.display()));
    let (code, stdout, stderr) = run(
        &dir,
        &command,
        &["--serve-replicas", "2", "--filter", "durability"],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(
        cases(&stdout, "pass"),
        ["effect-survives-restart"],
        "{stdout}"
    );
    assert_eq!(
        cases(&stdout, "FAIL"),
        [
            "duplicate-after-restart",
            "duplicate-on-another-replica",
            "concurrent-copies-on-replicas"
        ],
        "{stdout}"
    );
    for said in [
        "diagnosis: the receiver's record of handled keys does not survive a restart and is not shared between replicas (2 cases)",
        "the same delivery after a restart was done again",
        "a delivery one replica had handled was done again by another: the replicas do not share their record of handled keys",
        "Likely fix: keep handled keys in a store every process and every restart shares",
    ] {
        assert!(stdout.contains(said), "{said}\n{stdout}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Two workers answer on one port, each with its own record: the whole
/// suite names it, and the same cases fail on every run.
#[test]
fn two_workers_with_a_record_each_are_named_on_every_run() {
    let dir = temp_dir("workers");
    let mut failing_sets = Vec::new();
    for _ in 0..3 {
        let (code, stdout, stderr) = run(&dir, &serve("none --workers 2"), &[]);
        assert_eq!(code, 1, "{stdout}{stderr}");
        assert!(
            stdout.contains("each keep their own record of handled keys"),
            "{stdout}"
        );
        assert!(
            stdout.contains("diagnosis: the effects probe answered"),
            "{stdout}"
        );
        let failing: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("FAIL "))
            .filter_map(|l| l.split(' ').nth(1))
            .collect();
        let mut failing: Vec<String> = failing.into_iter().map(str::to_owned).collect();
        failing.sort();
        failing.dedup();
        assert!(
            failing.iter().any(|c| c.starts_with("idempotency.")),
            "{stdout}"
        );
        failing_sets.push(failing);
    }
    assert!(
        failing_sets.windows(2).all(|w| w[0] == w[1]),
        "{failing_sets:?}"
    );

    // The same two workers sharing a store pass everything they can.
    let db = dir.join("handled.sqlite");
    let command = serve(&format!("none --workers 2 --store {}", db.display()));
    let (code, stdout, stderr) = run(&dir, &command, &["--strict"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains(" 0 failed, 0 warnings"), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `load` and `fuzz` read the probe by the same rule: two workers with a
/// record each are named, two sharing one pass.
#[test]
fn load_and_fuzz_name_a_record_per_worker() {
    let dir = temp_dir("load-fuzz");
    let target = |command: &str| {
        vec![
            "--url".to_owned(),
            URL.to_owned(),
            "--effects-url".to_owned(),
            PROBE.to_owned(),
            "--webhook-id".to_owned(),
            common::WEBHOOK_ID.to_owned(),
            "--serve".to_owned(),
            command.to_owned(),
        ]
    };
    let harness = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        harness_in(&dir, &args, &[])
    };
    let db = dir.join("handled.sqlite");
    let memory = serve("none --workers 2");
    let shared = serve(&format!("none --workers 2 --store {}", db.display()));

    let load = |command: &str| {
        let mut args = vec!["load".to_owned()];
        args.extend(target(command));
        args.extend(["--deliveries", "200", "--duplicates", "20%"].map(str::to_owned));
        harness(args)
    };
    let (code, stdout, stderr) = load(&memory);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("were counted differently by different processes of the receiver: it keeps its record of handled keys per process"),
        "{stdout}"
    );
    let (code, stdout, stderr) = load(&shared);
    assert_eq!(code, 0, "{stdout}{stderr}");

    let fuzz = |command: &str| {
        let mut args = vec!["fuzz".to_owned()];
        args.extend(target(command));
        args.extend(["--cases", "40", "--seed", "3"].map(str::to_owned));
        harness(args)
    };
    let (code, stdout, stderr) = fuzz(&memory);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("each keep their own record of handled keys"),
        "{stdout}"
    );
    let (code, stdout, stderr) = fuzz(&shared);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}
