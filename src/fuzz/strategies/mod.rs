//! Proptest strategies for webhook inputs, reusable from the library.
//!
//! A strategy yields a *recipe*, a small description of an input (which
//! event, which fields absent, which text where, how large). The input is
//! built from the recipe, so proptest's shrinking of the recipe shrinks the
//! payload: fewer extra fields, shorter text, no padding.

//!
//! One file per family: [`valid`] payloads, [`invalid`] inputs, unusual
//! [`headers`]; this file holds what they share.

pub mod headers;
pub mod invalid;
mod shape;
pub mod valid;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use crate::event::overrides::parse_path;
use crate::event::{Dialect, EventKind, Override};

pub use headers::{HeaderRecipe, header_recipe};
pub use invalid::{BaseRecipe, InvalidRecipe, invalid_recipe};
pub use shape::escape_non_ascii;
pub use valid::{OptionalField, TextSlot, ValidRecipe, valid_recipe};

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

/// A built input: what to send and what it is.
#[derive(Debug, Clone)]
pub struct FuzzInput {
    /// Which kind of input this is.
    pub category: Category,
    /// One line saying what this input is.
    pub description: String,
    /// The event the input is built from; `None` when the body is no event
    /// (an empty body, a top-level non-object).
    pub event: Option<EventKind>,
    /// The idempotency key, for the effects probe (valid inputs).
    pub key: Option<String>,
    /// The key the input was built with, wherever it stands in the headers
    /// or the body (also for inputs whose effect is not probed): a replay
    /// puts a fresh key in its place.
    pub built_with: String,
    /// The request headers, name and value, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The request body.
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

pub(super) fn special_float() -> impl Strategy<Value = f64> {
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

pub(super) fn extra_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!("extra")),
        Just(json!({"nested": [1, "two", {"three": null}]})),
        Just(json!([])),
    ]
}

pub(super) fn kind() -> impl Strategy<Value = EventKind> {
    select(EventKind::ALL.to_vec())
}

pub(super) fn dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![Just(Dialect::Current), Just(Dialect::Legacy)]
}

pub(super) fn pad() -> impl Strategy<Value = usize> {
    prop_oneof![
        90 => Just(0usize),
        9 => 1_000usize..1_000_000,
        1 => 1_000_000usize..9_500_000,
    ]
}

/// Puts `value` at a dotted path, creating what is missing: the `--add`
/// mechanism of the event catalog. A path that cannot take it is skipped.
pub(super) fn put(root: &mut Value, path: &str, value: Value) {
    if let Ok(path) = parse_path(path) {
        let _ = Override::Add { path, value }.apply(root);
    }
}

/// Removes the field at a dotted path (`--unset`); a missing path is no error.
pub(super) fn remove(root: &mut Value, path: &str) {
    if let Ok(path) = parse_path(path) {
        let _ = Override::Unset { path }.apply(root);
    }
}

/// Any recipe of one category.
#[derive(Debug, Clone)]
pub enum Recipe {
    /// A valid payload.
    Valid(ValidRecipe),
    /// An input a receiver should reject.
    Invalid(InvalidRecipe),
    /// A valid payload with unusual headers.
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
