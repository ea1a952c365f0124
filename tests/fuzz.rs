//! `fuzz` against receivers with bugs only generated inputs reveal: each is
//! found within a bounded number of cases at a fixed seed, shrunk, and its
//! written reproducer replays the failure through `run`.

mod common;

use std::time::Duration;

use common::{Bug, TestReceiver, WEBHOOK_ID};
use webhook_harness::fuzz::{self, Category, FuzzConfig, reproducer};
use webhook_harness::runner::{self, CaseStatus};
use webhook_harness::scenario;
use webhook_harness::sender::SenderConfig;

fn config(receiver: &TestReceiver, seed: u64, cases: u64, only: Option<Category>) -> FuzzConfig {
    FuzzConfig {
        url: receiver.url(),
        webhook_id: WEBHOOK_ID.into(),
        effects_url: Some(receiver.effects_url()),
        cases,
        seed,
        timeout: Duration::from_secs(5),
        jobs: 8,
        only,
        max_findings: 1,
        max_shrink_steps: 300,
        tls: Default::default(),
        max_shrink_time: webhook_harness::fuzz::DEFAULT_MAX_SHRINK_TIME,
        stop: Default::default(),
        ..Default::default()
    }
}

/// Fuzzes a buggy receiver, checks the finding, replays its reproducer
/// against the buggy receiver (still failing) and a correct one (fixed).
async fn find_and_replay(
    bug: Bug,
    only: Option<Category>,
    cases: u64,
    reason: &str,
) -> fuzz::Finding {
    let receiver = TestReceiver::start(bug).await;
    let outcome = fuzz::run(&config(&receiver, 7, cases, only), |_| {})
        .await
        .unwrap();
    assert_eq!(
        outcome.findings.len(),
        1,
        "{bug:?} not found in {cases} cases"
    );
    let finding = outcome.findings[0].clone();
    assert!(
        finding.reason.contains(reason),
        "{bug:?}: {}",
        finding.reason
    );

    let dir = std::env::temp_dir().join(format!("wh-fuzz-{bug:?}-{}", std::process::id()));
    let (yaml, _) = reproducer::write(&dir, 7, &finding, WEBHOOK_ID).unwrap();
    let text = std::fs::read_to_string(&yaml).unwrap();
    assert!(
        !text.contains(WEBHOOK_ID),
        "the reproducer embeds the secret:\n{text}"
    );
    let scenarios = scenario::load(std::slice::from_ref(&dir)).unwrap();
    for (target, expected) in [(bug, CaseStatus::Failed), (Bug::None, CaseStatus::Passed)] {
        let receiver = TestReceiver::start(target).await;
        let run = common::run_config(
            receiver.url(),
            WEBHOOK_ID,
            Some(receiver.effects_url()),
            SenderConfig::default(),
            1,
        );
        let replay = runner::run(&run, scenarios.clone(), |_| {}).await.unwrap();
        let case = &replay.cases[0];
        assert!(case.finding);
        assert_eq!(
            case.status(),
            expected,
            "replay against {target:?}: {}\n{text}",
            case.message()
        );
    }
    let _ = std::fs::remove_dir_all(dir);
    finding
}

#[tokio::test]
async fn finds_non_ascii_deep_in_response() {
    let finding = find_and_replay(Bug::NonAsciiInResponse, Some(Category::Valid), 400, "500").await;
    let json: serde_json::Value = serde_json::from_slice(&finding.input.body).unwrap();
    let response = json["data"]["response"].to_string();
    let non_ascii: Vec<char> = response.chars().filter(|c| !c.is_ascii()).collect();
    assert_eq!(
        non_ascii.len(),
        1,
        "shrunk to one offending character: {response}"
    );
}

#[tokio::test]
async fn finds_missing_usage() {
    let finding = find_and_replay(Bug::RequiresUsage, Some(Category::Valid), 400, "500").await;
    let json: serde_json::Value = serde_json::from_slice(&finding.input.body).unwrap();
    assert_eq!(json["event"], "generation.completed");
    assert!(json["data"].get("usage").is_none());
    assert!(
        finding.input.body.len() < 3000,
        "shrunk: {} bytes",
        finding.input.body.len()
    );
}

#[tokio::test]
async fn finds_5xx_for_a_top_level_array() {
    let finding = find_and_replay(
        Bug::ArrayIs500,
        Some(Category::Invalid),
        400,
        "a 5xx makes the sender retry",
    )
    .await;
    assert_eq!(finding.input.body, b"[]", "shrunk to the simplest array");
}

#[tokio::test]
async fn finds_a_body_limit_below_10_mb() {
    let finding = find_and_replay(Bug::SmallBodyLimit, Some(Category::Valid), 600, "413").await;
    let size = finding.input.body.len();
    assert!(
        (1_000_000..1_100_000).contains(&size),
        "shrunk near the 1 MB limit: {size}"
    );
}

#[tokio::test]
async fn correct_receiver_survives_thousands_of_cases() {
    let receiver = TestReceiver::start(Bug::None).await;
    let outcome = fuzz::run(&config(&receiver, 11, 2000, None), |_| {})
        .await
        .unwrap();
    let reasons: Vec<&str> = outcome.findings.iter().map(|f| f.reason.as_str()).collect();
    assert!(outcome.findings.is_empty(), "{reasons:?}");
    assert_eq!(outcome.cases_run, 2000);
    assert_eq!(outcome.per_category.len(), 3, "all three kinds generated");
}

#[tokio::test]
async fn same_seed_same_cases() {
    let receiver = TestReceiver::start(Bug::RequiresUsage).await;
    let a = fuzz::run(&config(&receiver, 99, 300, Some(Category::Valid)), |_| {})
        .await
        .unwrap();
    let b = fuzz::run(&config(&receiver, 99, 300, Some(Category::Valid)), |_| {})
        .await
        .unwrap();
    assert_eq!(a.findings.len(), 1);
    assert_eq!(a.findings[0].case, b.findings[0].case);
    assert_eq!(
        a.findings[0].input.description,
        b.findings[0].input.description
    );
}

/// A receiver that records the key and then crashes answers a replay with
/// the same key as a duplicate: every reproducer must use fresh keys on each
/// replay, whatever kind of input it holds, or it says `fixed` falsely.
#[tokio::test]
async fn replays_use_fresh_keys_for_every_kind_of_input() {
    let receiver = TestReceiver::start(Bug::RecordsThenCrashes).await;
    for (i, only) in [Category::Valid, Category::Invalid, Category::Headers]
        .into_iter()
        .enumerate()
    {
        let mut fuzz_config = config(&receiver, 5, 50, Some(only));
        fuzz_config.effects_url = None;
        fuzz_config.max_shrink_steps = 10;
        let outcome = fuzz::run(&fuzz_config, |_| {}).await.unwrap();
        let finding = outcome.findings.first().expect("a finding");
        let dir = std::env::temp_dir().join(format!("wh-fresh-keys-{}-{i}", std::process::id()));
        let (yaml, _) = reproducer::write(&dir, 5, finding, WEBHOOK_ID).unwrap();
        let scenarios = scenario::load(&[yaml]).unwrap();
        for replay in 1..=2 {
            let run =
                common::run_config(receiver.url(), WEBHOOK_ID, None, SenderConfig::default(), 1);
            let outcome = runner::run(&run, scenarios.clone(), |_| {}).await.unwrap();
            assert_eq!(
                outcome.cases[0].status(),
                CaseStatus::Failed,
                "{only:?} replay {replay} says fixed:\n{}",
                std::fs::read_to_string(dir.join(format!("fuzz.s5-c{}.yaml", finding.case)))
                    .unwrap_or_default()
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A receiver that answers POST number `n` (from 0) with 500 when
/// `fails(n)`, else 200: its URL and how many POSTs it got.
async fn flaky(
    fails: fn(usize) -> bool,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::http::StatusCode;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let posts = Arc::new(AtomicUsize::new(0));
    let counted = posts.clone();
    let app = axum::Router::new().route(
        "/webhook",
        axum::routing::post(move || {
            let counted = counted.clone();
            async move {
                if fails(counted.fetch_add(1, Ordering::SeqCst)) {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        })
        .options(|| async { StatusCode::OK }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, posts)
}

fn one_valid_case(url: String) -> FuzzConfig {
    FuzzConfig {
        url,
        webhook_id: WEBHOOK_ID.into(),
        cases: 1,
        seed: 11,
        timeout: Duration::from_secs(5),
        jobs: 1,
        only: Some(Category::Valid),
        max_findings: 1,
        max_shrink_steps: 40,
        max_shrink_time: Duration::from_secs(60),
        ..Default::default()
    }
}

/// A receiver whose failures do not repeat (every other POST answered 500):
/// the finding keeps the input as it first failed and says it could not be
/// reproduced, instead of shrinking towards an input that never failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_that_does_not_repeat_is_kept_as_it_failed_and_said_so() {
    use std::sync::atomic::Ordering;
    let (url, posts) = flaky(|n| n % 2 == 0).await;
    let outcome = fuzz::run(&one_valid_case(url), |_| {}).await.unwrap();
    assert_eq!(outcome.findings.len(), 1, "the first POST is answered 500");
    let finding = &outcome.findings[0];
    assert!(!finding.reproduced, "{finding:?}");
    assert_eq!(finding.shrink_steps, 0);
    assert_eq!(
        finding.input.body.len(),
        finding.original_size,
        "the input as it failed"
    );
    assert_eq!(
        posts.load(Ordering::SeqCst),
        2,
        "sent once more, then not shrunk"
    );
    let dir = std::env::temp_dir().join(format!("wh-fuzz-flaky-{}", std::process::id()));
    let (yaml, _) = reproducer::write(&dir, 3, finding, WEBHOOK_ID).unwrap();
    let text = std::fs::read_to_string(&yaml).unwrap();
    assert!(
        text.contains("# Not reproduced: the same input passed when sent again"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);

    // The input fails twice (reproduced), then every candidate fails only
    // every other time: no candidate fails twice in a row, so none is
    // accepted and the finding stays the input that failed.
    let (url, _) = flaky(|n| n < 2 || n % 2 == 0).await;
    let outcome = fuzz::run(&one_valid_case(url), |_| {}).await.unwrap();
    let finding = &outcome.findings[0];
    assert!(finding.reproduced, "{finding:?}");
    assert_eq!(
        finding.shrink_steps, 0,
        "a candidate was accepted on one failure"
    );
    assert_eq!(finding.input.body.len(), finding.original_size);
}
