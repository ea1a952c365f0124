//! The example receivers of `examples/receivers/` (Express 5, FastAPI, Bun,
//! axum) pass the built-in suite under `--strict` with no warning, its
//! durability cases included (restarts, two replicas sharing one SQLite
//! file), and survive 2000 fuzz cases and a short `load`, each started by the
//! harness itself (`--serve`, two replicas) through its `run.sh` on ports of
//! its own choosing.
//!
//! `.ci/run` installs what they need first (`run.sh --install`: npm, pip into
//! a venv, Bun from npm, at pinned versions); without it `run.sh` installs on
//! first use. A runtime that is missing fails the test with `run.sh`'s own
//! message (as the receiver's output in the harness's error), never a skip.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Not the default id: the receivers must be given the one the run sends.
const WEBHOOK_ID: &str = "ExAmPle7Id";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wh-examples-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The arguments that start `name`'s receiver: two replicas, each on a
/// port of its choosing, sharing the database `harness` points them at.
fn target(name: &str) -> Vec<String> {
    let run_sh = repo().join("examples/receivers").join(name).join("run.sh");
    assert!(run_sh.exists(), "{} is missing", run_sh.display());
    vec![
        "--url".into(),
        "http://127.0.0.1:0/webhook".into(),
        "--effects-url".into(),
        "http://127.0.0.1:0/test/effects?key={key}".into(),
        "--webhook-id".into(),
        WEBHOOK_ID.into(),
        "--serve".into(),
        format!("'{}' \"$PORT\"", run_sh.display()),
        "--serve-replicas".into(),
        "2".into(),
        // The first start may install dependencies or build the axum example.
        "--serve-timeout".into(),
        "600s".into(),
    ]
}

/// The harness in `dir`, the receivers it serves keeping their database
/// there (`WEBHOOK_HARNESS_DB`): one file both replicas and every restart
/// share, fresh for each test.
fn harness(dir: &Path, args: &[String]) -> (i32, String, String) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let db = dir.join("webhooks.sqlite3");
    let db = db.to_str().unwrap();
    common::process::harness_in(dir, &args, &[("WEBHOOK_HARNESS_DB", db)])
}

/// The built-in suite under `--strict`: every case passes, none warns or is
/// skipped.
fn passes_the_suite(name: &str) {
    let dir = temp_dir(name);
    let mut args: Vec<String> = vec!["run".into(), "--strict".into()];
    args.extend(target(name));
    args.extend(["--report-json".into(), "report.json".into()]);
    let (code, out, err) = harness(&dir, &args);
    assert_eq!(code, 0, "{name}: the suite failed\n{out}\n{err}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let summary = &report["summary"];
    assert_eq!(
        summary["passed"], summary["total"],
        "{name}: {summary}\n{out}"
    );
    assert!(summary["total"].as_u64().unwrap() >= 34, "{summary}");
    for field in ["failed", "warnings", "skipped", "not_run", "not_applicable"] {
        assert_eq!(summary[field], 0, "{name}: {field} in {summary}\n{out}");
    }
    // The effects probe was used: the idempotency cases were checked, not
    // skipped; and the durability cases ran (a restart, two replicas).
    let cases = report["cases"].as_array().unwrap();
    for id in [
        "idempotency.concurrent-copies",
        "durability.effect-survives-restart",
        "durability.duplicate-after-restart",
        "durability.duplicate-on-another-replica",
        "durability.concurrent-copies-on-replicas",
    ] {
        assert!(
            cases
                .iter()
                .any(|c| c["id"] == id && c["status"] == "passed"),
            "{name}: {id} did not pass\n{out}"
        );
    }
}

/// `fuzz --cases 2000`: no finding.
fn survives_fuzzing(name: &str) {
    let dir = temp_dir(&format!("{name}-fuzz"));
    let mut args: Vec<String> = vec!["fuzz".into(), "--cases".into(), "2000".into()];
    args.extend(target(name));
    let (code, out, err) = harness(&dir, &args);
    assert_eq!(code, 0, "{name}: fuzzing found something\n{out}\n{err}");
    assert!(
        out.contains("2000 cases") && out.contains("0 findings"),
        "{out}\n{err}"
    );
    assert!(
        !dir.join("fuzz-findings").exists(),
        "{name}: reproducers were written"
    );
}

/// `load`, 400 deliveries over 8 connections, one in ten duplicated: every
/// delivery answered 2xx on the framework's own keep-alive habits, no error,
/// no key with a double effect.
fn takes_load(name: &str) {
    let dir = temp_dir(&format!("{name}-load"));
    let mut args: Vec<String> = ["load", "--deliveries", "400", "--concurrency", "8"]
        .map(String::from)
        .to_vec();
    args.extend(["--duplicates".into(), "10%".into()]);
    args.extend(target(name));
    args.extend(["--report-json".into(), "load.json".into()]);
    let (code, out, err) = harness(&dir, &args);
    assert_eq!(code, 0, "{name}: load failed\n{out}\n{err}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("load.json")).unwrap()).unwrap();
    assert_eq!(report["deliveries"], 400, "{name}: {report}");
    // Every copy (duplicates too) delivered, each answered 2xx.
    assert_eq!(report["delivered"], report["requests"], "{name}: {report}");
    assert!(
        report["duplicates"].as_u64().unwrap() > 0,
        "{name}: {report}"
    );
    assert_eq!(
        report["requests"], report["status"]["2xx"],
        "{name}: {report}"
    );
    for field in ["failed", "timeouts", "connection_errors"] {
        assert_eq!(report[field], 0, "{name}: {field} in {report}");
    }
    assert_eq!(
        report["violations"],
        serde_json::json!([]),
        "{name}: {report}"
    );
    assert!(report["probed"].as_u64().unwrap() > 0, "{name}: {report}");
}

fn check(name: &str) {
    passes_the_suite(name);
    survives_fuzzing(name);
    takes_load(name);
}

#[test]
fn express_receiver_is_correct() {
    check("express");
}

#[test]
fn fastapi_receiver_is_correct() {
    check("fastapi");
    passes_the_readmes_python_ci_step();
}

/// The test step of the README's Python (FastAPI) CI job, run as a shell
/// runs it in a checkout laid out as the FastAPI example: its `app.py` in
/// the working folder, its uvicorn on PATH (from the example's venv), the
/// harness on PATH.
fn passes_the_readmes_python_ci_step() {
    let readme = std::fs::read_to_string(repo().join("docs/ci.md")).unwrap();
    let block = readme
        .split_once("<!-- ci: github-python -->\n```yaml\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .map(|(yaml, _)| yaml)
        .expect("docs/ci.md has a github-python CI block");
    let job: Value = serde_saphyr::from_str(block).unwrap();
    let command = job["jobs"]["webhook-conformance"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Test the webhook receiver")
        .and_then(|s| s["run"].as_str())
        .expect("a step named `Test the webhook receiver`")
        .to_owned();
    let example = repo().join("examples/receivers/fastapi");
    let dir = temp_dir("fastapi-ci");
    std::fs::copy(example.join("app.py"), dir.join("app.py")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_webhook-harness"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}:{}",
        example.join(".venv/bin").display(),
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &command])
        .current_dir(&dir)
        .env("PATH", path)
        .env("WEBHOOK_HARNESS_WEBHOOK_ID", WEBHOOK_ID)
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("CI")
        .output()
        .unwrap();
    let said = format!(
        "{command}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains(" passed, 0 failed, 0 warnings, 0 skipped"),
        "{said}"
    );
    assert!(dir.join("reports/junit.xml").is_file(), "{said}");
}

#[test]
fn bun_receiver_is_correct() {
    check("bun");
}

#[test]
fn axum_receiver_is_correct() {
    check("axum");
}
