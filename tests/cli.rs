//! The binary end to end: `send` as a process against `receive` as a process.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_webhook-harness");

use common::process::{ReceiveProcess, start_receiver};

fn harness(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts that `text` contains every one of `expected`, showing the text if not.
fn assert_contains_all(text: &str, expected: &[&str]) {
    for e in expected {
        assert!(text.contains(e), "missing {e:?} in\n{text}");
    }
}

fn effect_count(receiver: &ReceiveProcess, key: &str) -> u64 {
    let probe = receiver
        .url
        .replace("/webhook", &format!("/test/effects?key={key}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let body = common::http_client()
            .get(&probe)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["count"]
            .as_u64()
            .unwrap()
    })
}

#[test]
fn send_each_event_to_receive() {
    let receiver = start_receiver(&["--webhook-id", "AhALzdz8S"]);
    for event in [
        "generation.completed",
        "async-embedding.completed",
        "slow-group.completed",
        "webhook.test",
    ] {
        let (code, stdout, stderr) = harness(&[
            "send",
            event,
            "--url",
            &receiver.url,
            "--webhook-id",
            "AhALzdz8S",
            "--timeout",
            "5s",
        ]);
        assert_eq!(code, 0, "{event}: {stdout}{stderr}");
        assert!(stdout.contains("delivered"), "{stdout}");
        assert!(!stdout.contains("AhALzdz8S"), "the secret leaked: {stdout}");
        let (_, payload, _) = harness(&["payload", event]);
        let json: serde_json::Value = serde_json::from_str(&payload).unwrap();
        let key = webhook_harness::event::idempotency_key(&json).unwrap();
        assert_eq!(effect_count(&receiver, &key), 1, "{event}");
    }
}

#[test]
fn send_reports_failure_with_exit_1() {
    let receiver = start_receiver(&["--webhook-id", "right"]);
    let (code, stdout, _) = harness(&[
        "send",
        "generation",
        "--url",
        &receiver.url,
        "--webhook-id",
        "wrong",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("401"), "{stdout}");
    assert!(stdout.contains("dropped"), "{stdout}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["send", "generation.failed", "--url", "http://127.0.0.1:1/"][..],
        &["send", "generation", "--url", "not a url"],
        &[
            "send",
            "generation",
            "--url",
            "http://127.0.0.1:1/",
            "--timeout",
            "soon",
        ],
        &["payload", "generation", "--set", "data..x=1"],
        &["payload", "generation", "--set", "data.state.deeper=1"],
    ] {
        let (code, _, stderr) = harness(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains("error"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn payload_applies_overrides() {
    let (code, stdout, _) = harness(&[
        "payload",
        "generation",
        "--set",
        "data.state=Failed",
        "--unset",
        "data.usage",
    ]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["data"]["state"], "Failed");
    assert!(json["data"].get("usage").is_none());
}

#[test]
fn run_builtin_suite_writes_valid_reports() {
    let dir = std::env::temp_dir().join(format!("wh-reports-{}", std::process::id()));
    let (json_path, junit_path) = (dir.join("report.json"), dir.join("junit/report.xml"));
    let (code, stdout, stderr) = harness(&[
        "run",
        "--webhook-id",
        "SuperSecret123",
        "--jobs",
        "4",
        "--report-json",
        json_path.to_str().unwrap(),
        "--report-junit",
        junit_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let summary_line = stdout
        .lines()
        .rev()
        .find(|l| l.contains(" passed, "))
        .unwrap();
    assert!(
        summary_line.starts_with("30 passed, 0 failed, 0 warnings, 0 skipped, 4 not applicable"),
        "{summary_line}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(json["summary"]["passed"], 30);
    // The durability cases need --serve (and replicas): not applicable.
    assert_eq!(json["summary"]["not_applicable"], 4);
    assert_eq!(json["summary"]["total"], 34);
    let case = &json["cases"][0];
    for field in ["id", "title", "severity", "status", "message", "attempts"] {
        assert!(case.get(field).is_some(), "case lacks {field}: {case}");
    }

    let xml = std::fs::read_to_string(&junit_path).unwrap();
    let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(junit.tests, 34);
    assert_eq!(junit.failures, 0);

    for artifact in [
        &stdout,
        &stderr,
        &std::fs::read_to_string(&json_path).unwrap(),
        &xml,
    ] {
        assert!(
            !artifact.contains("SuperSecret123"),
            "the webhook id leaked"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn run_reports_failures_in_every_format() {
    // A receiver requiring another id rejects every delivery: `must` cases fail.
    let receiver = start_receiver(&["--webhook-id", "another-id"]);
    let dir = std::env::temp_dir().join(format!("wh-fail-{}", std::process::id()));
    let junit_path = dir.join("junit.xml");
    let (code, stdout, _) = harness(&[
        "run",
        "--url",
        &receiver.url,
        "--filter",
        "events.generation-*",
        "--timeout",
        "5s",
        "--report-junit",
        junit_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("FAIL events.generation-completed [must]"),
        "{stdout}"
    );
    assert!(stdout.contains("Expected: 2xx"), "{stdout}");
    assert!(stdout.contains("Actual: 401"), "{stdout}");
    let junit =
        quick_junit::Report::deserialize_from_str(&std::fs::read_to_string(&junit_path).unwrap())
            .unwrap();
    assert_eq!(junit.failures, 2);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn run_against_nothing_exits_3_once() {
    let (_nothing, url) = common::refusing_url();
    let (code, stdout, stderr) = harness(&["run", "--url", &url]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
}

#[test]
fn validate_and_list() {
    let dir = std::env::temp_dir().join(format!("wh-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "cases:\n  - id: a\n    title: t\n    steps:\n      - delivr: {}\n",
    )
    .unwrap();
    let (code, _, stderr) = harness(&["validate", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("bad.yaml:5:9"), "{stderr}");
    assert!(stderr.contains("unknown field `delivr`"), "{stderr}");

    let (code, stdout, _) = harness(&[
        "validate",
        concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"),
    ]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("ok: 34 cases in 8 files"), "{stdout}");
    let good = dir.join("good.yaml");
    std::fs::write(
        &good,
        "cases:\n  - id: a\n    title: t\n    steps:\n      - options: {}\n",
    )
    .unwrap();
    let (code, stdout, _) = harness(&["validate", good.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("ok: 1 case in 1 file\n"), "{stdout}");

    let (code, stdout, _) = harness(&["list"]);
    assert_eq!(code, 0);
    let line = stdout
        .lines()
        .find(|l| l.contains("idempotency.concurrent-copies"))
        .unwrap();
    assert!(
        line.contains(" must ") && line.contains("Five copies"),
        "{line}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A test receiver served from a runtime of its own, for the binary to target.
fn background_receiver(bug: common::Bug) -> (tokio::runtime::Runtime, common::TestReceiver) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = rt.block_on(common::TestReceiver::start(bug));
    (rt, receiver)
}

#[test]
fn fuzz_finds_writes_a_reproducer_and_replays_it() {
    let dir = std::env::temp_dir().join(format!("wh-fuzz-cli-{}", std::process::id()));
    let out = dir.join("findings");
    let report = dir.join("fuzz.json");
    let (_rt, buggy) = background_receiver(common::Bug::ArrayIs500);
    let id = common::WEBHOOK_ID;
    let (code, stdout, stderr) = harness(&[
        "fuzz",
        "--url",
        &buggy.url(),
        "--effects-url",
        &buggy.effects_url(),
        "--webhook-id",
        id,
        "--seed",
        "3",
        "--cases",
        "400",
        "--only",
        "invalid",
        "--out",
        out.to_str().unwrap(),
        "--report-json",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_contains_all(
        &stdout,
        &[
            "with seed 3",
            "finding 1: case",
            "problem: answered 500",
            "replay:  curl -i -X POST",
            "1 finding; seed 3",
        ],
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["summary"]["failed"], 1);
    let what = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["checks"].as_array().unwrap())
        .filter_map(|c| c["what"].as_str())
        .find(|w| w.contains("; reproducer "))
        .expect("the finding names its reproducer");
    assert!(what.ends_with(".yaml"), "{what}");
    for entry in std::fs::read_dir(&out).unwrap() {
        let text = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !String::from_utf8_lossy(&text).contains(id),
            "a reproducer file holds the secret"
        );
    }
    assert!(!stdout.contains(id), "the secret was printed");

    let replay = |url: &str, effects: &str| {
        harness(&[
            "run",
            out.to_str().unwrap(),
            "--url",
            url,
            "--effects-url",
            effects,
            "--webhook-id",
            id,
        ])
    };
    let (code, stdout, _) = replay(&buggy.url(), &buggy.effects_url());
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("still failing fuzz.s3-c"), "{stdout}");
    let (_rt2, fixed) = background_receiver(common::Bug::None);
    let (code, stdout, _) = replay(&fixed.url(), &fixed.effects_url());
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("fixed fuzz.s3-c"), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn fuzz_against_the_builtin_receiver_finds_nothing() {
    let (code, stdout, stderr) = harness(&["fuzz", "--seed", "5", "--cases", "300"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("300 cases (") && stdout.contains("0 findings; seed 5"),
        "{stdout}"
    );
}

/// Runs the binary with CI set or unset and `stdin` as input.
fn harness_with(args: &[&str], ci: bool, stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
        .env("NO_COLOR", "1");
    if ci {
        command.env("CI", "true")
    } else {
        command.env_remove("CI")
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn snapshots_record_compare_review_and_accept() {
    let dir = std::env::temp_dir().join(format!("wh-snap-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let snaps = dir.join("snaps");
    let snaps = snaps.to_str().unwrap();
    let json = dir.join("report.json");
    let filter = ["--filter", "events.webhook-test"];

    // In CI, a missing snapshot fails the run and is not created.
    let (code, stdout, _) = harness_with(
        &[&["run", "--snapshots", snaps][..], &filter].concat(),
        true,
        "",
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("snapshot missing events.webhook-test"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 passed, 0 failed"),
        "conformance is reported apart: {stdout}"
    );
    // Outside CI the first run records.
    let (code, stdout, _) = harness_with(
        &[&["run", "--snapshots", snaps][..], &filter].concat(),
        false,
        "",
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("1 recorded"), "{stdout}");

    // Against another receiver the answers change: exit 1, a diff, a pending file.
    let (_rt, other) = background_receiver(common::Bug::None);
    let other_url = other.url();
    let against_other = [
        &[
            "run",
            "--snapshots",
            snaps,
            "--url",
            &other_url,
            "--webhook-id",
            common::WEBHOOK_ID,
        ][..],
        &filter,
    ]
    .concat();
    let mut with_report = against_other.clone();
    with_report.extend(["--report-json", json.to_str().unwrap()]);
    let (code, stdout, _) = harness_with(&with_report, false, "");
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("snapshot changed events.webhook-test"),
        "{stdout}"
    );
    assert!(stdout.contains("+      message: ok"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["summary"]["failed"], 0);
    assert_eq!(report["snapshots"]["summary"]["changed"], 1);

    // Review: skip leaves it pending, accept makes it the snapshot.
    let (code, stdout, _) = harness_with(&["snapshots", "review", snaps], false, "s\n");
    assert_eq!(code, 0);
    assert!(
        stdout.contains("0 accepted, 0 rejected, 1 skipped"),
        "{stdout}"
    );
    let (code, stdout, _) = harness_with(&["snapshots", "review", snaps], false, "x\na\n");
    assert_eq!(code, 0);
    assert!(
        stdout.contains("answer a, r, s, A or R") && stdout.contains("1 accepted"),
        "{stdout}"
    );
    let (code, stdout, _) = harness_with(&against_other, true, "");
    assert_eq!(code, 0, "accepted, so unchanged: {stdout}");

    // Back at the built-in receiver: changed again; reject, then accept all.
    let back = [&["run", "--snapshots", snaps][..], &filter].concat();
    assert_eq!(harness_with(&back, false, "").0, 1);
    let (_, stdout, _) = harness_with(&["snapshots", "reject", snaps], false, "");
    assert!(stdout.contains("1 pending change rejected"), "{stdout}");
    assert_eq!(harness_with(&back, false, "").0, 1);
    let (_, stdout, _) = harness_with(&["snapshots", "accept", snaps], false, "");
    assert!(stdout.contains("1 pending change accepted"), "{stdout}");
    assert_eq!(harness_with(&back, true, "").0, 0);
    // --update-snapshots accepts without review.
    let (code, stdout, _) = harness_with(
        &[&against_other[..], &["--update-snapshots"]].concat(),
        true,
        "",
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("1 updated"), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn one_change_in_many_snapshots_is_shown_once_and_accepted_at_once() {
    let dir = std::env::temp_dir().join(format!("wh-snap-same-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let snaps = dir.join("snaps");
    let snaps = snaps.to_str().unwrap();
    let filter = ["--filter", "events.*"];
    let record = [&["run", "--snapshots", snaps][..], &filter].concat();
    let (code, stdout, _) = harness_with(&record, false, "");
    assert_eq!(code, 0, "{stdout}");
    // Another receiver adds the same answer field to every case.
    let (_rt, other) = background_receiver(common::Bug::None);
    let other_url = other.url();
    let against_other = [
        &[
            "run",
            "--snapshots",
            snaps,
            "--url",
            &other_url,
            "--webhook-id",
            common::WEBHOOK_ID,
        ][..],
        &filter,
    ]
    .concat();
    let (code, stdout, _) = harness_with(&against_other, false, "");
    assert_eq!(code, 1, "{stdout}");
    // 11 snapshots changed: 10 the same way (OPTIONS and POST answers),
    // `events.no-redirect` (no OPTIONS) only in its POST answer.
    assert!(stdout.contains("0 unchanged, 11 changed"), "{stdout}");
    let changed = stdout.matches("snapshot changed").count();
    assert_eq!(changed, 2, "one diff per distinct change: {stdout}");
    assert!(
        stdout.contains("and the same change in 9 other cases"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("+      message: ok").count(), 2, "{stdout}");
    // `A` accepts this change and every remaining one.
    let (code, stdout, _) = harness_with(&["snapshots", "review", snaps], false, "A\n");
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stdout.matches("accept (a)").count(),
        1,
        "asked once: {stdout}"
    );
    assert!(
        stdout.contains(" accepted, 0 rejected, 0 skipped"),
        "{stdout}"
    );
    assert!(!stdout.contains("\n0 accepted"), "{stdout}");
    let (code, stdout, _) = harness_with(&against_other, true, "");
    assert_eq!(code, 0, "all accepted: {stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn load_reports_a_table_and_exit_codes() {
    let dir = std::env::temp_dir().join(format!("wh-load-{}", std::process::id()));
    let json = dir.join("load.json");
    let (code, stdout, stderr) = harness(&[
        "load",
        "--deliveries",
        "300",
        "--concurrency",
        "4",
        "--report-json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_contains_all(
        &stdout,
        &[
            "closed loop, 4 in flight",
            "deliveries      300 +",
            "latency         p50",
            "idempotency",
            "ok: no idempotency violation",
        ],
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["deliveries"], 300);
    assert!(report["latency"]["p99_us"].as_u64().is_some());

    let (_rt, failing) = background_receiver(common::Bug::FailsOneInTen);
    let (code, stdout, _) = harness(&[
        "load",
        "--url",
        &failing.url(),
        "--webhook-id",
        common::WEBHOOK_ID,
        "--deliveries",
        "200",
        "--retries",
        "0",
        "--duplicates",
        "0%",
        "--max-error-rate",
        "5%",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("FAIL: error rate 10.00% is above --max-error-rate 5.00%"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_secret_appears_in_no_artifact() {
    let secret = common::WEBHOOK_ID;
    let dir = std::env::temp_dir().join(format!("wh-secret-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let mut outputs = Vec::new();

    // A receiver that echoes the webhook id in every answer.
    let (_rt, echo) = background_receiver(common::Bug::None);
    let (code, out, err) = harness_with(
        &[
            "run",
            "--url",
            &echo.url(),
            "--effects-url",
            &echo.effects_url(),
            "--webhook-id",
            secret,
            "--report-json",
            &path("run.json"),
            "--report-junit",
            &path("run.xml"),
            "--snapshots",
            &path("snaps"),
        ],
        false,
        "",
    );
    assert_eq!(code, 0, "the run passes: {out}{err}");
    outputs.extend([out, err]);
    let (_rt2, buggy) = background_receiver(common::Bug::RequiresUsage);
    let (code, out, err) = harness_with(
        &[
            "fuzz",
            "--url",
            &buggy.url(),
            "--effects-url",
            &buggy.effects_url(),
            "--webhook-id",
            secret,
            "--seed",
            "2",
            "--cases",
            "300",
            "--only",
            "valid",
            "--out",
            &path("findings"),
            "--report-json",
            &path("fuzz.json"),
            "--report-junit",
            &path("fuzz.xml"),
        ],
        false,
        "",
    );
    assert_eq!(code, 1, "fuzz should find the bug: {out}");
    outputs.extend([out, err]);
    let (code, out, err) = harness_with(
        &[
            "load",
            "--url",
            &echo.url(),
            "--effects-url",
            &echo.effects_url(),
            "--webhook-id",
            secret,
            "--deliveries",
            "200",
            "--report-json",
            &path("load.json"),
        ],
        false,
        "",
    );
    assert_eq!(code, 0, "the load passes: {out}{err}");
    outputs.extend([out, err]);
    // The reference receiver's log, on port 0 (the port read back), kept in a file.
    let mut receiver = Command::new(BIN)
        .args(["receive", "--port", "0", "--webhook-id", secret])
        .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(receiver.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("Listening on ").unwrap().to_owned();
    let log_path = dir.join("receiver.log");
    let log_copy = log_path.clone();
    let logger = std::thread::spawn(move || {
        use std::io::Write;
        let mut log = std::fs::File::create(log_copy).unwrap();
        for line in lines.map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
        }
    });
    let mut code = -1;
    for _ in 0..50 {
        let (c, out, err) = harness(&[
            "send",
            "generation",
            "--url",
            &url,
            "--webhook-id",
            secret,
            "--retries",
            "0",
        ]);
        code = c;
        if c == 0 {
            outputs.extend([out, err]);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(code, 0, "the receiver did not come up");
    let _ = receiver.kill();
    let _ = receiver.wait();
    logger.join().unwrap();
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logged.contains("received generation.completed") && logged.contains("Ah*******"),
        "{logged}"
    );

    fn files(dir: &std::path::Path, into: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                files(&p, into)
            } else {
                into.push(p)
            }
        }
    }
    let mut written = Vec::new();
    files(&dir, &mut written);
    assert!(
        written.len() >= 8,
        "expected reports, snapshots and findings: {written:?}"
    );
    for file in &written {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        assert!(
            !text.contains(secret),
            "the secret is in {}",
            file.display()
        );
    }
    for (i, text) in outputs.iter().enumerate() {
        assert!(
            !text.contains(secret),
            "the secret is in output {i}:\n{text}"
        );
    }
    assert!(
        outputs.iter().any(|o| o.contains("Ah*******")),
        "the masked form is shown"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn payload_masks_the_webhook_id_unless_asked() {
    let (_, masked, _) = harness(&["payload", "test", "--webhook-id", "AhALzdz8S"]);
    assert!(
        !masked.contains("AhALzdz8S") && masked.contains("\"webhook_id\": \"Ah*******\""),
        "{masked}"
    );
    let (_, shown, _) = harness(&[
        "payload",
        "test",
        "--webhook-id",
        "AhALzdz8S",
        "--show-secrets",
    ]);
    assert!(shown.contains("\"webhook_id\": \"AhALzdz8S\""), "{shown}");
}

#[test]
fn a_closed_output_pipe_ends_every_command_quietly() {
    let receiver = start_receiver(&[]);
    let url = receiver.url.clone();
    for command in [
        "payload generation".to_owned(),
        "list".to_owned(),
        "schema".to_owned(),
        "run".to_owned(),
        format!("send generation --url {url}"),
        "fuzz --cases 200 --seed 1".to_owned(),
        "load --deliveries 200".to_owned(),
    ] {
        let script =
            format!("'{BIN}' {command} | head -c 1 >/dev/null; echo \"status=${{PIPESTATUS[0]}}\"");
        let out = Command::new("bash")
            .args(["-c", &script])
            .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{command}: {stderr}");
        let status = stdout.trim().strip_prefix("status=").unwrap_or("?");
        // 0 when everything fit in the pipe before it closed; 141 when the
        // process ended on SIGPIPE, quietly, as `cat` does. Never 101.
        assert!(
            status == "0" || status == "141",
            "{command}: status {status}, {stderr}"
        );
    }
}

#[test]
fn https_against_a_plain_http_receiver_is_said_at_once() {
    let receiver = start_receiver(&[]);
    let https = receiver.url.replace("http://", "https://");
    for command in ["run", "fuzz"] {
        let (code, _, stderr) = harness(&[command, "--url", &https]);
        assert_eq!(code, 3, "{stderr}");
        assert_contains_all(&stderr, &["speaks plain HTTP", "Use http:// in --url."]);
        // Said once, with what to do.
        assert_eq!(stderr.matches("plain HTTP").count(), 1, "{stderr}");
    }
}

#[test]
fn strict_fails_a_run_that_could_not_check_effects() {
    let receiver = start_receiver(&["--webhook-id", common::WEBHOOK_ID]);
    let url = receiver.url.clone();
    let id = common::WEBHOOK_ID;
    let (code, stdout, _) = harness(&["run", "--url", &url, "--webhook-id", id]);
    assert_eq!(code, 0, "{stdout}");
    assert_contains_all(&stdout, &["hint: pass --effects-url"]);
    let (code, stdout, _) = harness(&["run", "--url", &url, "--webhook-id", id, "--strict"]);
    assert_eq!(code, 1, "{stdout}");
    assert_contains_all(
        &stdout,
        &["FAIL (--strict): 11 cases were not verified (skipped)"],
    );
    let (code, stdout, _) = harness(&[
        "load",
        "--url",
        &url,
        "--webhook-id",
        id,
        "--deliveries",
        "100",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert_contains_all(&stdout, &["idempotency not checked (pass --effects-url"]);
    assert!(!stdout.contains("no idempotency violation"), "{stdout}");
}

#[test]
fn one_mistake_leads_the_report_with_one_diagnosis() {
    // The receiver expects its own id; the run sends the default one.
    let receiver = start_receiver(&["--webhook-id", "another-id"]);
    let dir = std::env::temp_dir().join(format!("wh-diagnosis-{}", std::process::id()));
    let (json, junit) = (dir.join("run.json"), dir.join("junit.xml"));
    let (code, stdout, _) = harness(&[
        "run",
        "--url",
        &receiver.url,
        "--timeout",
        "5s",
        "--report-json",
        json.to_str().unwrap(),
        "--report-junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert_contains_all(
        &stdout,
        &[
            "(the default webhook id: pass --webhook-id",
            "diagnosis: ",
            "deliveries were answered 401",
            "the run used the default webhook id",
        ],
    );
    assert_eq!(stdout.matches("diagnosis:").count(), 1, "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["diagnosis"]["cause"], "webhook-id-rejected");
    assert_eq!(report["diagnosis"]["status"], 401);
    assert!(
        report["diagnosis"]["message"]
            .as_str()
            .unwrap()
            .contains("--webhook-id")
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("name=\"diagnosis\""), "{xml}");

    // The right id, but the server's root instead of its webhook route.
    let root = receiver.url.replace("/webhook", "/");
    let (code, stdout, _) = harness(&[
        "run",
        "--url",
        &root,
        "--webhook-id",
        "another-id",
        "--timeout",
        "5s",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert_contains_all(
        &stdout,
        &[
            "diagnosis: ",
            "deliveries were answered 404",
            "--url must name the webhook route itself",
        ],
    );
    assert!(!stdout.contains("default webhook id"), "{stdout}");

    // A correct run is not diagnosed.
    let (code, stdout, _) = harness(&[
        "run",
        "--url",
        &receiver.url,
        "--webhook-id",
        "another-id",
        "--report-json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(!stdout.contains("diagnosis"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(report["diagnosis"].is_null());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_diagnosis_comes_before_the_failures_it_explains() {
    // A probe URL with a wrong path: the probe answers 404 to every
    // question, and every case that reads an effect count fails for it.
    let receiver = start_receiver(&["--webhook-id", "another-id"]);
    let probe = receiver.url.replace("/webhook", "/effect?key={key}");
    let dir = std::env::temp_dir().join(format!("wh-probe-404-{}", std::process::id()));
    let json = dir.join("run.json");
    let (code, stdout, _) = harness(&[
        "run",
        "--url",
        &receiver.url,
        "--webhook-id",
        "another-id",
        "--effects-url",
        &probe,
        "--report-json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(stdout.matches("diagnosis:").count(), 1, "{stdout}");
    assert_contains_all(
        &stdout,
        &[
            "diagnosis: the effects probe answered 404 every time (",
            "check --effects-url",
            "explained by the diagnosis above",
        ],
    );
    // The diagnosis leads: no failure's reasons come before it.
    let lead = stdout.find("diagnosis:").unwrap();
    assert!(
        stdout
            .find("\n     Expected: ")
            .is_none_or(|first| first > lead),
        "{stdout}"
    );
    // No failure blames a race or a retry: each is marked as explained.
    let blocks = stdout[lead..]
        .lines()
        .filter(|l| l.starts_with("FAIL ") || l.starts_with("warn "))
        .count();
    assert!(blocks > 0, "{stdout}");
    assert_eq!(
        stdout.matches("explained by the diagnosis above").count(),
        blocks,
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["diagnosis"]["cause"], "effects-probe-failed");
    assert_eq!(report["diagnosis"]["status"], 404);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn completions_and_the_manual_page_are_printed() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, stdout, stderr) = harness(&["completions", shell]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stdout.contains("replay") && stdout.contains("--serve"),
            "{shell}: {stdout}"
        );
    }
    let (code, stdout, _) = harness(&["man"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with(".ie") && stdout.contains(".TH webhook-harness 1"),
        "{stdout}"
    );
    let (code, _, stderr) = harness(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn a_config_file_sets_defaults_below_flags_and_environment() {
    let receiver = start_receiver(&["--webhook-id", "from-file-var"]);
    let dir = std::env::temp_dir().join(format!("wh-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("webhook-harness.toml"),
        format!(
            "url = \"{}\"\nwebhook-id-env = \"MY_HOOK_ID\"\ntimeout = \"5s\"\njobs = 4\nreport-junit = \"reports/junit.xml\"\n",
            receiver.url
        ),
    )
    .unwrap();
    let var = [("MY_HOOK_ID", "from-file-var")];
    let (code, stdout, _) =
        common::process::harness_in(&dir, &["config", "run", "--jobs", "2"], &var);
    assert_eq!(code, 0, "{stdout}");
    assert_contains_all(
        &stdout,
        &[
            "jobs             2  (flag)",
            "timeout          5s  (config file)",
            "webhook-id       fr*********** (config file)"
                .replace("* (", "*  (")
                .as_str(),
            "retries          3  (default)",
        ],
    );
    assert!(
        !stdout.contains("from-file-var"),
        "the id is masked: {stdout}"
    );
    let both = [
        ("MY_HOOK_ID", "from-file-var"),
        ("WEBHOOK_HARNESS_WEBHOOK_ID", "zz-env"),
    ];
    let (_, stdout, _) = common::process::harness_in(&dir, &["config", "run"], &both);
    assert!(
        stdout.contains("(environment)") && stdout.contains("zz****"),
        "{stdout}"
    );
    // A run takes the URL, the id and the report path from the file.
    let (code, stdout, stderr) =
        common::process::harness_in(&dir, &["run", "--filter", "events.generation-*"], &var);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(dir.join("reports/junit.xml").is_file());
    // Mistakes in the file say where.
    std::fs::write(dir.join("bad.toml"), "url = \"x\"\ntimout = \"5s\"\n").unwrap();
    let (code, _, stderr) =
        common::process::harness_in(&dir, &["--config", "bad.toml", "run"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("bad.toml:2:1: unknown field `timout`"),
        "{stderr}"
    );
    std::fs::write(dir.join("secret.toml"), "webhook-id = \"whsec_live_1\"\n").unwrap();
    let (code, _, stderr) =
        common::process::harness_in(&dir, &["--config", "secret.toml", "run"], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("never goes in the file"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn schema_prints_the_committed_schemas() {
    // The files themselves are checked against the model by unit tests.
    for (args, file) in [
        (&["schema"][..], "schema/scenario.schema.json"),
        (
            &["schema", "--config-file"][..],
            "schema/config.schema.json",
        ),
    ] {
        let committed =
            std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let (code, printed, _) = harness(args);
        assert_eq!(code, 0);
        assert_eq!(committed, printed, "{args:?} should print {file}");
    }
}

/// `text` URL-encoded as a form encoder does (unreserved bytes kept).
fn url_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A receiver whose failing answers echo the webhook id it was sent, as
/// written, URL-encoded and JSON-escaped, in the body and in a header.
fn echoing_receiver() -> (tokio::runtime::Runtime, String) {
    use axum::http::{HeaderMap, StatusCode};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(async {
        let echo = |headers: HeaderMap| async move {
            let id = headers
                .get("x-inference-webhook-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let escaped: String = id.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
            let encoded: String = url_encode(&id);
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [("x-echo", id.clone())],
                format!(r#"{{"error":"cannot handle webhook {id}","escaped":"{escaped}","url":"/webhook?id={encoded}"}}"#),
            )
        };
        let app = axum::Router::new().route(
            "/webhook",
            axum::routing::post(echo).options(|| async { StatusCode::OK }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    });
    (rt, url)
}

/// Every artifact of a failing run and of a fuzz finding, against a
/// receiver that echoes the id in its failing answers: the console, JSON,
/// JUnit, HTML, Markdown, the step summary, snapshots and reproducers.
#[test]
fn a_receiver_that_echoes_the_id_leaks_it_into_no_artifact() {
    // Reserved characters, so that its URL-encoded and JSON-escaped forms
    // differ from it.
    let secret = "Ah/AL+zd z8S=";
    let (_rt, url) = echoing_receiver();
    let dir = std::env::temp_dir().join(format!("wh-echo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let summary = path("step-summary.md");
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
            .env_remove("CI")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let mut outputs = Vec::new();
    let (code, out) = run(&[
        "run",
        "--url",
        &url,
        "--webhook-id",
        secret,
        "--retries",
        "0",
        "--filter",
        "events.*",
        "--report-json",
        &path("run.json"),
        "--report-junit",
        &path("run.xml"),
        "--report-html",
        &path("run.html"),
        "--report-markdown",
        &path("run.md"),
        "--snapshots",
        &path("snaps"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("cannot handle webhook"),
        "the answer is shown: {out}"
    );
    outputs.push(out);
    let (code, out) = run(&[
        "fuzz",
        "--url",
        &url,
        "--webhook-id",
        secret,
        "--seed",
        "1",
        "--cases",
        "20",
        "--only",
        "valid",
        "--max-shrink-steps",
        "5",
        "--out",
        &path("findings"),
        "--report-json",
        &path("fuzz.json"),
        "--report-markdown",
        &path("fuzz.md"),
    ]);
    assert_eq!(code, 1, "{out}");
    outputs.push(out);

    let mut written = Vec::new();
    let mut folders = vec![dir.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                folders.push(p);
            } else {
                written.push(p);
            }
        }
    }
    for name in [
        "run.json",
        "run.xml",
        "run.html",
        "run.md",
        "step-summary.md",
        "fuzz.md",
    ] {
        assert!(written.contains(&dir.join(name)), "{name} was not written");
    }
    assert!(
        written.iter().any(|p| p.starts_with(dir.join("findings"))),
        "{written:?}"
    );
    let escaped: String = secret
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let encoded = url_encode(secret);
    for p in &written {
        let text = String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
        for form in [secret, escaped.as_str(), encoded.as_str()] {
            assert!(
                !text.contains(form),
                "{} holds the id as {form}",
                p.display()
            );
        }
    }
    for out in &outputs {
        assert!(!out.contains(secret), "the console shows the id:\n{out}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
