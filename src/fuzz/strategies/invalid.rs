//! Inputs a receiver should reject with a 4xx (and never a 5xx).

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use super::{Category, FuzzInput, ValidRecipe, dialect, kind, put, remove};
use crate::contract;
use crate::event::{Dialect, EventKind};

/// The description of an input a receiver should reject.
#[derive(Debug, Clone)]
pub enum InvalidRecipe {
    /// A valid body cut short at this fraction (per mille) of its length.
    Truncated {
        /// The valid payload it is derived from.
        base: BaseRecipe,
        /// Where the body is cut, in thousandths of its length.
        per_mille: u16,
    },
    /// A valid body with one byte replaced by a character that breaks JSON.
    Malformed {
        /// The valid payload it is derived from.
        base: BaseRecipe,
        /// Which byte is replaced, in thousandths of the body's length.
        at_per_mille: u16,
        /// The byte put there, e.g. `}` or NUL.
        byte: u8,
    },
    /// A JSON array or scalar at the top level.
    NotAnObject(Value),
    /// A field of the wrong type.
    WrongType {
        /// The valid payload it is derived from.
        base: BaseRecipe,
        /// Which field: an index into `event`, `data`, `timestamp`, `data.state`,
        /// `data.generations`, `data.request`, modulo 6.
        field: u8,
        /// The value of the wrong type put there.
        value: Value,
    },
    /// `event`, the key or `data` missing.
    Missing {
        /// The valid payload it is derived from.
        base: BaseRecipe,
        /// Which field: 0 `event`, 1 the idempotency key, 2 `data` (modulo 3).
        field: u8,
    },
    /// No body at all.
    Empty,
    /// A valid body sent with another Content-Type.
    WrongContentType {
        /// The valid payload it is derived from.
        base: BaseRecipe,
        /// The Content-Type sent instead of `application/json`.
        content_type: &'static str,
    },
}

/// A plain valid payload to derive other inputs from.
#[derive(Debug, Clone, Copy)]
pub struct BaseRecipe {
    /// The event.
    pub kind: EventKind,
    /// The payload dialect.
    pub dialect: Dialect,
    /// Seeds the realistic content.
    pub seed: u64,
}

impl BaseRecipe {
    /// A current-dialect generation with the default content: the headers of
    /// inputs whose body is not an event at all.
    const PLAIN: BaseRecipe = BaseRecipe {
        kind: EventKind::GenerationCompleted,
        dialect: Dialect::Current,
        seed: 0,
    };

    /// `generation.completed (legacy)`.
    pub(super) fn name(self) -> String {
        format!("{} ({})", self.kind, self.dialect)
    }

    pub(super) fn recipe(self) -> ValidRecipe {
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

pub(super) fn base() -> impl Strategy<Value = BaseRecipe> {
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
                let input = BaseRecipe::PLAIN.recipe().input(key, webhook_id);
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
                let input = BaseRecipe::PLAIN.recipe().input(key, webhook_id);
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
            built_with: key.to_owned(),
            headers,
            body,
            title_case_headers: false,
        }
    }
}
