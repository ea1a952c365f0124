//! Snapshot regression checks: changes in receiver behaviour are caught with
//! a diff, unchanged re-runs are stable, secrets and volatile values are
//! redacted, and the files are insta's format.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use hyper::{Method, StatusCode};
use serde_json::json;
use webhook_harness::receiver::server::{self, Server};
use webhook_harness::receiver::{Receiver, ReceiverConfig};
use webhook_harness::result::SnapshotStatus as Status;
use webhook_harness::runner::{self, RunResult};
use webhook_harness::scenario::{self, Scenario};
use webhook_harness::sender::SenderConfig;
use webhook_harness::snapshot::store::{self, SnapshotMode as Mode};
use webhook_harness::snapshot::{self, Redactions, SnapshotConfig};

const SECRET: &str = "AhALzdz8S";

/// A receiver whose answers change with `variant`: 0 normal, 1 another
/// content type, 2 status 202, 3 another body field. It echoes the webhook id,
/// the key, a timestamp and a UUID, which snapshots must redact.
async fn changing_receiver(variant: Arc<AtomicU8>) -> Server {
    let listener = server::bind(([127, 0, 0, 1], 0).into()).await.unwrap();
    server::serve(listener, move |req| {
        let variant = variant.load(Ordering::SeqCst);
        async move {
            if req.method == Method::OPTIONS {
                return server::respond(StatusCode::OK, "text/plain", "");
            }
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let key = webhook_harness::event::idempotency_key(&body).unwrap_or_default();
            let status = if variant == 2 {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            let content_type = if variant == 1 {
                "application/json; charset=utf-8"
            } else {
                "application/json"
            };
            let answer = json!({
                "received": key,
                "webhook": req.header("x-inference-webhook-id"),
                "at": "2026-11-27T09:15:19.123Z",
                "trace": "0b6c9a3e-8f1d-4e55-9d0c-2b1f7f1f2a11",
                "queued": variant == 3,
            });
            server::respond(status, content_type, answer.to_string())
        }
    })
    .unwrap()
}

fn only(ids: &[&str]) -> Vec<Scenario> {
    scenario::builtin()
        .unwrap()
        .into_iter()
        .filter(|s| ids.contains(&s.case.id.as_str()))
        .collect()
}

async fn run(
    url: &str,
    effects_url: Option<String>,
    scenarios: Vec<Scenario>,
    jobs: usize,
) -> RunResult {
    let config = common::run_config(url, SECRET, effects_url, SenderConfig::default(), jobs);
    runner::run(&config, scenarios, |_| {}).await.unwrap()
}

fn config(dir: &Path, mode: Mode, ci: bool) -> SnapshotConfig {
    SnapshotConfig {
        dir: dir.into(),
        mode,
        ci,
        webhook_id: SECRET.into(),
        redact_fields: vec![],
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wh-snap-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn a_changed_answer_is_caught_with_a_diff() {
    let dir = temp_dir("changes");
    let variant = Arc::new(AtomicU8::new(0));
    let receiver = changing_receiver(variant.clone()).await;
    let url = format!("{}/webhook", receiver.base_url());
    let cases = || only(&["events.generation-completed", "events.webhook-test"]);

    let first = snapshot::check_run(
        &run(&url, None, cases(), 2).await,
        &config(&dir, Mode::Auto, false),
    )
    .unwrap();
    assert!(first.cases.iter().all(|c| c.status == Status::Recorded));
    let again = snapshot::check_run(
        &run(&url, None, cases(), 2).await,
        &config(&dir, Mode::Auto, false),
    )
    .unwrap();
    assert!(
        again.cases.iter().all(|c| c.status == Status::Unchanged),
        "{:?}",
        again.cases
    );

    for (v, expected) in [
        (1, "+      content-type: application/json; charset=utf-8"),
        (2, "+    status: 202"),
        (3, "+      queued: true"),
    ] {
        variant.store(v, Ordering::SeqCst);
        let report = snapshot::check_run(
            &run(&url, None, cases(), 2).await,
            &config(&dir, Mode::Auto, false),
        )
        .unwrap();
        assert!(report.failed());
        let case = &report.cases[0];
        assert_eq!(case.status, Status::Changed);
        let diff = case.diff.as_deref().unwrap();
        assert!(diff.contains(expected), "variant {v}:\n{diff}");
        assert!(case.pending.as_ref().unwrap().exists());
        // The stored snapshot is untouched until the change is accepted.
        assert!(
            !std::fs::read_to_string(&case.file)
                .unwrap()
                .contains(&expected[1..])
        );
    }
    // Back to normal: unchanged again, and the stale pending files are removed.
    variant.store(0, Ordering::SeqCst);
    let report = snapshot::check_run(
        &run(&url, None, cases(), 2).await,
        &config(&dir, Mode::Auto, false),
    )
    .unwrap();
    assert!(!report.failed());
    assert!(store::pending(&dir).unwrap().is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn volatile_values_and_the_secret_are_redacted() {
    let variant = Arc::new(AtomicU8::new(0));
    let receiver = changing_receiver(variant).await;
    let url = format!("{}/webhook", receiver.base_url());
    let outcome = run(&url, None, only(&["events.generation-completed"]), 1).await;
    let case = &outcome.cases[0];
    let redactions = Redactions::for_case(case, &outcome.run_id, SECRET, &["trace".to_owned()]);
    let yaml = snapshot::to_yaml(&snapshot::picture(case, &redactions)).unwrap();
    assert!(!yaml.contains(SECRET), "{yaml}");
    assert!(!yaml.contains(&case.keys[0]), "{yaml}");
    for placeholder in [
        "[webhook-id]",
        "[key-1]",
        "[timestamp]",
        "trace: \"[redacted]\"",
    ] {
        assert!(
            yaml.contains(placeholder),
            "missing {placeholder} in\n{yaml}"
        );
    }
    let without_field = Redactions::for_case(case, &outcome.run_id, SECRET, &[]);
    let yaml = snapshot::to_yaml(&snapshot::picture(case, &without_field)).unwrap();
    assert!(yaml.contains("[uuid]"), "{yaml}");
}

#[tokio::test]
async fn unchanged_reruns_are_stable_with_parallel_jobs() {
    let dir = temp_dir("stable");
    let receiver = Receiver::start_local(ReceiverConfig {
        webhook_id: Some(SECRET.into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let first = run(
        &receiver.url(),
        Some(receiver.effects_url()),
        scenario::builtin().unwrap(),
        1,
    )
    .await;
    snapshot::check_run(&first, &config(&dir, Mode::Auto, false)).unwrap();
    for jobs in [8, 3] {
        let again = run(
            &receiver.url(),
            Some(receiver.effects_url()),
            scenario::builtin().unwrap(),
            jobs,
        )
        .await;
        let report = snapshot::check_run(&again, &config(&dir, Mode::Auto, false)).unwrap();
        let changed: Vec<_> = report
            .cases
            .iter()
            .filter(|c| c.status != Status::Unchanged)
            .map(|c| (&c.id, &c.diff))
            .collect();
        assert!(changed.is_empty(), "churn with --jobs {jobs}: {changed:#?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn files_are_insta_snapshots() {
    let dir = temp_dir("insta");
    let receiver = Receiver::start_local(ReceiverConfig::default())
        .await
        .unwrap();
    let outcome = run(&receiver.url(), None, only(&["readiness.options-2xx"]), 1).await;
    let report = snapshot::check_run(&outcome, &config(&dir, Mode::Auto, false)).unwrap();
    let file = &report.cases[0].file;
    let parsed = insta::Snapshot::from_file(file).unwrap();
    assert_eq!(
        parsed.metadata().expression(),
        Some("readiness.options-2xx")
    );
    let ours = store::read_contents(file).unwrap().unwrap();
    let theirs = parsed.contents().as_text().unwrap().to_string();
    assert_eq!(theirs.trim_end(), ours, "insta reads the same contents");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn modes_and_ci() {
    let dir = temp_dir("modes");
    let receiver = Receiver::start_local(ReceiverConfig::default())
        .await
        .unwrap();
    let outcome = run(&receiver.url(), None, only(&["readiness.options-2xx"]), 1).await;
    let snap = store::snap_path(&dir, "readiness.options-2xx");

    // In CI a missing snapshot is reported, not created; a pending one is written.
    let report = snapshot::check_run(&outcome, &config(&dir, Mode::Auto, true)).unwrap();
    assert_eq!(report.cases[0].status, Status::Missing);
    assert!(report.failed() && !snap.exists() && store::pending_path(&snap).exists());
    // compare writes nothing.
    std::fs::remove_file(store::pending_path(&snap)).unwrap();
    let report = snapshot::check_run(&outcome, &config(&dir, Mode::Compare, false)).unwrap();
    assert_eq!(report.cases[0].status, Status::Missing);
    assert!(!snap.exists() && !store::pending_path(&snap).exists());
    // update records; a second update of the same picture is unchanged.
    let report = snapshot::check_run(&outcome, &config(&dir, Mode::Update, true)).unwrap();
    assert_eq!(report.cases[0].status, Status::Recorded);
    let report = snapshot::check_run(&outcome, &config(&dir, Mode::Update, true)).unwrap();
    assert_eq!(report.cases[0].status, Status::Unchanged);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_picture_is_snapshot_friendly_for_library_users() {
    let receiver = Receiver::start_local(ReceiverConfig::default())
        .await
        .unwrap();
    let outcome = run(
        &receiver.url(),
        Some(receiver.effects_url()),
        only(&["idempotency.sequential-duplicate"]),
        1,
    )
    .await;
    let case = &outcome.cases[0];
    let picture = snapshot::picture(
        case,
        &Redactions::for_case(case, &outcome.run_id, SECRET, &[]),
    );
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_yaml_snapshot!("picture-idempotency.sequential-duplicate", picture);
    });
}
