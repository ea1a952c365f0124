//! Why an edit of a payload could not be parsed or applied, in words that
//! say what to write instead.

use std::fmt;

/// Why an override could not be parsed or applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverrideError {
    /// `PATH=VALUE` without `=`.
    NoEquals(String),
    /// An empty path.
    EmptyPath,
    /// A path with an empty segment (`data..state`).
    EmptySegment(String),
    /// A value that starts like JSON (`{`, `[`, `"`) and does not parse.
    BadJson {
        /// The value as written.
        raw: String,
        /// What the JSON parser said.
        error: String,
    },
    /// `set`/`unset` of a field the payload does not have.
    NoSuchField {
        /// The path as written.
        path: String,
        /// The payload's path nearest to it, if any is close.
        nearest: Option<String>,
        /// Whether the edit was a `set` (which `add` would have done).
        was_set: bool,
    },
    /// A path that goes through something other than an object or array.
    NotContainer {
        /// The path as written.
        path: String,
        /// The segment that cannot be entered.
        segment: String,
        /// What stands there (`string`, `number`, ...).
        kind: &'static str,
    },
    /// An array index past the end.
    PastEnd {
        /// The path as written.
        path: String,
        /// The index.
        index: usize,
        /// The array's length.
        len: usize,
    },
    /// A segment that must be an array index and is not.
    NotIndex {
        /// The path as written.
        path: String,
        /// The segment.
        segment: String,
    },
    /// The payload could not be made (serialized or padded).
    Payload(String),
    /// The payload would be larger than the contract allows.
    TooLarge {
        /// Its size in bytes (estimated for a large group).
        size: usize,
    },
}

impl fmt::Display for OverrideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OverrideError::NoEquals(spec) => {
                write!(
                    f,
                    "`{spec}` has no `=`: write PATH=VALUE, e.g. `data.state=Failed`"
                )
            }
            OverrideError::EmptyPath => f.write_str("empty path: name a field, e.g. `data.state`"),
            OverrideError::EmptySegment(path) => write!(
                f,
                "path `{path}` has an empty segment: write keys separated by single dots, e.g. `data.usage.total_tokens`"
            ),
            OverrideError::BadJson { raw, error } => write!(
                f,
                "the value `{raw}` starts like JSON but does not parse ({error}); write valid JSON, or quote it as a JSON string"
            ),
            OverrideError::NoSuchField {
                path,
                nearest,
                was_set,
            } => {
                write!(f, "the payload has no field `{path}`")?;
                if let Some(nearest) = nearest {
                    write!(f, "; did you mean `{nearest}`?")?;
                }
                if *was_set {
                    f.write_str(" (to add a field the payload does not have, use add, not set)")?;
                }
                Ok(())
            }
            OverrideError::NotContainer {
                path,
                segment,
                kind,
            } => write!(
                f,
                "cannot apply `{path}`: `{segment}` is inside a {kind}, not an object or array"
            ),
            OverrideError::PastEnd { path, index, len } => write!(
                f,
                "cannot apply `{path}`: index {index} is past the end of an array of {len}"
            ),
            OverrideError::NotIndex { path, segment } => {
                write!(
                    f,
                    "cannot apply `{path}`: `{segment}` is not an array index"
                )
            }
            OverrideError::Payload(why) => f.write_str(why),
            OverrideError::TooLarge { size } => write!(
                f,
                "the payload would be about {:.1} MB, over the contract's {} MB limit: ask for fewer group members or less padding",
                *size as f64 / 1e6,
                crate::contract::MAX_PAYLOAD / 1_000_000
            ),
        }
    }
}

impl std::error::Error for OverrideError {}
