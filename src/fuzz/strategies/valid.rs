//! Valid payloads of all four events in both dialects, built from recipes.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use super::shape::{escape_non_ascii, shuffle};
use super::{
    Category, FuzzInput, dialect, extra_value, kind, pad, put, remove, special_float, text,
};
use crate::contract;
use crate::event::{Dialect, Event, EventKind, State};

/// A field the sender may omit or send as null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionalField {
    /// `data.usage` (not in groups).
    Usage,
    /// `data.model` (not in groups).
    Model,
    /// `stateMessage` (the first member's in a group).
    StateMessage,
    /// `data.createdAt` (not in groups).
    CreatedAt,
    /// `data.dispatchedAt` (not in groups).
    DispatchedAt,
    /// `data.finishedAt` (not in groups).
    FinishedAt,
    /// `response` (the first member's in a group).
    Response,
    /// `request.metadata` (the first member's in a group).
    RequestMetadata,
    /// `response.usage` (the first member's in a group).
    ResponseUsage,
    /// The first group member's `finishedAt` (groups only).
    MemberFinishedAt,
}

impl OptionalField {
    const ALL: [OptionalField; 10] = [
        OptionalField::Usage,
        OptionalField::Model,
        OptionalField::StateMessage,
        OptionalField::CreatedAt,
        OptionalField::DispatchedAt,
        OptionalField::FinishedAt,
        OptionalField::Response,
        OptionalField::RequestMetadata,
        OptionalField::ResponseUsage,
        OptionalField::MemberFinishedAt,
    ];

    /// The dotted path of this field for a payload of `kind`.
    fn path(self, kind: EventKind) -> Option<&'static str> {
        let group = kind.is_group();
        Some(match self {
            OptionalField::Usage if !group => "data.usage",
            OptionalField::Model if !group => "data.model",
            OptionalField::StateMessage if group => "data.generations.0.stateMessage",
            OptionalField::StateMessage => "data.stateMessage",
            OptionalField::CreatedAt if !group => "data.createdAt",
            OptionalField::DispatchedAt if !group => "data.dispatchedAt",
            OptionalField::FinishedAt if !group => "data.finishedAt",
            OptionalField::Response if group => "data.generations.0.response",
            OptionalField::Response => "data.response",
            OptionalField::RequestMetadata if group => "data.generations.0.request.metadata",
            OptionalField::RequestMetadata => "data.request.metadata",
            OptionalField::ResponseUsage if group => "data.generations.0.response.usage",
            OptionalField::ResponseUsage => "data.response.usage",
            OptionalField::MemberFinishedAt if group => "data.generations.0.finishedAt",
            _ => return None,
        })
    }
}

/// Where generated text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextSlot {
    /// The completion text (the embedding input; the first member's answer).
    Content,
    /// The `stateMessage` (the first member's in a group).
    StateMessage,
    /// A user message deep in `request`.
    Prompt,
    /// A string deep in `response` (a tool call's arguments).
    ResponseDeep,
    /// The model name (`data.model`; the first member's `request.model` in a group).
    Model,
}

impl TextSlot {
    fn path(self, kind: EventKind) -> &'static str {
        let group = kind.is_group();
        let embedding = kind == EventKind::AsyncEmbeddingCompleted;
        match self {
            TextSlot::Content if group => "data.generations.0.response.choices.0.message.content",
            TextSlot::Content if embedding => "data.request.input.0",
            TextSlot::Content => "data.response.choices.0.message.content",
            TextSlot::StateMessage if group => "data.generations.0.stateMessage",
            TextSlot::StateMessage => "data.stateMessage",
            TextSlot::Prompt if group => "data.generations.0.request.messages.1.content",
            TextSlot::Prompt if embedding => "data.request.input.1",
            TextSlot::Prompt => "data.request.messages.1.content",
            TextSlot::ResponseDeep if group => {
                "data.generations.0.response.choices.0.message.tool_calls.0.function.arguments"
            }
            TextSlot::ResponseDeep => {
                "data.response.choices.0.message.tool_calls.0.function.arguments"
            }
            TextSlot::Model if group => "data.generations.0.request.model",
            TextSlot::Model => "data.model",
        }
    }
}

/// Where an unknown extra field is added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The top level of the payload.
    Top,
    /// `data`.
    Data,
    /// `request` (the first member's in a group).
    Request,
    /// `response` (the first member's in a group).
    Response,
    /// The token counts: `data.usage`, or the first member's `response.usage` in a group.
    Usage,
}

impl Level {
    fn path(self, kind: EventKind) -> &'static str {
        let group = kind.is_group();
        match self {
            Level::Top => "",
            Level::Data => "data",
            Level::Request if group => "data.generations.0.request",
            Level::Request => "data.request",
            Level::Response if group => "data.generations.0.response",
            Level::Response => "data.response",
            Level::Usage if group => "data.generations.0.response.usage",
            Level::Usage => "data.usage",
        }
    }
}

/// The description of a valid payload.
#[derive(Debug, Clone)]
pub struct ValidRecipe {
    /// The event.
    pub kind: EventKind,
    /// The payload dialect.
    pub dialect: Dialect,
    /// Seeds the realistic content.
    pub seed: u64,
    /// Whether the generation failed (state `Failed`).
    pub failed: bool,
    /// Generations in the group (group events only).
    pub group_size: usize,
    /// How many of the group's generations failed, at most `group_size`.
    pub failed_members: usize,
    /// Optional fields left out.
    pub absent: Vec<OptionalField>,
    /// Optional fields sent as `null`.
    pub null: Vec<OptionalField>,
    /// Generated text, and where each goes.
    pub texts: Vec<(TextSlot, String)>,
    /// Depth of nested objects added in `request` and `response`.
    pub nesting: usize,
    /// Extra floats appended to embedding vectors (special values included).
    pub floats: Vec<f64>,
    /// A large `total_tokens` count (up to 2^64 - 1), if any.
    pub big_usage: Option<u64>,
    /// Unknown fields added: where, the `N` of its name `x_extra_N`, and its value.
    pub extras: Vec<(Level, u8, Value)>,
    /// Shuffles the key order of every object, from this seed.
    pub shuffle: Option<u64>,
    /// Pads the body to about this many bytes (0: no padding).
    pub pad: usize,
    /// Writes every non-ASCII character as a `\uXXXX` escape (pairs beyond the BMP).
    pub escape_non_ascii: bool,
}

/// Valid payloads of all four events in both dialects.
pub fn valid_recipe() -> impl Strategy<Value = ValidRecipe> {
    let shape = (
        kind(),
        dialect(),
        any::<u64>(),
        any::<bool>(),
        0usize..8,
        0usize..3,
    );
    let fields = (
        proptest::collection::vec(select(OptionalField::ALL.to_vec()), 0..3),
        proptest::collection::vec(select(OptionalField::ALL.to_vec()), 0..2),
        proptest::collection::vec(
            (
                select(vec![
                    TextSlot::Content,
                    TextSlot::StateMessage,
                    TextSlot::Prompt,
                    TextSlot::ResponseDeep,
                    TextSlot::Model,
                ]),
                text(),
            ),
            0..3,
        ),
        0usize..40,
    );
    let numbers = (
        proptest::collection::vec(special_float(), 0..8),
        proptest::option::of(any::<u64>()),
        proptest::collection::vec(
            (
                select(vec![
                    Level::Top,
                    Level::Data,
                    Level::Request,
                    Level::Response,
                    Level::Usage,
                ]),
                any::<u8>(),
                extra_value(),
            ),
            0..4,
        ),
        proptest::option::of(any::<u64>()),
        pad(),
        any::<bool>(),
    );
    (shape, fields, numbers).prop_map(
        |(
            (kind, dialect, seed, failed, group_size, failed_members),
            (absent, null, texts, nesting),
            (floats, big_usage, extras, shuffle, pad, escape_non_ascii),
        )| {
            ValidRecipe {
                kind,
                dialect,
                seed,
                failed,
                group_size,
                failed_members: failed_members.min(group_size),
                absent,
                null,
                texts,
                nesting,
                floats,
                big_usage,
                extras,
                shuffle,
                pad,
                escape_non_ascii,
            }
        },
    )
}

impl ValidRecipe {
    /// The payload as JSON, with `key` as its idempotency key.
    pub fn json(&self, key: &str, webhook_id: &str) -> Value {
        let state = if self.failed {
            State::Failed
        } else {
            State::Success
        };
        let mut builder = Event::builder(self.kind)
            .dialect(self.dialect)
            .seed(self.seed)
            .webhook_id(webhook_id)
            .state(state);
        if self.kind.is_group() {
            builder = builder
                .group_size(self.group_size)
                .failed_members(self.failed_members);
        }
        let mut json = builder
            .build()
            .map(|e| e.json().clone())
            .unwrap_or_else(|_| json!({}));
        put(
            &mut json,
            contract::key_path(self.kind, self.dialect),
            Value::String(key.to_owned()),
        );
        // An empty group has no member to put things in.
        let applies =
            |path: &str| !(path.starts_with("data.generations.0") && self.group_size == 0);
        for (slot, text) in &self.texts {
            if applies(slot.path(self.kind)) {
                put(&mut json, slot.path(self.kind), Value::String(text.clone()));
            }
        }
        if self.nesting > 0 && applies(Level::Request.path(self.kind)) {
            let mut nested = json!("leaf");
            for depth in 0..self.nesting {
                nested = json!({ format!("level{depth}"): nested });
            }
            put(
                &mut json,
                &format!("{}.context", Level::Request.path(self.kind)),
                nested.clone(),
            );
            put(
                &mut json,
                &format!("{}.trace", Level::Response.path(self.kind)),
                nested,
            );
        }
        if self.kind == EventKind::AsyncEmbeddingCompleted
            && let Some(Value::Array(vector)) = json.pointer_mut("/data/response/data/0/embedding")
        {
            vector.extend(self.floats.iter().map(|f| json!(f)));
        }
        if let Some(big) = self
            .big_usage
            .filter(|_| applies(Level::Usage.path(self.kind)))
        {
            put(
                &mut json,
                &format!("{}.total_tokens", Level::Usage.path(self.kind)),
                json!(big),
            );
        }
        for (level, n, value) in &self.extras {
            let parent = level.path(self.kind);
            let path = if parent.is_empty() {
                format!("x_extra_{n}")
            } else {
                format!("{parent}.x_extra_{n}")
            };
            if applies(&path) {
                put(&mut json, &path, value.clone());
            }
        }
        for field in &self.null {
            if let Some(path) = field.path(self.kind).filter(|p| applies(p)) {
                put(&mut json, path, Value::Null);
            }
        }
        for field in &self.absent {
            if let Some(path) = field.path(self.kind) {
                remove(&mut json, path);
            }
        }
        if let Some(seed) = self.shuffle {
            let mut state = seed;
            shuffle(&mut json, &mut state);
        }
        json
    }

    /// Serializes `json` as this recipe says (padding, escapes). Padding is
    /// spliced into the serialized text as a last field, without re-serializing.
    pub fn body(&self, json: Value) -> Vec<u8> {
        let text = serde_json::to_string(&json).unwrap_or_default();
        let mut body = if self.escape_non_ascii {
            escape_non_ascii(&text)
        } else {
            text
        }
        .into_bytes();
        const FIELD: &[u8] = br#","x_padding":""#;
        let fixed = FIELD.len() + 1;
        if self.pad > body.len() + fixed && body.last() == Some(&b'}') && body.len() > 2 {
            let fill = self.pad - body.len() - fixed;
            body.pop();
            body.reserve(fixed + fill + 1);
            body.extend_from_slice(FIELD);
            body.resize(body.len() + fill, b'p');
            body.extend_from_slice(b"\"}");
        }
        body
    }

    /// The contract's headers for this payload.
    pub fn headers(&self, key: &str, webhook_id: &str) -> Vec<(String, String)> {
        contract::headers(self.kind, webhook_id, Some(key))
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    }

    /// One line describing the payload.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("{} ({})", self.kind, self.dialect)];
        if self.failed {
            parts.push("state Failed".into());
        }
        if self.kind.is_group() {
            parts.push(format!("{} generations", self.group_size));
        }
        // What the payload really lacks: paths that apply to this event,
        // once each; a field both nulled and removed is removed.
        let paths = |fields: &[OptionalField], except: &[OptionalField]| -> Vec<&str> {
            let mut names: Vec<&str> = fields
                .iter()
                .filter(|f| !except.contains(f))
                .filter_map(|f| f.path(self.kind))
                .collect();
            names.sort_unstable();
            names.dedup();
            names
        };
        let absent = paths(&self.absent, &[]);
        if !absent.is_empty() {
            parts.push(format!("without {}", absent.join(", ")));
        }
        let null = paths(&self.null, &self.absent);
        if !null.is_empty() {
            parts.push(format!("null {}", null.join(", ")));
        }
        for (slot, text) in &self.texts {
            let shown: String = text.chars().take(24).collect();
            let more = if text.chars().count() > 24 { "…" } else { "" };
            parts.push(format!("text {shown:?}{more} at {}", slot.path(self.kind)));
        }
        if self.nesting > 0 {
            parts.push(format!("nesting {}", self.nesting));
        }
        if !self.extras.is_empty() {
            parts.push(format!("{} extra fields", self.extras.len()));
        }
        if self.pad > 0 {
            parts.push(format!("padded to {} bytes", self.pad));
        }
        if self.escape_non_ascii {
            parts.push("non-ASCII written as \\u escapes".into());
        }
        parts.join(", ")
    }

    /// The input to send.
    pub fn input(&self, key: &str, webhook_id: &str) -> FuzzInput {
        FuzzInput {
            category: Category::Valid,
            description: self.describe(),
            event: Some(self.kind),
            key: Some(key.to_owned()),
            built_with: key.to_owned(),
            headers: self.headers(key, webhook_id),
            body: self.body(self.json(key, webhook_id)),
            title_case_headers: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;

    #[test]
    fn padding_is_exact_and_stays_json() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut recipe = valid_recipe().new_tree(&mut runner).unwrap().current();
        recipe.pad = 50_000;
        let body = recipe.body(recipe.json("gen_k", "wh"));
        assert_eq!(body.len(), 50_000);
        let mut json: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            json.as_object_mut()
                .unwrap()
                .shift_remove("x_padding")
                .is_some()
        );
        assert_eq!(json, recipe.json("gen_k", "wh"));
    }

    #[test]
    fn escaped_bodies_decode_to_the_same_json() {
        let escaped = escape_non_ascii(r#"{"t":"é🚀"}"#);
        assert_eq!(escaped, r#"{"t":"\u00e9\ud83d\ude80"}"#);
        let a: Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(a["t"], "é🚀");
    }
}
