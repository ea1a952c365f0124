//! Typed payloads: the exact JSON shapes the sender posts, in both dialects.
//!
//! Field names and order follow `docs/sender-contract.md`. Every type deserializes
//! back from its own output, so a payload can be checked against its shape.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Final state of a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub enum State {
    /// The generation finished and has a response.
    Success,
    /// The generation failed; `stateMessage` says why.
    Failed,
}

impl State {
    /// The `stateMessage` the sender pairs with this state by default.
    pub fn default_message(self) -> &'static str {
        match self {
            State::Success => "Success",
            State::Failed => "Generation failed: the model did not return a response",
        }
    }
}

/// `data` of a `current`-dialect generation or embedding completion.
///
/// Fields the sender may omit or send as null are optional here, so any
/// payload a receiver must accept reads back into this type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Generation {
    /// The generation id, the idempotency key (`data.id`).
    pub id: String,
    /// Whether the generation succeeded or failed.
    pub state: State,
    /// The state in words: `Success`, or why the generation failed.
    #[serde(default)]
    pub state_message: Option<String>,
    /// The original request: a chat-completion or embeddings request.
    #[serde(default)]
    pub request: Value,
    /// The model's answer in OpenAI format; `{}` when the generation failed.
    #[serde(default)]
    pub response: Value,
    /// The model that ran, e.g. `meta-llama/llama-3.2-3b-instruct/fp-16`.
    #[serde(default)]
    pub model: Option<String>,
    /// When the request was created, ISO 8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// When the generation was dispatched to a model, ISO 8601.
    #[serde(default)]
    pub dispatched_at: Option<String>,
    /// When the generation finished, ISO 8601.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Token counts; zero when the generation failed.
    #[serde(default)]
    pub usage: Value,
}

/// `generation.completed` / `async-embedding.completed`, `current` dialect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// The event name, e.g. `generation.completed`.
    pub event: String,
    /// When the event was sent, ISO 8601.
    pub timestamp: String,
    /// The webhook identifier (a secret). Sent as `webhookId`.
    pub webhook_id: String,
    /// The finished generation.
    pub data: Generation,
}

/// `webhook.test`, `current` dialect: a completion whose webhook id is snake_case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestEvent {
    /// The event name, `webhook.test`.
    pub event: String,
    /// When the event was sent, ISO 8601.
    pub timestamp: String,
    /// The webhook identifier (a secret). Sent as `webhook_id`.
    pub webhook_id: String,
    /// A sample generation, shaped like a completion's.
    pub data: Generation,
}

/// `data` of a `legacy`-dialect completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyGeneration {
    /// Whether the generation succeeded or failed.
    pub state: State,
    /// The state in words: `Success`, or why the generation failed.
    #[serde(default)]
    pub state_message: Option<String>,
    /// The original request: a chat-completion or embeddings request.
    #[serde(default)]
    pub request: Value,
    /// The model's answer in OpenAI format; `{}` when the generation failed.
    #[serde(default)]
    pub response: Value,
    /// When the generation was dispatched to a model, ISO 8601.
    #[serde(default)]
    pub dispatched_at: Option<String>,
    /// When the generation finished, ISO 8601.
    #[serde(default)]
    pub finished_at: Option<String>,
}

/// Generation, embedding and test events, `legacy` dialect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegacyCompletion {
    /// The event name, e.g. `generation.completed`.
    pub event: String,
    /// When the event was sent, ISO 8601.
    pub timestamp: String,
    /// The webhook identifier (a secret).
    pub webhook_id: String,
    /// The generation id, the idempotency key.
    pub generation_id: String,
    /// The finished generation.
    pub data: LegacyGeneration,
}

/// One entry of a group's `generations` list (the same in both dialects).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMember {
    /// The member generation's id.
    pub generation_id: String,
    /// Whether the generation succeeded or failed.
    pub state: State,
    /// The state in words: `Success`, or why the generation failed.
    #[serde(default)]
    pub state_message: Option<String>,
    /// The member's original chat-completion request.
    #[serde(default)]
    pub request: Value,
    /// The model's answer in OpenAI format; `{}` when the generation failed.
    #[serde(default)]
    pub response: Value,
    /// ISO 8601 timestamp, or `null` when the member never finished.
    #[serde(default)]
    pub finished_at: Option<String>,
}

/// `data` of a `current`-dialect group completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupData {
    /// How many generations the group has.
    pub group_size: u64,
    /// The group's status, `completed`.
    pub status: String,
    /// The group's generations, one entry each.
    pub generations: Vec<GroupMember>,
}

/// `slow-group.completed`, `current` dialect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupCompletion {
    /// The event name, `slow-group.completed`.
    pub event: String,
    /// When the event was sent, ISO 8601.
    pub timestamp: String,
    /// The group id, the idempotency key.
    pub group_id: String,
    /// The finished group.
    pub data: GroupData,
}

/// `data` of a `legacy`-dialect group completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegacyGroupData {
    /// How many generations the group has.
    pub group_size: u64,
    /// The group's status, `completed`.
    pub status: String,
    /// The group's generations, one entry each.
    pub generations: Vec<GroupMember>,
}

/// `slow-group.completed`, `legacy` dialect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegacyGroupCompletion {
    /// The event name, `slow-group.completed`.
    pub event: String,
    /// When the event was sent, ISO 8601.
    pub timestamp: String,
    /// The group id, the idempotency key.
    pub group_id: String,
    /// The finished group.
    pub data: LegacyGroupData,
}

/// Any payload the sender can post.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Payload {
    /// `generation.completed` or `async-embedding.completed`, `current` dialect.
    Completion(Completion),
    /// `webhook.test`, `current` dialect.
    Test(TestEvent),
    /// A generation, embedding or test event, `legacy` dialect.
    LegacyCompletion(LegacyCompletion),
    /// `slow-group.completed`, `current` dialect.
    Group(GroupCompletion),
    /// `slow-group.completed`, `legacy` dialect.
    LegacyGroup(LegacyGroupCompletion),
}

impl Payload {
    /// Reads a payload back into its typed shape, choosing the shape from the
    /// event name and the dialect's key fields. Unknown extra fields are ignored.
    pub fn from_json(value: &Value) -> Result<Payload, String> {
        let event = value
            .get("event")
            .and_then(Value::as_str)
            .ok_or("missing string field `event`")?;
        let has = |k: &str| value.get(k).is_some();
        let parsed = match event {
            "slow-group.completed" if has("groupId") => {
                serde_json::from_value(value.clone()).map(Payload::Group)
            }
            "slow-group.completed" => {
                serde_json::from_value(value.clone()).map(Payload::LegacyGroup)
            }
            _ if has("generation_id") => {
                serde_json::from_value(value.clone()).map(Payload::LegacyCompletion)
            }
            "webhook.test" => serde_json::from_value(value.clone()).map(Payload::Test),
            _ => serde_json::from_value(value.clone()).map(Payload::Completion),
        };
        parsed.map_err(|e| format!("`{event}` payload does not match its shape: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seed_example_parses_as_current_completion() {
        let seed = json!({
          "event": "generation.completed",
          "timestamp": "2026-03-13T12:00:00.000Z",
          "webhookId": "wh_123",
          "data": {
            "id": "gen_123", "state": "Success", "stateMessage": "Success",
            "request": {}, "response": {},
            "model": "meta-llama/llama-3.2-3b-instruct/fp-16",
            "createdAt": "2026-03-13T12:00:00.000Z",
            "dispatchedAt": "2026-03-13T12:00:01.000Z",
            "finishedAt": "2026-03-13T12:00:04.000Z",
            "usage": {}
          }
        });
        let p = Payload::from_json(&seed).unwrap();
        assert!(matches!(p, Payload::Completion(_)));
        assert_eq!(serde_json::to_value(&p).unwrap(), seed);
    }

    #[test]
    fn seed_group_example_round_trips() {
        let seed = json!({
          "event": "slow-group.completed",
          "timestamp": "2026-03-13T12:00:00.000Z",
          "groupId": "grp_123",
          "data": { "groupSize": 3, "status": "completed", "generations": [] }
        });
        let p = Payload::from_json(&seed).unwrap();
        assert!(matches!(p, Payload::Group(_)));
        assert_eq!(serde_json::to_value(&p).unwrap(), seed);
    }

    #[test]
    fn wrong_shape_is_an_error() {
        let err = Payload::from_json(&json!({"event": "generation.completed"})).unwrap_err();
        assert!(err.contains("generation.completed"), "{err}");
        assert!(Payload::from_json(&json!([1])).is_err());
    }
}
