//! Verdicts that must hold against receivers written the way customers write
//! them: connections closed without notice, a `webhook.test` ping that is
//! ignored, templates spelled with spaces.

mod common;

use std::time::Duration;

use common::{Bug, OneShotReceiver, TestReceiver, WEBHOOK_ID};
use webhook_harness::event::EventKind;
use webhook_harness::fuzz::{self, FuzzConfig};
use webhook_harness::load::{self, LoadConfig, Mix, Until};
use webhook_harness::runner::{self, CaseStatus, RunConfig};
use webhook_harness::scenario::{self, values::EffectSpec};
use webhook_harness::sender::{DEFAULT_THRESHOLD, SenderConfig};

fn run_config(url: String, effects_url: String) -> RunConfig {
    RunConfig {
        url,
        webhook_id: WEBHOOK_ID.into(),
        effects_url: Some(effects_url),
        sender: SenderConfig {
            timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(10),
            ..SenderConfig::default()
        },
        jobs: 4,
        down_after: DEFAULT_THRESHOLD,
        replay: Default::default(),
        stop: Default::default(),
    }
}

fn fuzz_config(url: String, effects_url: String, cases: u64) -> FuzzConfig {
    FuzzConfig {
        url,
        webhook_id: WEBHOOK_ID.into(),
        effects_url: Some(effects_url),
        cases,
        seed: 11,
        timeout: Duration::from_secs(5),
        jobs: 8,
        only: None,
        max_findings: 1,
        max_shrink_steps: 50,
        max_shrink_time: Duration::from_secs(30),
        tls: Default::default(),
        stop: Default::default(),
    }
}

/// The whole suite passes, `should` cases included (as under `--strict`).
async fn assert_suite_passes(config: &RunConfig) {
    let outcome = runner::run(config, scenario::builtin().unwrap(), |_| {})
        .await
        .unwrap();
    let not_passed: Vec<String> = outcome
        .cases
        .iter()
        .filter(|c| c.status() != CaseStatus::Passed)
        .map(|c| format!("{}: {}", c.id, c.message()))
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
}

#[tokio::test]
async fn connections_closed_without_notice_are_not_blamed_on_the_receiver() {
    let receiver = OneShotReceiver::start(Bug::None).await;

    // run: every case and every probe, strict.
    assert_suite_passes(&run_config(receiver.url(), receiver.effects_url())).await;

    // fuzz: no finding.
    let fuzzed = fuzz::run(
        &fuzz_config(receiver.url(), receiver.effects_url(), 300),
        |_| {},
    )
    .await
    .unwrap();
    assert!(
        fuzzed.findings.is_empty(),
        "{:?}",
        fuzzed.findings.first().map(|f| &f.reason)
    );

    // load without retries: no error, and the closed connections were met.
    let report = load::run(
        LoadConfig {
            url: receiver.url(),
            webhook_id: WEBHOOK_ID.into(),
            concurrency: 4,
            rate: None,
            until: Until::Deliveries(400),
            mix: Mix::default(),
            duplicates: 0.1,
            sizes: Default::default(),
            sender: SenderConfig {
                timeout: Duration::from_secs(5),
                retries: 0,
                ..SenderConfig::default()
            },
            effects_url: Some(receiver.effects_url()),
            unanswered_window: Duration::from_secs(30),
            stop: Default::default(),
            hdr_log: None,
        },
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(report.connection_errors, 0, "{report:?}");
    assert!(report.violations.is_empty(), "{report:?}");
    assert!(report.probe_error.is_none(), "{report:?}");
    assert!(
        report.resent_after_closed_connection > 0,
        "kept-alive connections were reused: {report:?}"
    );
    assert!(receiver.dropped.load(std::sync::atomic::Ordering::SeqCst) > 0);
}

#[tokio::test]
async fn a_receiver_that_ignores_the_test_ping_is_correct() {
    let receiver = TestReceiver::start(Bug::IgnoresPing).await;
    assert_suite_passes(&run_config(receiver.url(), receiver.effects_url())).await;
    let fuzzed = fuzz::run(
        &fuzz_config(receiver.url(), receiver.effects_url(), 2000),
        |_| {},
    )
    .await
    .unwrap();
    assert!(
        fuzzed.findings.is_empty(),
        "{:?}",
        fuzzed.findings.first().map(|f| &f.reason)
    );
}

#[test]
fn the_suite_and_the_fuzz_oracle_read_one_effect_rule() {
    for kind in EventKind::ALL {
        let rule = kind.effect_rule();
        let spec = EffectSpec::Required.resolve(kind);
        for count in 0..4 {
            assert_eq!(spec.matches(count), rule.allows(count), "{kind} {count}");
        }
    }
    assert!(EventKind::WebhookTest.effect_rule().allows(0));
    assert!(!EventKind::GenerationCompleted.effect_rule().allows(0));
}

#[tokio::test]
async fn every_template_spelling_that_validates_is_substituted() {
    let receiver = TestReceiver::start(Bug::None).await;
    // The body's key is written with spaces inside the braces; if it were
    // sent literally, the receiver would store `{{key }}` and the probe of
    // the real key would count 0.
    let yaml = r#"
cases:
  - id: spaced
    title: t
    steps:
      - raw:
          headers: { X-Inference-Generation-ID: "{{  key}}" }
          body_json:
            event: generation.completed
            webhookId: "{{ webhook_id}}"
            data: { id: "{{key }}", state: Success }
        expect: { status: 2xx }
      - probe: { effects: 1 }
"#;
    let scenarios = scenario::parse("spaced.yaml", yaml).unwrap();
    let outcome = runner::run(
        &run_config(receiver.url(), receiver.effects_url()),
        scenarios,
        |_| {},
    )
    .await
    .unwrap();
    let case = &outcome.cases[0];
    assert_eq!(case.status(), CaseStatus::Passed, "{}", case.message());
}
