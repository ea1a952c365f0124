//! `load` against test receivers: counts add up, errors and double effects are
//! seen, and open loop keeps its rate. No timing thresholds.

mod common;

use std::time::Duration;

use common::{Bug, TestReceiver, WEBHOOK_ID};
use webhook_harness::load::{self, LoadConfig, Mix, Until};
use webhook_harness::sender::SenderConfig;

fn config(receiver: &TestReceiver, stop: Until, duplicates: f64, retries: u32) -> LoadConfig {
    LoadConfig {
        url: receiver.url(),
        webhook_id: WEBHOOK_ID.into(),
        concurrency: 8,
        rate: None,
        until: stop,
        mix: Mix::default(),
        duplicates,
        sizes: Default::default(),
        sender: SenderConfig {
            timeout: Duration::from_secs(5),
            retries,
            backoff: Duration::from_millis(1),
            readiness: false,
            title_case_headers: false,
            tls: Default::default(),
        },
        effects_url: Some(receiver.effects_url()),
        unanswered_window: Duration::from_secs(10),
        stop: Default::default(),
    }
}

#[tokio::test]
async fn counts_add_up() {
    let receiver = TestReceiver::start(Bug::None).await;
    let report = load::run(config(&receiver, Until::Deliveries(2000), 0.1, 3), |_| {})
        .await
        .unwrap();
    assert_eq!(report.deliveries, 2000);
    assert!(
        report.duplicates > 100 && report.duplicates < 300,
        "about 10%: {}",
        report.duplicates
    );
    assert_eq!(report.requests, report.deliveries + report.duplicates);
    assert_eq!(report.delivered, report.requests);
    assert_eq!(report.status.success, report.requests);
    assert_eq!(
        (
            report.failed,
            report.retries,
            report.timeouts,
            report.connection_errors
        ),
        (0, 0, 0, 0)
    );
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert!(report.probed >= report.duplicates as usize);
    let keys = receiver.store.count_keys();
    assert_eq!(keys as u64, report.deliveries, "one key per delivery");
    assert!(
        report.latency.p50_us <= report.latency.p99_us
            && report.latency.p99_us <= report.latency.max_us
    );
}

#[tokio::test]
async fn ten_percent_failures_show_as_ten_percent_errors() {
    let receiver = TestReceiver::start(Bug::FailsOneInTen).await;
    let report = load::run(config(&receiver, Until::Deliveries(1000), 0.0, 0), |_| {})
        .await
        .unwrap();
    assert_eq!(
        report.failed, 100,
        "every tenth request failed and was not retried"
    );
    assert!(
        (report.error_rate - 0.1).abs() < 1e-9,
        "{}",
        report.error_rate
    );
    assert_eq!(report.status.server_error, 100);

    // With retries, the sender gets through, and the retries are counted apart.
    let receiver = TestReceiver::start(Bug::FailsOneInTen).await;
    let report = load::run(config(&receiver, Until::Deliveries(1000), 0.0, 3), |_| {})
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(report.requests, 1000 + report.retries);
    assert_eq!(report.status.server_error, report.retries);
}

#[tokio::test]
async fn duplicates_reveal_double_effects() {
    let receiver = TestReceiver::start(Bug::NotIdempotent).await;
    let report = load::run(config(&receiver, Until::Deliveries(500), 0.2, 0), |_| {})
        .await
        .unwrap();
    assert!(report.duplicates > 0);
    assert_eq!(
        report.violations.len() as u64,
        report.duplicates,
        "every duplicated key did its work twice"
    );
    assert!(report.violations.iter().all(|(_, count)| *count == 2));
}

#[tokio::test]
async fn open_loop_sends_at_the_given_rate() {
    let receiver = TestReceiver::start(Bug::None).await;
    let mut config = config(&receiver, Until::After(Duration::from_millis(1000)), 0.0, 0);
    config.rate = Some(200.0);
    let report = load::run(config, |_| {}).await.unwrap();
    // Deliveries are scheduled at start + n / rate, so a second holds 200 of them.
    assert_eq!(report.deliveries, 200);
}

#[tokio::test]
async fn deliveries_cut_by_the_deadline_are_not_called_violations() {
    // Each answer takes 1.5 s: the first deliveries are answered, the next
    // ones are still in flight when the 2 s run ends. A cut delivery may
    // rightly have had no effect (yet), so only keys answered 2xx are probed.
    let receiver = TestReceiver::start(Bug::Slow).await;
    let report = load::run(
        config(&receiver, Until::After(Duration::from_secs(2)), 1.0, 0),
        |_| {},
    )
    .await
    .unwrap();
    assert!(report.cut_by_deadline > 0, "{report:?}");
    assert!(report.delivered > 0, "{report:?}");
    assert!(report.probed > 0, "{report:?}");
    assert!(
        report.violations.is_empty(),
        "a false violation: {:?}",
        report.violations
    );
}
