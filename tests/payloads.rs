//! Every event x dialect payload as a snapshot under `snapshots/`, plus the
//! contract's field lists checked key by key.

use webhook_harness::event::{Dialect, Event, EventKind};

fn keys(v: &serde_json::Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn payload_snapshots() {
    for kind in EventKind::ALL {
        for dialect in [Dialect::Current, Dialect::Legacy] {
            let event = Event::builder(kind).dialect(dialect).build().unwrap();
            insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
                insta::assert_json_snapshot!(format!("payload-{}-{}", kind.name(), dialect.name()), event.json());
            });
        }
    }
}

#[test]
fn current_completion_fields_match_the_contract() {
    for kind in [
        EventKind::GenerationCompleted,
        EventKind::AsyncEmbeddingCompleted,
    ] {
        let e = Event::builder(kind).build().unwrap();
        assert_eq!(keys(e.json()), ["event", "timestamp", "webhookId", "data"]);
        assert_eq!(
            keys(&e.json()["data"]),
            [
                "id",
                "state",
                "stateMessage",
                "request",
                "response",
                "model",
                "createdAt",
                "dispatchedAt",
                "finishedAt",
                "usage"
            ]
        );
        assert_eq!(e.json()["event"], kind.name());
        assert!(e.json()["data"]["request"]["metadata"]["webhook_id"].is_string());
    }
    let embedding = Event::builder(EventKind::AsyncEmbeddingCompleted)
        .build()
        .unwrap();
    let vector = &embedding.json()["data"]["response"]["data"][0]["embedding"];
    assert!(vector.as_array().unwrap().iter().all(|x| x.is_f64()));
}

#[test]
fn test_event_uses_snake_case_webhook_id() {
    let e = Event::builder(EventKind::WebhookTest).build().unwrap();
    assert_eq!(keys(e.json()), ["event", "timestamp", "webhook_id", "data"]);
    assert!(e.json().get("webhookId").is_none());
}

#[test]
fn group_fields_match_the_contract() {
    let e = Event::builder(EventKind::SlowGroupCompleted)
        .build()
        .unwrap();
    assert_eq!(keys(e.json()), ["event", "timestamp", "groupId", "data"]);
    assert_eq!(
        keys(&e.json()["data"]),
        ["groupSize", "status", "generations"]
    );
    let member = &e.json()["data"]["generations"][0];
    assert_eq!(
        keys(member),
        [
            "generationId",
            "state",
            "stateMessage",
            "request",
            "response",
            "finishedAt"
        ]
    );
    let legacy = Event::builder(EventKind::SlowGroupCompleted)
        .dialect(Dialect::Legacy)
        .build()
        .unwrap();
    assert_eq!(
        keys(legacy.json()),
        ["event", "timestamp", "group_id", "data"]
    );
    assert_eq!(
        keys(&legacy.json()["data"]),
        ["group_size", "status", "generations"]
    );
    let empty = Event::builder(EventKind::SlowGroupCompleted)
        .group_size(0)
        .build()
        .unwrap();
    assert_eq!(empty.json()["data"]["generations"], serde_json::json!([]));
}

#[test]
fn legacy_completion_fields_match_the_contract() {
    let e = Event::builder(EventKind::GenerationCompleted)
        .dialect(Dialect::Legacy)
        .build()
        .unwrap();
    assert_eq!(
        keys(e.json()),
        ["event", "timestamp", "webhook_id", "generation_id", "data"]
    );
    assert_eq!(
        keys(&e.json()["data"]),
        [
            "state",
            "stateMessage",
            "request",
            "response",
            "dispatchedAt",
            "finishedAt"
        ]
    );
}
