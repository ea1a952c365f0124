//! Valid payloads with unusual headers.

use proptest::prelude::*;

use super::invalid::base;
use super::{BaseRecipe, Category, FuzzInput, kind};
use crate::contract;
use crate::event::EventKind;

/// A valid payload with unusual headers.
#[derive(Debug, Clone)]
pub enum HeaderRecipe {
    /// `X-Inference-Event` names another event than the body.
    EventMismatch {
        /// The valid payload sent.
        base: BaseRecipe,
        /// The event named in `X-Inference-Event`.
        header_event: EventKind,
    },
    /// Header names sent in Title-Case instead of lower case.
    TitleCase {
        /// The valid payload sent.
        base: BaseRecipe,
    },
    /// One header sent twice, with the same or another value.
    Duplicated {
        /// The valid payload sent.
        base: BaseRecipe,
        /// Which contract header is sent twice: an index into them, modulo their number.
        header: u8,
        /// Whether the second copy has the same value (else `-other` is appended).
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
