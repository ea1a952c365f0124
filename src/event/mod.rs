//! What is sent: event kinds, dialects, payload builders and headers.
//!
//! [`Event::builder`] makes a payload with realistic content, applies
//! overrides, and derives the contract's headers and the idempotency key from
//! the final JSON, so an override of `data.id` moves the key and its header too.

pub(crate) mod content;
pub mod ids;
pub(crate) mod inspect;
mod override_error;
pub mod overrides;
pub mod payload;
pub(crate) mod skeleton;

use std::time::Duration;

use serde_json::Value;

pub use crate::contract::{Dialect, EffectRule, EventKind, USER_AGENT, idempotency_key};
pub use ids::IdSource;
pub use inspect::{Inspection, Remark};
pub use overrides::{Override, OverrideError};
pub use payload::{Payload, State};

use payload::{
    Completion, Generation, GroupCompletion, GroupData, GroupMember, LegacyCompletion,
    LegacyGeneration, LegacyGroupCompletion, LegacyGroupData, TestEvent,
};

/// The webhook identifier used when none is given (not a real secret).
pub const DEFAULT_WEBHOOK_ID: &str = "wh_harness_test";

/// Builds an [`Event`]: kind, dialect, content options and overrides.
#[derive(Debug, Clone)]
pub struct EventBuilder {
    kind: EventKind,
    dialect: Dialect,
    webhook_id: String,
    ids: IdSource,
    state: State,
    group_size: usize,
    failed_members: usize,
    overrides: Vec<Override>,
    pad_to: Option<usize>,
}

impl EventBuilder {
    /// Selects the payload dialect (default [`Dialect::Current`]).
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// The webhook identifier carried in the body and `X-Inference-Webhook-ID`.
    pub fn webhook_id(mut self, id: impl Into<String>) -> Self {
        self.webhook_id = id.into();
        self
    }

    /// Fresh ids and the current time instead of the reproducible defaults.
    pub fn unique_ids(mut self) -> Self {
        self.ids = IdSource::unique();
        self
    }

    /// Reproducible content from another seed (distinct ids, same shape).
    pub fn seed(mut self, seed: u64) -> Self {
        self.ids = IdSource::deterministic(seed);
        self
    }

    /// Final state of the generation (all members, for a group: see [`Self::failed_members`]).
    pub fn state(mut self, state: State) -> Self {
        self.state = state;
        self
    }

    /// Number of generations in a group event (default 3; 0 is allowed).
    pub fn group_size(mut self, size: usize) -> Self {
        self.group_size = size;
        self
    }

    /// How many of a group's generations failed (the last ones).
    pub fn failed_members(mut self, count: usize) -> Self {
        self.failed_members = count;
        self
    }

    /// Adds an edit applied after the payload is built.
    pub fn apply(mut self, edit: Override) -> Self {
        self.overrides.push(edit);
        self
    }

    /// Pads the serialized payload to about `bytes` by lengthening the
    /// completion text (the embedding input, the first group member's answer).
    pub fn pad_to(mut self, bytes: usize) -> Self {
        self.pad_to = Some(bytes);
        self
    }

    /// Shorthand for `apply(Override::parse_set("PATH=VALUE"))`.
    pub fn set(self, spec: &str) -> Result<Self, OverrideError> {
        Ok(self.apply(Override::parse_set(spec)?))
    }

    /// The typed payload before overrides.
    pub fn payload(&self) -> Payload {
        let mut ids = self.ids.clone();
        let base = ids.base_time();
        let at = |secs: u64| ids::iso8601(base - Duration::from_secs(secs));
        let timestamp = ids::iso8601(base);
        let event = self.kind.name().to_owned();
        let created = base
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if self.kind.is_group() {
            let group_id = ids.id("grp_", 20);
            let generations = (0..self.group_size)
                .map(|i| {
                    let failed = i + self.failed_members >= self.group_size;
                    let state = if failed { State::Failed } else { self.state };
                    let (request, pick) = content::chat_request(&mut ids, &self.webhook_id);
                    let usage = content::chat_usage(&mut ids);
                    let response = match state {
                        State::Success => content::chat_response(&mut ids, pick, created, &usage),
                        State::Failed => Value::Object(Default::default()),
                    };
                    GroupMember {
                        generation_id: ids.id("gen_", 20),
                        state,
                        state_message: Some(state.default_message().to_owned()),
                        request,
                        response,
                        finished_at: Some(at(1)),
                    }
                })
                .collect();
            let size = self.group_size as u64;
            let status = "completed".to_owned();
            return match self.dialect {
                Dialect::Current => Payload::Group(GroupCompletion {
                    event,
                    timestamp,
                    group_id,
                    data: GroupData {
                        group_size: size,
                        status,
                        generations,
                    },
                }),
                Dialect::Legacy => Payload::LegacyGroup(LegacyGroupCompletion {
                    event,
                    timestamp,
                    group_id,
                    data: LegacyGroupData {
                        group_size: size,
                        status,
                        generations,
                    },
                }),
            };
        }
        let embedding = self.kind == EventKind::AsyncEmbeddingCompleted;
        let (request, usage, response, model) = if embedding {
            let usage = content::embedding_usage(&mut ids);
            let response = content::embedding_response(&mut ids, &usage);
            let request = content::embedding_request(&self.webhook_id);
            (request, usage, response, content::EMBEDDING_MODEL)
        } else {
            let (request, pick) = content::chat_request(&mut ids, &self.webhook_id);
            let usage = content::chat_usage(&mut ids);
            let response = content::chat_response(&mut ids, pick, created, &usage);
            (request, usage, response, content::CHAT_MODEL)
        };
        let (response, usage) = match self.state {
            State::Success => (response, usage),
            State::Failed => (Value::Object(Default::default()), content::empty_usage()),
        };
        let id = ids.id("gen_", 20);
        let state_message = Some(self.state.default_message().to_owned());
        match self.dialect {
            Dialect::Current => {
                let data = Generation {
                    id,
                    state: self.state,
                    state_message,
                    request,
                    response,
                    model: Some(model.to_owned()),
                    created_at: Some(at(4)),
                    dispatched_at: Some(at(3)),
                    finished_at: Some(at(0)),
                    usage,
                };
                let webhook_id = self.webhook_id.clone();
                if self.kind == EventKind::WebhookTest {
                    Payload::Test(TestEvent {
                        event,
                        timestamp,
                        webhook_id,
                        data,
                    })
                } else {
                    Payload::Completion(Completion {
                        event,
                        timestamp,
                        webhook_id,
                        data,
                    })
                }
            }
            Dialect::Legacy => Payload::LegacyCompletion(LegacyCompletion {
                event,
                timestamp,
                webhook_id: self.webhook_id.clone(),
                generation_id: id,
                data: LegacyGeneration {
                    state: self.state,
                    state_message,
                    request,
                    response,
                    dispatched_at: Some(at(3)),
                    finished_at: Some(at(0)),
                },
            }),
        }
    }

    /// The payload with the overrides applied, and its bytes, not padded.
    fn unpadded(&self) -> Result<(Value, Vec<u8>), OverrideError> {
        let mut json = serde_json::to_value(self.payload())
            .map_err(|e| OverrideError::Payload(format!("payload did not serialize: {e}")))?;
        for edit in &self.overrides {
            edit.apply(&mut json)?;
        }
        let body = serde_json::to_vec(&json)
            .map_err(|e| OverrideError::Payload(format!("payload did not serialize: {e}")))?;
        Ok((json, body))
    }

    /// Whether [`build`](Self::build) would succeed (the overrides apply,
    /// the padding has its string), without making a padded body: a scenario
    /// is checked when it is read, and its 9.5 MB payload is made only when
    /// it is sent.
    ///
    /// A payload over the contract's [`MAX_PAYLOAD`] is refused (a large
    /// group before it is made); padding is bounded by the limit on its own.
    ///
    /// [`MAX_PAYLOAD`]: crate::contract::MAX_PAYLOAD
    pub fn check(&self) -> Result<(), OverrideError> {
        let too_large = |size: usize| size > crate::contract::MAX_PAYLOAD;
        // A group far over the limit by its estimate is not made at all
        // (the estimate is within a few percent: one near the limit is made
        // and measured).
        if let Some(size) = self
            .estimated_group_len()?
            .filter(|s| *s > 2 * crate::contract::MAX_PAYLOAD)
        {
            return Err(OverrideError::TooLarge { size });
        }
        let (mut json, body) = self.unpadded()?;
        if too_large(body.len()) {
            return Err(OverrideError::TooLarge { size: body.len() });
        }
        if self.pad_to.is_some_and(|t| t > body.len()) {
            pad(&mut json, self.kind, 0)?;
        }
        Ok(())
    }

    /// The size of a group's payload over two members, estimated from
    /// groups of one and two (with and without a Failed member) rather than
    /// made: a group of millions would take gigabytes to make.
    fn estimated_group_len(&self) -> Result<Option<usize>, OverrideError> {
        if !self.kind.is_group() || self.group_size <= 2 {
            return Ok(None);
        }
        let len = |members: usize, failed: usize| -> Result<usize, OverrideError> {
            let mut small = self.clone();
            small.group_size = members;
            small.failed_members = failed;
            Ok(small.unpadded()?.1.len())
        };
        // Members differ a little (their texts cycle): the bytes each adds
        // (with its comma) are averaged over a sample.
        const SAMPLE: usize = 8;
        let one = len(1, 0)?;
        let succeeded = len(1 + SAMPLE, 0)?.saturating_sub(one) as f64 / SAMPLE as f64;
        let failed = len(1 + SAMPLE, SAMPLE)?.saturating_sub(one) as f64 / SAMPLE as f64;
        let failed_members = self.failed_members.min(self.group_size - 1);
        let others = (self.group_size - 1 - failed_members) as f64;
        Ok(Some(
            one + (succeeded * others + failed * failed_members as f64) as usize,
        ))
    }

    /// Builds the payload, applies the overrides, derives key and headers.
    pub fn build(self) -> Result<Event, OverrideError> {
        let (mut json, mut body) = self.unpadded()?;
        if let Some(target) = self.pad_to.filter(|t| *t > body.len()) {
            pad(&mut json, self.kind, target - body.len())?;
            body = serde_json::to_vec(&json)
                .map_err(|e| OverrideError::Payload(format!("payload did not serialize: {e}")))?;
        }
        Ok(Event {
            kind: self.kind,
            dialect: self.dialect,
            key: idempotency_key(&json),
            webhook_id: self.webhook_id,
            json,
            body: body.into(),
        })
    }
}

/// A payload ready to send: JSON, its serialized bytes, and what derives from them.
#[derive(Debug, Clone)]
pub struct Event {
    kind: EventKind,
    dialect: Dialect,
    webhook_id: String,
    key: Option<String>,
    json: Value,
    body: bytes::Bytes,
}

impl Event {
    /// Starts building an event of `kind` with deterministic content.
    pub fn builder(kind: EventKind) -> EventBuilder {
        EventBuilder {
            kind,
            dialect: Dialect::Current,
            webhook_id: DEFAULT_WEBHOOK_ID.to_owned(),
            ids: IdSource::deterministic(seed_of(kind)),
            state: State::Success,
            group_size: 3,
            failed_members: 0,
            overrides: Vec::new(),
            pad_to: None,
        }
    }

    /// The event kind (also sent as `X-Inference-Event`).
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The payload dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The webhook identifier (a secret: mask it before printing).
    pub fn webhook_id(&self) -> &str {
        &self.webhook_id
    }

    /// The idempotency key: the generation id, or the group id for group events.
    /// `None` only when an override removed it.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The payload as JSON.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The serialized body, built once.
    pub fn body(&self) -> &bytes::Bytes {
        &self.body
    }

    /// The payload as indented JSON.
    pub fn pretty(&self) -> String {
        serde_json::to_string_pretty(&self.json).unwrap_or_default()
    }

    /// The headers the sender puts on the POST, in a stable order.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        crate::contract::headers(self.kind, &self.webhook_id, self.key.as_deref())
    }
}

/// The seed of an event kind's default content.
fn seed_of(kind: EventKind) -> u64 {
    match kind {
        EventKind::GenerationCompleted => 1,
        EventKind::AsyncEmbeddingCompleted => 2,
        EventKind::SlowGroupCompleted => 3,
        EventKind::WebhookTest => 4,
    }
}

/// Appends `extra` bytes of plain text to the string that carries the bulk of
/// a real large payload (the completion, or the embedding input).
fn pad(json: &mut Value, kind: EventKind, extra: usize) -> Result<(), OverrideError> {
    let pointer = match kind {
        EventKind::AsyncEmbeddingCompleted => "/data/request/input/0",
        EventKind::SlowGroupCompleted => "/data/generations/0/response/choices/0/message/content",
        _ => "/data/response/choices/0/message/content",
    };
    let Some(Value::String(text)) = json.pointer_mut(pointer) else {
        return Err(OverrideError::Payload(format!(
            "cannot pad the payload: there is no text at `{pointer}` to pad (a failed generation, a group whose first member failed and an empty group have no completion; an override may have removed it)"
        )));
    };
    const FILLER: &str = "The quick brown fox jumps over the lazy dog. ";
    text.reserve(extra);
    let mut left = extra;
    while left > 0 {
        let take = left.min(FILLER.len());
        text.push_str(&FILLER[..take]);
        left -= take;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_measured_without_being_made_and_refused_over_the_limit() {
        for (members, failed) in [(3, 0), (10, 4), (50, 0), (400, 100)] {
            for dialect in [Dialect::Current, Dialect::Legacy] {
                let builder = Event::builder(EventKind::SlowGroupCompleted)
                    .dialect(dialect)
                    .group_size(members)
                    .failed_members(failed);
                let estimate = builder.estimated_group_len().unwrap().unwrap();
                let made = builder.build().unwrap().body().len();
                let off = estimate.abs_diff(made) as f64 / made as f64;
                assert!(
                    off < 0.05,
                    "{members}/{failed} {dialect}: {estimate} vs {made}"
                );
            }
        }
        let huge = Event::builder(EventKind::SlowGroupCompleted).group_size(3_000_000);
        assert!(
            matches!(huge.check(), Err(OverrideError::TooLarge { size }) if size > 1_000_000_000)
        );
        // Just over the limit: made, measured, refused with its true size.
        let over = Event::builder(EventKind::SlowGroupCompleted).group_size(13_500);
        assert!(
            matches!(over.check(), Err(OverrideError::TooLarge { size }) if size > 10_000_000 && size < 20_000_000)
        );
        assert!(
            Event::builder(EventKind::SlowGroupCompleted)
                .group_size(12_000)
                .check()
                .is_ok()
        );
        // Padding to the limit stays within it.
        assert!(
            Event::builder(EventKind::GenerationCompleted)
                .pad_to(crate::contract::MAX_PAYLOAD)
                .check()
                .is_ok()
        );
    }

    #[test]
    fn same_builder_same_bytes() {
        for kind in EventKind::ALL {
            let a = Event::builder(kind).build().unwrap();
            let b = Event::builder(kind).build().unwrap();
            assert_eq!(a.body(), b.body());
        }
    }

    #[test]
    fn unique_ids_give_fresh_keys() {
        let a = Event::builder(EventKind::SlowGroupCompleted)
            .unique_ids()
            .build()
            .unwrap();
        let b = Event::builder(EventKind::SlowGroupCompleted)
            .unique_ids()
            .build()
            .unwrap();
        assert_ne!(a.key(), b.key());
    }

    #[test]
    fn key_and_header_follow_overrides() {
        let e = Event::builder(EventKind::GenerationCompleted)
            .set("data.id=gen_custom")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(e.key(), Some("gen_custom"));
        assert!(
            e.headers()
                .contains(&("X-Inference-Generation-ID", "gen_custom".into()))
        );
    }

    #[test]
    fn group_events_use_group_header() {
        let e = Event::builder(EventKind::SlowGroupCompleted)
            .dialect(Dialect::Legacy)
            .build()
            .unwrap();
        let key = e.key().unwrap().to_owned();
        assert!(key.starts_with("grp_"));
        assert!(e.headers().contains(&("X-Inference-Group-ID", key)));
    }

    #[test]
    fn every_payload_reads_back_as_its_type() {
        for kind in EventKind::ALL {
            for dialect in [Dialect::Current, Dialect::Legacy] {
                let e = Event::builder(kind).dialect(dialect).build().unwrap();
                let typed = Payload::from_json(e.json()).unwrap();
                assert_eq!(&serde_json::to_value(typed).unwrap(), e.json());
            }
        }
    }

    #[test]
    fn failed_members_are_the_last() {
        let e = Event::builder(EventKind::SlowGroupCompleted)
            .group_size(4)
            .failed_members(1)
            .build()
            .unwrap();
        let states: Vec<&str> = e.json()["data"]["generations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["state"].as_str().unwrap())
            .collect();
        assert_eq!(states, ["Success", "Success", "Success", "Failed"]);
    }

    #[test]
    fn padding_reaches_the_target_size() {
        for kind in EventKind::ALL {
            let e = Event::builder(kind).pad_to(100_000).build().unwrap();
            assert_eq!(e.body().len(), 100_000, "{kind}");
        }
        let small = Event::builder(EventKind::GenerationCompleted)
            .pad_to(10)
            .build()
            .unwrap();
        assert!(small.body().len() > 10, "never truncates");
    }

    #[test]
    fn check_says_what_build_would() {
        let unset = |path: &str| Override::parse_unset(path).unwrap();
        let content = "data.response.choices.0.message.content";
        let cases = [
            (
                Event::builder(EventKind::GenerationCompleted).pad_to(100_000),
                true,
            ),
            (
                Event::builder(EventKind::GenerationCompleted)
                    .pad_to(100_000)
                    .apply(unset(content)),
                false,
            ),
            // No padding needed: the missing string does not matter.
            (
                Event::builder(EventKind::GenerationCompleted)
                    .pad_to(10)
                    .apply(unset(content)),
                true,
            ),
            (
                Event::builder(EventKind::GenerationCompleted).apply(unset("data.nope.deeper")),
                Event::builder(EventKind::GenerationCompleted)
                    .apply(unset("data.nope.deeper"))
                    .build()
                    .is_ok(),
            ),
        ];
        for (builder, ok) in cases {
            assert_eq!(builder.check().is_ok(), ok, "{builder:?}");
            assert_eq!(builder.build().is_ok(), ok);
        }
    }

    #[test]
    fn event_names_and_aliases_parse() {
        for kind in EventKind::ALL {
            assert_eq!(kind.name().parse::<EventKind>(), Ok(kind));
        }
        assert_eq!(
            "group".parse::<EventKind>(),
            Ok(EventKind::SlowGroupCompleted)
        );
        assert!(
            "generation.failed"
                .parse::<EventKind>()
                .unwrap_err()
                .contains("expected one of")
        );
    }
}
