//! The library without the `cli` feature, as a receiver's own tests depend
//! on it (`default-features = false`): none of the command line's crates.

use std::process::Command;

#[test]
fn the_library_alone_depends_on_none_of_the_command_lines_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--locked",
            "--no-default-features",
            "--edges",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(crates.contains(&"tokio"), "{tree}");
    for cli_only in [
        "clap",
        "clap_complete",
        "clap_mangen",
        "indicatif",
        "console",
        "toml",
    ] {
        assert!(
            !crates.contains(&cli_only),
            "{cli_only} is built for the library alone"
        );
    }
    // And the full build has them: the test can fail.
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "tree", "--locked", "--edges", "normal", "--prefix", "none", "--format", "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let full = String::from_utf8_lossy(&out.stdout);
    assert!(full.lines().any(|l| l.starts_with("clap ")), "{full}");
}

/// A small axum receiver, written as a Rust customer writes one, run through
/// the library's one builder: the suite passes under `--strict`'s rule and
/// a JUnit file is written; the same receiver without its dedupe fails the
/// idempotency cases.
mod axum_receiver {
    use std::collections::{HashMap, HashSet};
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::{DefaultBodyLimit, State};
    use axum::http::{HeaderMap, StatusCode, Uri};
    use axum::routing::{get, post};

    pub const WEBHOOK_ID: &str = "AhALzdz8S";

    #[derive(Default)]
    pub struct Handled {
        dedupe: bool,
        seen: Mutex<HashSet<String>>,
        counts: Mutex<HashMap<String, u64>>,
    }

    fn key(body: &serde_json::Value) -> Option<String> {
        let at = |path: &[&str]| {
            let mut v = body;
            for p in path {
                v = v.get(p)?;
            }
            v.as_str().map(str::to_owned)
        };
        at(&["groupId"])
            .or_else(|| at(&["group_id"]))
            .or_else(|| at(&["generation_id"]))
            .or_else(|| at(&["data", "id"]))
    }

    async fn webhook(
        State(handled): State<Arc<Handled>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        if headers
            .get("x-inference-webhook-id")
            .and_then(|v| v.to_str().ok())
            != Some(WEBHOOK_ID)
        {
            return StatusCode::UNAUTHORIZED;
        }
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return StatusCode::BAD_REQUEST;
        };
        let Some(key) = key(&json) else {
            return StatusCode::BAD_REQUEST;
        };
        // Claimed in one step (a test's store; production's is a table).
        if handled.dedupe && !handled.seen.lock().unwrap().insert(key.clone()) {
            return StatusCode::OK;
        }
        *handled.counts.lock().unwrap().entry(key).or_default() += 1;
        StatusCode::OK
    }

    async fn effects(State(handled): State<Arc<Handled>>, uri: Uri) -> String {
        let key = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .find(|(k, _)| k == "key")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        handled
            .counts
            .lock()
            .unwrap()
            .get(&key)
            .copied()
            .unwrap_or(0)
            .to_string()
    }

    /// Serves it on a port of its own; its base URL.
    pub async fn start(dedupe: bool) -> String {
        let handled = Arc::new(Handled {
            dedupe,
            ..Handled::default()
        });
        let app = Router::new()
            .route(
                "/webhook",
                post(webhook).options(|| async { StatusCode::OK }),
            )
            .route("/test/effects", get(effects))
            .layer(DefaultBodyLimit::max(16 << 20))
            .with_state(handled);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receivers_own_test_runs_the_suite_and_writes_junit() {
    use webhook_harness::conformance::Conformance;
    let base = axum_receiver::start(true).await;
    let report = Conformance::new(format!("{base}/webhook"))
        .webhook_id(axum_receiver::WEBHOOK_ID)
        .effects_url(format!("{base}/test/effects?key={{key}}"))
        .jobs(4)
        .run()
        .await
        .unwrap();
    assert!(report.passed(true), "{}", report.failures_text());
    let junit = report.junit().unwrap();
    let path = std::env::temp_dir().join(format!("wh-library-junit-{}.xml", std::process::id()));
    std::fs::write(&path, &junit).unwrap();
    assert!(
        junit.contains("<testcase name=\"idempotency.concurrent-copies\""),
        "{junit}"
    );
    assert!(
        !junit.contains(axum_receiver::WEBHOOK_ID),
        "the id is masked"
    );
    let _ = std::fs::remove_file(path);

    // Without its dedupe, the same receiver fails, and says where.
    let base = axum_receiver::start(false).await;
    let report = Conformance::new(format!("{base}/webhook"))
        .webhook_id(axum_receiver::WEBHOOK_ID)
        .effects_url(format!("{base}/test/effects?key={{key}}"))
        .filter("idempotency.*")
        .run()
        .await
        .unwrap();
    assert!(!report.passed(false));
    let failed: Vec<&str> = report.failures().iter().map(|c| c.id.as_str()).collect();
    assert!(
        failed.contains(&"idempotency.sequential-duplicate"),
        "{failed:?}"
    );
    assert!(
        report.failures_text().contains("effect count 2"),
        "{}",
        report.failures_text()
    );
}
