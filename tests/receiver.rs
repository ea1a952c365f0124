//! The reference receiver, driven over real sockets on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use webhook_harness::event::{Dialect, Event, EventKind};
use webhook_harness::receiver::{Receiver, ReceiverConfig};
use webhook_harness::sender::{Outcome, Phase, Request, Sender, SenderConfig, event_headers};

fn sender() -> Sender {
    Sender::new(SenderConfig {
        timeout: Duration::from_secs(5),
        backoff: Duration::from_millis(5),
        ..SenderConfig::default()
    })
    .unwrap()
}

async fn post(
    sender: &Sender,
    url: &str,
    headers: &[(String, String)],
    body: &'static [u8],
) -> u16 {
    let attempt = sender
        .send(Request {
            phase: Phase::Delivery,
            method: "POST",
            url,
            headers,
            body: body.into(),
        })
        .await;
    attempt
        .status
        .unwrap_or_else(|| panic!("no answer: {attempt:?}"))
}

#[tokio::test]
async fn twenty_concurrent_copies_have_one_effect() {
    let receiver = Receiver::start_local(ReceiverConfig::default())
        .await
        .unwrap();
    let event = Arc::new(
        Event::builder(EventKind::GenerationCompleted)
            .unique_ids()
            .build()
            .unwrap(),
    );
    let sender = sender();
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (sender, event, barrier, url) = (
                sender.clone(),
                event.clone(),
                barrier.clone(),
                receiver.url(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                sender.deliver(&url, &event).await
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().delivered());
    }
    let stats = receiver.effects().get(event.key().unwrap());
    assert_eq!(stats.effects, 1);
    assert_eq!(stats.deliveries, 20);
}

#[tokio::test]
async fn wrong_or_missing_webhook_id_is_401() {
    let config = ReceiverConfig {
        webhook_id: Some("AhALzdz8S".into()),
        ..ReceiverConfig::default()
    };
    let receiver = Receiver::start_local(config).await.unwrap();
    let sender = sender();
    let wrong = Event::builder(EventKind::GenerationCompleted)
        .webhook_id("nope")
        .build()
        .unwrap();
    let d = sender.deliver(&receiver.url(), &wrong).await;
    assert_eq!(d.attempts.last().unwrap().status, Some(401));
    let missing: Vec<_> = event_headers(&wrong)
        .into_iter()
        .filter(|(k, _)| k != "X-Inference-Webhook-ID")
        .collect();
    assert_eq!(post(&sender, &receiver.url(), &missing, b"{}").await, 401);
    assert_eq!(receiver.effects().totals().effects, 0);
    let right = Event::builder(EventKind::GenerationCompleted)
        .webhook_id("AhALzdz8S")
        .build()
        .unwrap();
    assert!(sender.deliver(&receiver.url(), &right).await.delivered());
}

#[tokio::test]
async fn unparseable_bodies_are_400() {
    let receiver = Receiver::start_local(ReceiverConfig::default())
        .await
        .unwrap();
    let sender = sender();
    let headers = event_headers(
        &Event::builder(EventKind::GenerationCompleted)
            .build()
            .unwrap(),
    );
    for body in [
        &b"{not json"[..],
        b"[1,2]",
        b"",
        b"\"text\"",
        b"{\"data\":{}}",
    ] {
        assert_eq!(
            post(&sender, &receiver.url(), &headers, body).await,
            400,
            "{body:?}"
        );
    }
    assert_eq!(
        post(
            &sender,
            &receiver.url(),
            &headers,
            br#"{"event":"generation.completed","data":{}}"#
        )
        .await,
        400,
        "a known event without a key"
    );
    assert_eq!(
        post(
            &sender,
            &receiver.url(),
            &headers,
            br#"{"event":"invoice.paid"}"#
        )
        .await,
        200,
        "unknown events are acknowledged"
    );
    assert_eq!(receiver.effects().totals().effects, 0);
}

#[tokio::test]
async fn both_dialects_of_every_event_are_accepted() {
    let receiver = Receiver::start_local(ReceiverConfig::default())
        .await
        .unwrap();
    let sender = sender();
    for kind in EventKind::ALL {
        for dialect in [Dialect::Current, Dialect::Legacy] {
            let event = Event::builder(kind)
                .dialect(dialect)
                .unique_ids()
                .build()
                .unwrap();
            let d = sender.deliver(&receiver.url(), &event).await;
            assert!(d.delivered(), "{kind} {dialect}: {:?}", d.attempts);
            assert_eq!(receiver.effects().get(event.key().unwrap()).effects, 1);
        }
    }
}

#[tokio::test]
async fn readiness_and_probe_answers() {
    let receiver = Receiver::start_local(ReceiverConfig::default())
        .await
        .unwrap();
    let sender = sender();
    let ready = sender.readiness(&receiver.url()).await;
    assert_eq!(ready.outcome, Outcome::Success);
    assert_eq!(ready.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        ready.header("access-control-allow-methods"),
        Some("POST, OPTIONS")
    );
    assert_eq!(
        ready.header("access-control-allow-headers"),
        Some("Content-Type")
    );

    let event = Event::builder(EventKind::SlowGroupCompleted)
        .unique_ids()
        .build()
        .unwrap();
    sender.deliver(&receiver.url(), &event).await;
    let probe = receiver
        .effects_url()
        .replace("{key}", event.key().unwrap());
    let answer = sender
        .send(Request {
            phase: Phase::Delivery,
            method: "GET",
            url: &probe,
            headers: &[],
            body: Default::default(),
        })
        .await;
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(json["count"], 1);
    let totals_url = probe.split('?').next().unwrap().to_owned();
    let totals = sender
        .send(Request {
            phase: Phase::Delivery,
            method: "GET",
            url: &totals_url,
            headers: &[],
            body: Default::default(),
        })
        .await;
    let json: serde_json::Value = serde_json::from_slice(&totals.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"keys": 1, "effects": 1, "deliveries": 1})
    );
}
