//! Hostile receivers: every command finishes within its timeouts, says what
//! went wrong in plain words, and never panics or grows without bound.

mod common;

use std::time::Duration;

use common::hostile::{self, Hostile};
use webhook_harness::fuzz::{self, FuzzConfig};
use webhook_harness::load::{self, LoadConfig, Mix, Until};
use webhook_harness::runner::{self, CaseStatus, RunConfig};
use webhook_harness::scenario;
use webhook_harness::sender::{DeliveryResult, Outcome, Phase, Sender, SenderConfig};

/// A generous guard against hangs, far above every configured timeout.
const HANG_GUARD: Duration = Duration::from_secs(60);

fn sender_config() -> SenderConfig {
    SenderConfig {
        timeout: Duration::from_millis(500),
        retries: 1,
        backoff: Duration::from_millis(10),
        readiness: false,
        title_case_headers: false,
        tls: Default::default(),
    }
}

/// What the sender must say about each kind: outcome and words in the error.
fn expected(kind: Hostile) -> (Outcome, &'static str) {
    match kind {
        Hostile::Silent | Hostile::StatusLineThenStall | Hostile::Drip | Hostile::ContinueOnly => {
            (Outcome::Timeout, "no response within 500us")
        }
        Hostile::ResetBeforeRead | Hostile::ResetAfterRead => {
            (Outcome::ConnectionError, "connection")
        }
        Hostile::CloseMidBody => (Outcome::Success, "response body incomplete after 10 bytes"),
        Hostile::NotHttp | Hostile::InvalidStatus | Hostile::MalformedHeaders => {
            (Outcome::ConnectionError, "not a valid HTTP response")
        }
        Hostile::EndlessBody => (
            Outcome::Success,
            "response body exceeded 64 KiB, not read further",
        ),
        Hostile::ConnectionClose | Hostile::Http10 => (Outcome::Success, ""),
    }
}

#[tokio::test]
async fn send_classifies_every_hostile_receiver() {
    let sender = Sender::new(sender_config()).unwrap();
    let event = webhook_harness::event::Event::builder(
        webhook_harness::event::EventKind::GenerationCompleted,
    )
    .build()
    .unwrap();
    for kind in Hostile::ALL {
        let url = hostile::start(kind).await;
        let delivery = tokio::time::timeout(HANG_GUARD, sender.deliver(&url, &event))
            .await
            .expect("send hung");
        let last = delivery.attempts.last().unwrap();
        let (outcome, words) = expected(kind);
        assert_eq!(last.outcome, outcome, "{kind:?}: {}", last.describe());
        let said = last
            .failure
            .as_ref()
            .map(|f| f.to_string())
            .unwrap_or_default();
        let words = words.replace("500us", "500.0ms");
        assert!(
            said.contains(&words),
            "{kind:?}: expected {words:?} in {said:?}"
        );
        let retried = outcome.is_retryable();
        assert_eq!(
            delivery.attempts.len(),
            if retried { 2 } else { 1 },
            "{kind:?}"
        );
        if outcome == Outcome::Success {
            assert_eq!(delivery.result, DeliveryResult::Delivered, "{kind:?}");
        }
        assert!(delivery.attempts.iter().all(|a| a.phase == Phase::Delivery));
    }
}

#[tokio::test]
async fn run_fuzz_and_load_finish_against_every_hostile_receiver() {
    for kind in Hostile::ALL {
        let url = hostile::start(kind).await;
        let (outcome, words) = expected(kind);
        let words = words.replace("500us", "500.0ms");

        let config = common::run_config(url.clone(), "wh", None, sender_config(), 2);
        let cases: Vec<_> = scenario::builtin()
            .unwrap()
            .into_iter()
            .filter(|s| s.case.id == "events.generation-completed")
            .collect();
        let run = tokio::time::timeout(HANG_GUARD, runner::run(&config, cases, |_| {}))
            .await
            .expect("run hung")
            .unwrap();
        let case = &run.cases[0];
        if outcome == Outcome::Success {
            assert_eq!(
                case.status(),
                CaseStatus::Passed,
                "{kind:?}: {}",
                case.message()
            );
        } else {
            assert_eq!(case.status(), CaseStatus::Failed, "{kind:?}");
            assert!(
                case.message().contains(&words),
                "{kind:?}: {}",
                case.message()
            );
        }

        let fuzz_config = FuzzConfig {
            url: url.clone(),
            webhook_id: "wh".into(),
            effects_url: None,
            cases: 3,
            seed: 1,
            timeout: Duration::from_millis(300),
            jobs: 3,
            only: None,
            max_findings: 1,
            max_shrink_steps: 1,
            tls: Default::default(),
            max_shrink_time: webhook_harness::fuzz::DEFAULT_MAX_SHRINK_TIME,
            stop: Default::default(),
            ..Default::default()
        };
        let fuzzed = tokio::time::timeout(HANG_GUARD, fuzz::run(&fuzz_config, |_| {}))
            .await
            .expect("fuzz hung")
            .unwrap();
        if matches!(outcome, Outcome::Timeout | Outcome::ConnectionError) {
            // Nothing it answers: not a finding to shrink, but a receiver
            // that stopped answering.
            assert!(fuzzed.findings.is_empty(), "{kind:?}");
            assert!(
                matches!(
                    fuzzed.stopped,
                    Some(webhook_harness::stop::StopReason::ReceiverDown(_))
                ),
                "{kind:?}: {:?}",
                fuzzed.stopped
            );
        }

        let load_config = LoadConfig {
            url: url.clone(),
            webhook_id: "wh".into(),
            concurrency: 4,
            rate: None,
            until: Until::Deliveries(8),
            mix: Mix::default(),
            duplicates: 0.0,
            sizes: Default::default(),
            sender: SenderConfig {
                retries: 0,
                ..sender_config()
            },
            effects_url: None,
            unanswered_window: Duration::from_secs(10),
            stop: Default::default(),
            hdr_log: None,
            ..Default::default()
        };
        let loaded = tokio::time::timeout(HANG_GUARD, load::run(load_config, |_| {}))
            .await
            .expect("load hung")
            .unwrap();
        assert_eq!(loaded.deliveries, 8, "{kind:?}");
        match outcome {
            Outcome::Timeout => assert_eq!(loaded.timeouts, 8, "{kind:?}"),
            Outcome::ConnectionError => assert_eq!(loaded.connection_errors, 8, "{kind:?}"),
            _ => assert_eq!(loaded.failed, 0, "{kind:?}: {loaded:?}"),
        }
    }
}

/// Peak resident memory; only Linux tells it, and the test runs only there.
#[cfg(target_os = "linux")]
fn resident_mib() -> f64 {
    webhook_harness::load::peak_rss_mib().expect("Linux reports VmHWM in /proc/self/status")
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn an_endless_body_does_not_grow_memory() {
    let url = hostile::start(Hostile::EndlessBody).await;
    let sender = Sender::new(SenderConfig {
        timeout: Duration::from_secs(2),
        ..sender_config()
    })
    .unwrap();
    let event = webhook_harness::event::Event::builder(
        webhook_harness::event::EventKind::GenerationCompleted,
    )
    .build()
    .unwrap();
    let before = resident_mib();
    for _ in 0..20 {
        let d = sender.deliver(&url, &event).await;
        assert_eq!(d.attempts[0].body.len(), 64 * 1024);
    }
    let grown = resident_mib() - before;
    // Read without a cap, 20 endless bodies would take gigabytes.
    assert!(grown < 100.0, "peak memory grew by {grown} MiB");
}

#[tokio::test]
async fn a_restarted_receiver_is_recovered_from() {
    use webhook_harness::receiver::{Receiver, ReceiverConfig};
    let receiver = Receiver::start_local(ReceiverConfig::default())
        .await
        .unwrap();
    let addr = receiver.addr();
    let config = RunConfig {
        url: receiver.url(),
        webhook_id: "wh".into(),
        effects_url: Some(receiver.effects_url()),
        sender: SenderConfig {
            retries: 0,
            ..sender_config()
        },
        jobs: 1,
        down_after: webhook_harness::stop::DEFAULT_THRESHOLD,
        replay: Default::default(),
        stop: Default::default(),
        ..Default::default()
    };
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let restart = tokio::spawn(async move {
        // After three cases, the receiver goes away for a while, then comes back.
        for _ in 0..3 {
            done_rx.recv().await;
        }
        receiver.shutdown().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let back = Receiver::start(addr, ReceiverConfig::default())
            .await
            .unwrap();
        while done_rx.recv().await.is_some() {}
        back
    });
    let mut scenarios = scenario::builtin().unwrap();
    scenarios.retain(|s| s.case.id.starts_with("events.") || s.case.id.starts_with("readiness."));
    // A pause between cases so that some fall inside the outage.
    let pause = scenario::parse(
        "pause.yaml",
        "cases:\n  - id: pause\n    title: p\n    steps:\n      - wait: 100ms\n",
    )
    .unwrap();
    let mut with_pauses = Vec::new();
    for (i, s) in scenarios.into_iter().enumerate() {
        with_pauses.push(s);
        let mut p = pause[0].clone();
        p.case.id = format!("pause.{i}");
        with_pauses.push(p);
    }
    let outcome = tokio::time::timeout(
        HANG_GUARD,
        runner::run(&config, with_pauses, |_| {
            let _ = done_tx.send(());
        }),
    )
    .await
    .expect("run hung")
    .unwrap();
    drop(done_tx);
    let _back = restart.await.unwrap();
    let real: Vec<_> = outcome
        .cases
        .iter()
        .filter(|c| !c.id.starts_with("pause"))
        .collect();
    let refused = real
        .iter()
        .filter(|c| c.message().contains("connection refused"))
        .count();
    assert!(refused > 0, "some case fell in the outage");
    assert_eq!(
        real.last().unwrap().status(),
        CaseStatus::Passed,
        "later cases recover"
    );
}
