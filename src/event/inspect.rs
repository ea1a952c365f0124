//! What a request that claims to come from the sender holds, checked against
//! the contract: its event, key and dialect, and what in it the contract does
//! not describe (a missing header, a body of neither dialect, an unknown
//! event or field). `proxy` reports it, so a change in what the real sender
//! sends shows up there first; recordings are named from it.

use serde_json::Value;

use super::Payload;
use crate::contract::{self, Dialect, EventKind};

/// Bodies up to this size are read in full (shape and unknown fields
/// checked); a larger one is held once and not parsed into a copy: its event
/// and key are taken from the headers.
pub const FULL_CHECK_LIMIT: usize = 1024 * 1024;

/// What a request was found to hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inspection {
    /// The event name, from the body (or else the event header).
    pub event: Option<String>,
    /// The event, when the name is one the contract knows.
    pub kind: Option<EventKind>,
    /// The idempotency key, from the body (or else the key header).
    pub key: Option<String>,
    /// The dialect of a body that parses as a payload.
    pub dialect: Option<Dialect>,
    /// The webhook id header's value.
    pub webhook_id: Option<String>,
    /// The webhook id the body carries (`webhookId` or `webhook_id`).
    pub body_webhook_id: Option<String>,
    /// What the contract does not describe, in the order found.
    pub remarks: Vec<Remark>,
    /// Whether the body's shape was checked (a body over 1 MiB is not
    /// parsed: its event and key come from the headers).
    pub shape_checked: bool,
}

/// Something in a request the contract does not describe (informational:
/// the sender may have changed, or something else sent it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remark {
    /// A header the sender always sends is missing.
    MissingHeader(&'static str),
    /// The body is not JSON.
    NotJson,
    /// The body is JSON but of neither dialect's shape (the reason).
    NotAPayload(String),
    /// An event name the contract does not list.
    UnknownEvent(String),
    /// The event header names another event than the body.
    EventMismatch {
        /// The header's event.
        header: String,
        /// The body's event.
        body: String,
    },
    /// A field the payload's shape does not have (a dotted path).
    UnknownField(String),
    /// The key header carries another key than the body.
    KeyMismatch {
        /// The header's key.
        header: String,
        /// The body's key.
        body: String,
    },
}

impl Remark {
    /// Whether the request is still a delivery the contract describes (an
    /// unknown field is: receivers must accept new fields).
    pub fn spoils_delivery(&self) -> bool {
        !matches!(self, Remark::UnknownField(_))
    }
}

impl std::fmt::Display for Remark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Remark::MissingHeader(name) => write!(f, "no {name} header"),
            Remark::NotJson => f.write_str("the body is not JSON"),
            Remark::NotAPayload(why) => {
                write!(f, "the body is no payload of either dialect: {why}")
            }
            Remark::UnknownEvent(name) => write!(f, "unknown event `{name}`"),
            Remark::EventMismatch { header, body } => {
                write!(f, "the event header says `{header}`, the body `{body}`")
            }
            Remark::UnknownField(path) => write!(f, "unknown field `{path}`"),
            Remark::KeyMismatch { header, body } => {
                write!(f, "the key header says `{header}`, the body `{body}`")
            }
        }
    }
}

/// Inspects a POST's headers (`header(name)` gives a value by name, any
/// case) and body.
pub fn inspect<'a>(header: impl Fn(&str) -> Option<&'a str>, body: &[u8]) -> Inspection {
    let mut found = Inspection {
        webhook_id: header(contract::WEBHOOK_ID_HEADER).map(str::to_owned),
        ..Inspection::default()
    };
    for name in [
        "Content-Type",
        contract::EVENT_HEADER,
        contract::WEBHOOK_ID_HEADER,
    ] {
        if header(name).is_none() {
            found.remarks.push(Remark::MissingHeader(name));
        }
    }
    let header_event = header(contract::EVENT_HEADER).map(str::to_owned);
    if body.len() > FULL_CHECK_LIMIT {
        return inspect_large(found, header_event, header, body);
    }
    found.shape_checked = true;
    let json = serde_json::from_slice::<Value>(body).ok();
    let body_event = json
        .as_ref()
        .and_then(|j| j.get("event"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    found.event = body_event.clone().or(header_event.clone());
    if let (Some(header), Some(body)) = (&header_event, &body_event)
        && header != body
    {
        found.remarks.push(Remark::EventMismatch {
            header: header.clone(),
            body: body.clone(),
        });
    }
    found.kind = found.event.as_deref().and_then(EventKind::from_wire);
    if let (Some(name), None) = (&found.event, found.kind) {
        found.remarks.push(Remark::UnknownEvent(name.clone()));
    }
    found.body_webhook_id = json
        .as_ref()
        .and_then(|j| j.get("webhookId").or_else(|| j.get("webhook_id")))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let header_key = found
        .kind
        .and_then(|kind| header(contract::key_header(kind)))
        .map(str::to_owned);
    let body_key = json.as_ref().and_then(contract::idempotency_key);
    if let (Some(header), Some(body)) = (&header_key, &body_key)
        && header != body
    {
        found.remarks.push(Remark::KeyMismatch {
            header: header.clone(),
            body: body.clone(),
        });
    }
    found.key = body_key.or(header_key);
    if let Some(kind) = found.kind
        && header(contract::key_header(kind)).is_none()
        && kind != EventKind::WebhookTest
    {
        found
            .remarks
            .push(Remark::MissingHeader(contract::key_header(kind)));
    }
    let Some(json) = json else {
        found.remarks.push(Remark::NotJson);
        return found;
    };
    if found.kind.is_none() {
        return found;
    }
    match Payload::from_json(&json) {
        Ok(payload) => {
            found.dialect = Some(match payload {
                Payload::LegacyCompletion(_) | Payload::LegacyGroup(_) => Dialect::Legacy,
                _ => Dialect::Current,
            });
            if let Ok(known) = serde_json::to_value(&payload) {
                unknown_fields(&json, &known, "", &mut found.remarks);
            }
        }
        Err(why) => found.remarks.push(Remark::NotAPayload(why)),
    }
    found
}

/// A large body: valid JSON is checked without building it; the event and
/// key come from the contract's headers.
fn inspect_large<'a>(
    mut found: Inspection,
    header_event: Option<String>,
    header: impl Fn(&str) -> Option<&'a str>,
    body: &[u8],
) -> Inspection {
    found.event = header_event;
    found.kind = found.event.as_deref().and_then(EventKind::from_wire);
    if let (Some(name), None) = (&found.event, found.kind) {
        found.remarks.push(Remark::UnknownEvent(name.clone()));
    }
    found.key = found
        .kind
        .and_then(|kind| header(contract::key_header(kind)))
        .map(str::to_owned);
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
        found.remarks.push(Remark::NotJson);
    }
    found
}

/// The fields of `sent` that `known` (the typed payload written back) does
/// not have; a `null` field is not counted (an absent optional one writes
/// back as nothing).
fn unknown_fields(sent: &Value, known: &Value, prefix: &str, out: &mut Vec<Remark>) {
    match (sent, known) {
        (Value::Object(sent), Value::Object(known)) => {
            for (name, value) in sent {
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                match known.get(name) {
                    Some(k) => unknown_fields(value, k, &path, out),
                    None if value.is_null() => {}
                    None => out.push(Remark::UnknownField(path)),
                }
            }
        }
        (Value::Array(sent), Value::Array(known)) => {
            for (i, (s, k)) in sent.iter().zip(known).enumerate() {
                unknown_fields(s, k, &format!("{prefix}.{i}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Override};

    fn headers_of(event: &Event) -> Vec<(String, String)> {
        contract::headers(event.kind(), event.webhook_id(), event.key())
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    }

    fn inspect_event(event: &Event, body: &[u8]) -> Inspection {
        let headers = headers_of(event);
        inspect(
            |name| {
                headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            },
            body,
        )
    }

    #[test]
    fn every_event_in_both_dialects_is_found_clean() {
        for kind in EventKind::ALL {
            for dialect in [Dialect::Current, Dialect::Legacy] {
                let event = Event::builder(kind).dialect(dialect).build().unwrap();
                let found = inspect_event(&event, event.body());
                assert_eq!(found.remarks, vec![], "{kind} {dialect:?}");
                assert_eq!(found.kind, Some(kind));
                assert_eq!(found.dialect, Some(dialect));
                assert_eq!(found.key.as_deref(), event.key());
            }
        }
    }

    #[test]
    fn what_the_contract_does_not_describe_is_remarked() {
        let event = Event::builder(EventKind::GenerationCompleted)
            .apply(Override::parse_add("data.brandNew=1").unwrap())
            .build()
            .unwrap();
        let found = inspect_event(&event, event.body());
        assert_eq!(
            found.remarks,
            vec![Remark::UnknownField("data.brandNew".into())]
        );
        let found = inspect(|_| None, b"not json");
        assert!(found.remarks.contains(&Remark::NotJson));
        assert!(
            found
                .remarks
                .contains(&Remark::MissingHeader("X-Inference-Event"))
        );
        let found = inspect(|_| None, br#"{"event":"model.retired"}"#);
        assert!(
            found
                .remarks
                .contains(&Remark::UnknownEvent("model.retired".into()))
        );
    }

    #[test]
    fn a_large_body_is_read_from_its_headers() {
        let event = Event::builder(EventKind::SlowGroupCompleted)
            .pad_to(FULL_CHECK_LIMIT + 10)
            .build()
            .unwrap();
        let found = inspect_event(&event, event.body());
        assert!(!found.shape_checked);
        assert_eq!(found.kind, Some(EventKind::SlowGroupCompleted));
        assert_eq!(found.key.as_deref(), event.key());
        assert_eq!(found.remarks, vec![]);
    }
}
