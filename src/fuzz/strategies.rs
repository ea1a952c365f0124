//! Proptest strategies for webhook inputs, reusable from the library.
//!
//! A strategy yields a *recipe*, a small description of an input (which
//! event, which fields absent, which text where, how large). The input is
//! built from the recipe, so proptest's shrinking of the recipe shrinks the
//! payload: fewer extra fields, shorter text, no padding.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use crate::contract;
use crate::event::overrides::parse_path;
use crate::event::{Dialect, Event, EventKind, Override, State};

/// Which kind of input a case is, and so what a receiver must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// A valid payload: 2xx, and the effect once.
    Valid,
    /// Not a valid payload: 4xx; a 5xx or a dropped connection is a finding.
    Invalid,
    /// A valid payload with unusual headers: no 5xx, no dropped connection.
    Headers,
}

impl Category {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Category::Valid => "valid",
            Category::Invalid => "invalid",
            Category::Headers => "headers",
        }
    }
}

/// A field the sender may omit or send as null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionalField {
    Usage,
    Model,
    StateMessage,
    CreatedAt,
    DispatchedAt,
    FinishedAt,
    Response,
    RequestMetadata,
    ResponseUsage,
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
    StateMessage,
    /// A user message deep in `request`.
    Prompt,
    /// A string deep in `response` (a tool call's arguments).
    ResponseDeep,
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
    Top,
    Data,
    Request,
    Response,
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
    pub kind: EventKind,
    pub dialect: Dialect,
    /// Seeds the realistic content.
    pub seed: u64,
    pub failed: bool,
    pub group_size: usize,
    pub failed_members: usize,
    pub absent: Vec<OptionalField>,
    pub null: Vec<OptionalField>,
    pub texts: Vec<(TextSlot, String)>,
    /// Depth of nested objects added in `request` and `response`.
    pub nesting: usize,
    /// Extra floats appended to embedding vectors (special values included).
    pub floats: Vec<f64>,
    pub big_usage: Option<u64>,
    pub extras: Vec<(Level, u8, Value)>,
    /// Shuffles the key order of every object, from this seed.
    pub shuffle: Option<u64>,
    /// Pads the body to about this many bytes (0: no padding).
    pub pad: usize,
    /// Writes every non-ASCII character as a `\uXXXX` escape (pairs beyond the BMP).
    pub escape_non_ascii: bool,
}

/// A built input: what to send and what it is.
#[derive(Debug, Clone)]
pub struct FuzzInput {
    pub category: Category,
    /// One line saying what this input is.
    pub description: String,
    pub event: Option<EventKind>,
    /// The idempotency key, for the effects probe (valid inputs).
    pub key: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send header names in Title-Case on the wire.
    pub title_case_headers: bool,
}

fn unicode_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => select(vec!['a', 'Z', '0', ' ', '"', '\\', '/', '}', '<']),
        2 => select(vec!['é', 'ü', 'ñ', 'ç', 'Å', 'ø', 'ß']),
        2 => select(vec!['日', '本', '語', '中', '文', '한', '국']),
        2 => select(vec!['🚀', '🎉', '👩', '\u{200D}', '💻', '🏳', '\u{FE0F}']),
        1 => select(vec!['ש', 'ל', 'ו', 'ם', 'م', 'ر', '\u{200F}', '\u{202E}', '\u{2067}']),
        1 => select(vec!['\u{0301}', '\u{0308}', '\u{0327}', '\u{20DD}']),
        1 => select(vec!['\u{0000}', '\u{0007}', '\u{0008}', '\t', '\n', '\r', '\u{001F}', '\u{007F}', '\u{2028}', '\u{FFFF}']),
    ]
}

/// Text with accents, CJK, emoji, right-to-left marks, combining characters
/// and control characters; now and then very long.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        20 => proptest::collection::vec(unicode_char(), 0..40).prop_map(String::from_iter),
        1 => (1_000usize..200_000).prop_map(|n| "lorem ipsum ".repeat(n / 12)),
    ]
}

fn special_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        select(vec![
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            5e-324,
            f64::MIN_POSITIVE,
            1e300,
            -1.5e308,
            0.1,
            1.0 / 3.0
        ]),
        -1.0f64..1.0,
    ]
}

fn extra_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!("extra")),
        Just(json!({"nested": [1, "two", {"three": null}]})),
        Just(json!([])),
    ]
}

fn kind() -> impl Strategy<Value = EventKind> {
    select(EventKind::ALL.to_vec())
}

fn dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![Just(Dialect::Current), Just(Dialect::Legacy)]
}

fn pad() -> impl Strategy<Value = usize> {
    prop_oneof![
        90 => Just(0usize),
        9 => 1_000usize..1_000_000,
        1 => 1_000_000usize..9_500_000,
    ]
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

/// Puts `value` at a dotted path, creating what is missing: the `--set`
/// mechanism of the event catalog. A path that cannot take it is skipped.
fn put(root: &mut Value, path: &str, value: Value) {
    if let Ok(path) = parse_path(path) {
        let _ = Override::Set { path, value }.apply(root);
    }
}

/// Removes the field at a dotted path (`--unset`); a missing path is no error.
fn remove(root: &mut Value, path: &str) {
    if let Ok(path) = parse_path(path) {
        let _ = Override::Unset { path }.apply(root);
    }
}

fn shuffle(value: &mut Value, state: &mut u64) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            for i in (1..entries.len()).rev() {
                *state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                entries.swap(i, (*state >> 33) as usize % (i + 1));
            }
            for (_, v) in entries.iter_mut() {
                shuffle(v, state);
            }
            map.extend(entries);
        }
        Value::Array(items) => items.iter_mut().for_each(|v| shuffle(v, state)),
        _ => {}
    }
}

/// Writes JSON with every non-ASCII character as `\uXXXX` (surrogate pairs beyond the BMP).
pub fn escape_non_ascii(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
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
            headers: self.headers(key, webhook_id),
            body: self.body(self.json(key, webhook_id)),
            title_case_headers: false,
        }
    }
}

/// The description of an input a receiver should reject.
#[derive(Debug, Clone)]
pub enum InvalidRecipe {
    /// A valid body cut short at this fraction (per mille) of its length.
    Truncated { base: BaseRecipe, per_mille: u16 },
    /// A valid body with one byte replaced by a character that breaks JSON.
    Malformed {
        base: BaseRecipe,
        at_per_mille: u16,
        byte: u8,
    },
    /// A JSON array or scalar at the top level.
    NotAnObject(Value),
    /// A field of the wrong type.
    WrongType {
        base: BaseRecipe,
        field: u8,
        value: Value,
    },
    /// `event`, the key or `data` missing.
    Missing { base: BaseRecipe, field: u8 },
    /// No body at all.
    Empty,
    /// A valid body sent with another Content-Type.
    WrongContentType {
        base: BaseRecipe,
        content_type: &'static str,
    },
}

/// A plain valid payload to derive other inputs from.
#[derive(Debug, Clone, Copy)]
pub struct BaseRecipe {
    pub kind: EventKind,
    pub dialect: Dialect,
    pub seed: u64,
}

impl BaseRecipe {
    /// `generation.completed (legacy)`.
    fn name(self) -> String {
        format!("{} ({})", self.kind, self.dialect)
    }

    fn recipe(self) -> ValidRecipe {
        ValidRecipe {
            kind: self.kind,
            dialect: self.dialect,
            seed: self.seed,
            failed: false,
            group_size: 2,
            failed_members: 0,
            absent: vec![],
            null: vec![],
            texts: vec![],
            nesting: 0,
            floats: vec![],
            big_usage: None,
            extras: vec![],
            shuffle: None,
            pad: 0,
            escape_non_ascii: false,
        }
    }
}

fn base() -> impl Strategy<Value = BaseRecipe> {
    (kind(), dialect(), any::<u64>()).prop_map(|(kind, dialect, seed)| BaseRecipe {
        kind,
        dialect,
        seed,
    })
}

const WRONG_TYPE_FIELDS: [&str; 6] = [
    "event",
    "data",
    "timestamp",
    "data.state",
    "data.generations",
    "data.request",
];
const MISSING_FIELDS: [&str; 3] = ["event", "key", "data"];

/// Inputs a receiver should answer 4xx.
pub fn invalid_recipe() -> impl Strategy<Value = InvalidRecipe> {
    prop_oneof![
        (base(), 0u16..1000)
            .prop_map(|(base, per_mille)| InvalidRecipe::Truncated { base, per_mille }),
        (base(), 0u16..1000, select(b"}[],:\"\\x\x00".to_vec())).prop_map(
            |(base, at_per_mille, byte)| InvalidRecipe::Malformed {
                base,
                at_per_mille,
                byte
            }
        ),
        prop_oneof![
            Just(json!([])),
            Just(json!([{"event": "generation.completed"}])),
            Just(json!(null)),
            Just(json!(42)),
            Just(json!("generation.completed")),
            Just(json!(true)),
        ]
        .prop_map(InvalidRecipe::NotAnObject),
        (
            base(),
            0u8..6,
            prop_oneof![
                Just(json!(7)),
                Just(json!([])),
                Just(json!("x")),
                Just(json!(null)),
                Just(json!({}))
            ]
        )
            .prop_map(|(base, field, value)| InvalidRecipe::WrongType {
                base,
                field,
                value
            }),
        (base(), 0u8..3).prop_map(|(base, field)| InvalidRecipe::Missing { base, field }),
        Just(InvalidRecipe::Empty),
        (
            base(),
            select(vec![
                "text/plain",
                "application/x-www-form-urlencoded",
                "application/xml"
            ])
        )
            .prop_map(|(base, content_type)| InvalidRecipe::WrongContentType {
                base,
                content_type
            }),
    ]
}

impl InvalidRecipe {
    /// The input to send.
    pub fn input(&self, key: &str, webhook_id: &str) -> FuzzInput {
        let base_input = |b: &BaseRecipe| b.recipe().input(key, webhook_id);
        let (event, mut headers, body, description) = match self {
            InvalidRecipe::Truncated { base, per_mille } => {
                let mut input = base_input(base);
                let cut = input.body.len() * usize::from(*per_mille) / 1000;
                input.body.truncate(cut);
                (
                    Some(base.kind),
                    input.headers,
                    input.body,
                    format!("{} body truncated to {cut} bytes", base.name()),
                )
            }
            InvalidRecipe::Malformed {
                base,
                at_per_mille,
                byte,
            } => {
                let mut input = base_input(base);
                let at = (input.body.len() * usize::from(*at_per_mille) / 1000)
                    .min(input.body.len().saturating_sub(1));
                if let Some(b) = input.body.get_mut(at) {
                    *b = *byte;
                }
                (
                    Some(base.kind),
                    input.headers,
                    input.body,
                    format!(
                        "{} body with byte {at} replaced by {:?}",
                        base.name(),
                        *byte as char
                    ),
                )
            }
            InvalidRecipe::NotAnObject(value) => {
                let input = BaseRecipe {
                    kind: EventKind::GenerationCompleted,
                    dialect: Dialect::Current,
                    seed: 0,
                }
                .recipe()
                .input(key, webhook_id);
                (
                    None,
                    input.headers,
                    value.to_string().into_bytes(),
                    format!("top-level {value}"),
                )
            }
            InvalidRecipe::WrongType { base, field, value } => {
                let recipe = base.recipe();
                let mut json = recipe.json(key, webhook_id);
                let path = WRONG_TYPE_FIELDS[usize::from(*field) % WRONG_TYPE_FIELDS.len()];
                put(&mut json, path, value.clone());
                (
                    Some(base.kind),
                    recipe.headers(key, webhook_id),
                    recipe.body(json),
                    format!("{} with `{path}` set to {value}", base.name()),
                )
            }
            InvalidRecipe::Missing { base, field } => {
                let recipe = base.recipe();
                let mut json = recipe.json(key, webhook_id);
                let name = MISSING_FIELDS[usize::from(*field) % MISSING_FIELDS.len()];
                let path = match name {
                    "key" => contract::key_path(base.kind, base.dialect),
                    other => other,
                };
                remove(&mut json, path);
                (
                    Some(base.kind),
                    recipe.headers(key, webhook_id),
                    recipe.body(json),
                    format!("{} without `{path}`", base.name()),
                )
            }
            InvalidRecipe::Empty => {
                let input = BaseRecipe {
                    kind: EventKind::GenerationCompleted,
                    dialect: Dialect::Current,
                    seed: 0,
                }
                .recipe()
                .input(key, webhook_id);
                (None, input.headers, Vec::new(), "an empty body".to_owned())
            }
            InvalidRecipe::WrongContentType { base, content_type } => {
                let mut input = base_input(base);
                for h in input
                    .headers
                    .iter_mut()
                    .filter(|(k, _)| k == "Content-Type")
                {
                    h.1 = (*content_type).to_owned();
                }
                (
                    Some(base.kind),
                    input.headers,
                    input.body,
                    format!("{} sent as Content-Type {content_type}", base.name()),
                )
            }
        };
        if event.is_none() {
            headers.retain(|(k, _)| k != contract::GENERATION_ID_HEADER);
        }
        FuzzInput {
            category: Category::Invalid,
            description,
            event,
            key: None,
            headers,
            body,
            title_case_headers: false,
        }
    }
}

/// A valid payload with unusual headers.
#[derive(Debug, Clone)]
pub enum HeaderRecipe {
    /// `X-Inference-Event` names another event than the body.
    EventMismatch {
        base: BaseRecipe,
        header_event: EventKind,
    },
    /// Header names sent in Title-Case instead of lower case.
    TitleCase { base: BaseRecipe },
    /// One header sent twice, with the same or another value.
    Duplicated {
        base: BaseRecipe,
        header: u8,
        same_value: bool,
    },
}

/// Header variations: disagreeing event header, name case, duplicates.
pub fn header_recipe() -> impl Strategy<Value = HeaderRecipe> {
    prop_oneof![
        (base(), kind())
            .prop_map(|(base, header_event)| HeaderRecipe::EventMismatch { base, header_event }),
        base().prop_map(|base| HeaderRecipe::TitleCase { base }),
        (base(), 0u8..5, any::<bool>()).prop_map(|(base, header, same_value)| {
            HeaderRecipe::Duplicated {
                base,
                header,
                same_value,
            }
        }),
    ]
}

impl HeaderRecipe {
    /// The input to send.
    pub fn input(&self, key: &str, webhook_id: &str) -> FuzzInput {
        let (base, mut input) = match self {
            HeaderRecipe::EventMismatch { base, .. }
            | HeaderRecipe::TitleCase { base }
            | HeaderRecipe::Duplicated { base, .. } => (base, base.recipe().input(key, webhook_id)),
        };
        input.category = Category::Headers;
        input.key = None;
        match self {
            HeaderRecipe::EventMismatch { header_event, .. } => {
                for h in input
                    .headers
                    .iter_mut()
                    .filter(|(k, _)| k == contract::EVENT_HEADER)
                {
                    h.1 = header_event.name().to_owned();
                }
                input.description = format!(
                    "{} body with X-Inference-Event: {header_event}",
                    base.name()
                );
            }
            HeaderRecipe::TitleCase { .. } => {
                input.title_case_headers = true;
                input.key = Some(key.to_owned());
                input.description = format!("{} with Title-Case header names", base.name());
            }
            HeaderRecipe::Duplicated {
                header, same_value, ..
            } => {
                let i = usize::from(*header) % input.headers.len();
                let (name, value) = input.headers[i].clone();
                let second = if *same_value {
                    value
                } else {
                    format!("{value}-other")
                };
                input.headers.push((name.clone(), second));
                input.description = format!(
                    "{} with {name} sent twice ({} value)",
                    base.name(),
                    if *same_value { "same" } else { "another" }
                );
            }
        }
        input
    }
}

/// Any recipe of one category.
#[derive(Debug, Clone)]
pub enum Recipe {
    Valid(ValidRecipe),
    Invalid(InvalidRecipe),
    Headers(HeaderRecipe),
}

impl Recipe {
    /// The input to send.
    pub fn input(&self, key: &str, webhook_id: &str) -> FuzzInput {
        match self {
            Recipe::Valid(r) => r.input(key, webhook_id),
            Recipe::Invalid(r) => r.input(key, webhook_id),
            Recipe::Headers(r) => r.input(key, webhook_id),
        }
    }
}

/// Recipes of the given categories (all three when empty), valid ones most often.
pub fn recipe(only: Option<Category>) -> BoxedStrategy<Recipe> {
    match only {
        Some(Category::Valid) => valid_recipe().prop_map(Recipe::Valid).boxed(),
        Some(Category::Invalid) => invalid_recipe().prop_map(Recipe::Invalid).boxed(),
        Some(Category::Headers) => header_recipe().prop_map(Recipe::Headers).boxed(),
        None => prop_oneof![
            6 => valid_recipe().prop_map(Recipe::Valid),
            3 => invalid_recipe().prop_map(Recipe::Invalid),
            1 => header_recipe().prop_map(Recipe::Headers),
        ]
        .boxed(),
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
