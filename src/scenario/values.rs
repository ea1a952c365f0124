//! Small value types of the scenario format, each parsed from a short string.
//!
//! Each implements `Deserialize` through `TryFrom`, so a bad value is reported
//! by the YAML parser with its line and column and these messages.

#[cfg(test)]
use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

#[cfg(test)]
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

use crate::event::{EffectRule, EventKind};

/// A scalar as written: a number or a string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// A whole number.
    Int(u64),
    /// A number with a fraction.
    Float(f64),
    /// A string.
    Text(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Text(s) => f.write_str(s),
        }
    }
}

/// Deserializes each listed type from a scalar (number or string) through its
/// `TryFrom<String>`, so its own message reaches the located YAML error.
macro_rules! from_scalar_text {
    ($($ty:ty),*) => {$(
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$ty>::try_from(Scalar::deserialize(d)?.to_string()).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

from_scalar_text!(DurationText, LatencySpec, EffectSpec, ByteSize);

/// Serializes each listed type as the text it is read from (its `written`
/// form), so that what the harness writes (recordings, reproducers) reads
/// back as the same value.
macro_rules! to_written_text {
    ($($ty:ty),*) => {$(
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.written())
            }
        }
    )*};
}

to_written_text!(DurationText, LatencySpec, EffectSpec, ByteSize);

impl DurationText {
    /// As written in a scenario: `250ms`, `7s`.
    pub fn written(&self) -> String {
        humantime::format_duration(self.0).to_string()
    }
}

impl LatencySpec {
    /// As written in a scenario: `< 1s`, `< timeout`.
    pub fn written(&self) -> String {
        match self {
            LatencySpec::Below(d) => format!("< {}", humantime::format_duration(*d)),
            LatencySpec::BelowTimeout => "< timeout".into(),
        }
    }
}

impl EffectSpec {
    /// As written in a scenario: `required`, `1`, `<= 1`, `>= 1`.
    pub fn written(&self) -> String {
        match self {
            EffectSpec::Required => "required".into(),
            EffectSpec::Exactly(n) => n.to_string(),
            EffectSpec::AtMost(n) => format!("<= {n}"),
            EffectSpec::AtLeast(n) => format!(">= {n}"),
        }
    }
}

impl ByteSize {
    /// As written in a scenario: the number of bytes.
    pub fn written(&self) -> String {
        self.0.to_string()
    }
}

impl StatusPattern {
    /// As written in a scenario: `200`, `2xx`, `not 5xx`, `any`.
    pub fn written(&self) -> String {
        match self {
            StatusPattern::Code(c) => c.to_string(),
            StatusPattern::Class(c) => format!("{c}xx"),
            StatusPattern::NotClass(c) => format!("not {c}xx"),
            StatusPattern::Any => "any".into(),
        }
    }
}

/// One pattern as a string, several as a list.
impl serde::Serialize for StatusSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => s.serialize_str(&one.written()),
            all => s.collect_seq(all.iter().map(StatusPattern::written)),
        }
    }
}

/// One accepted status: an exact code or a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPattern {
    /// Exactly this code.
    Code(u16),
    /// Any code of this class: `2` for `2xx`.
    Class(u16),
    /// Any code not of this class (`not 5xx`); a missing answer does not match.
    NotClass(u16),
    /// Any answer at all (including none).
    Any,
}

/// What status an answer must have: one pattern or a list (any matches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSpec(pub Vec<StatusPattern>);

impl StatusSpec {
    /// `2xx`.
    pub fn success() -> Self {
        StatusSpec(vec![StatusPattern::Class(2)])
    }

    /// Whether an answer with `status` (None: no answer) matches.
    pub fn matches(&self, status: Option<u16>) -> bool {
        self.0.iter().any(|p| match (p, status) {
            (StatusPattern::Any, _) => true,
            (_, None) => false,
            (StatusPattern::Code(c), Some(s)) => *c == s,
            (StatusPattern::Class(c), Some(s)) => s / 100 == *c,
            (StatusPattern::NotClass(c), Some(s)) => s / 100 != *c,
        })
    }

    fn parse_one(text: &str) -> Result<StatusPattern, String> {
        let t = text.trim();
        let class = |s: &str| -> Option<u16> {
            let b = s.as_bytes();
            (b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && s[1..].eq_ignore_ascii_case("xx"))
                .then(|| u16::from(b[0] - b'0'))
        };
        if t == "any" {
            return Ok(StatusPattern::Any);
        }
        if let Some(c) = class(t) {
            return Ok(StatusPattern::Class(c));
        }
        if let Some(rest) = t.strip_prefix("not ")
            && let Some(c) = class(rest.trim())
        {
            return Ok(StatusPattern::NotClass(c));
        }
        match t.parse::<u16>() {
            Ok(code) if (100..=999).contains(&code) => Ok(StatusPattern::Code(code)),
            _ => Err(format!(
                "`{text}` is not a status: write a code (200), a class (2xx), `not 5xx`, or `any`"
            )),
        }
    }
}

impl fmt::Display for StatusSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(StatusPattern::written).collect();
        f.write_str(&parts.join(" or "))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StatusInput {
    One(Scalar),
    Many(Vec<Scalar>),
}

impl TryFrom<StatusInput> for StatusSpec {
    type Error = String;
    fn try_from(input: StatusInput) -> Result<Self, String> {
        let items = match input {
            StatusInput::One(s) => vec![s],
            StatusInput::Many(v) if v.is_empty() => {
                return Err("an empty list of statuses matches nothing: give at least one".into());
            }
            StatusInput::Many(v) => v,
        };
        items
            .iter()
            .map(|s| StatusSpec::parse_one(&s.to_string()))
            .collect::<Result<_, _>>()
            .map(StatusSpec)
    }
}

impl<'de> Deserialize<'de> for StatusSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        StatusInput::deserialize(d)?
            .try_into()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
impl JsonSchema for StatusSpec {
    fn schema_name() -> Cow<'static, str> {
        "Status".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let one = json_schema!({
            "anyOf": [
                {"type": "integer", "minimum": 100, "maximum": 999},
                {"type": "string", "pattern": "^(any|[1-5][xX][xX]|not [1-5][xX][xX]|[1-9][0-9][0-9])$"}
            ]
        });
        json_schema!({
            "description": "A status code (200), a class (2xx), `not 5xx`, `any`, or a list of these (any matches).",
            "anyOf": [one, {"type": "array", "items": one, "minItems": 1}]
        })
    }
}

/// A duration written `250ms`, `2s`, `1m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationText(pub Duration);

impl TryFrom<String> for DurationText {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        crate::duration::parse(&s).map(DurationText)
    }
}

#[cfg(test)]
impl JsonSchema for DurationText {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration with a unit: 250ms, 2s, 1m, 1m30s.",
            "type": "string",
            "pattern": "^([0-9]+(\\.[0-9]+)?\\s*[a-z]+\\s*)+$"
        })
    }
}

/// A latency bound: `< 1s`, `1s` (the same), or `< timeout` (the run's per-attempt timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencySpec {
    /// Answered within this long.
    Below(Duration),
    /// Answered within the run's per-attempt timeout.
    BelowTimeout,
}

impl TryFrom<String> for LatencySpec {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let t = s.trim();
        let bound = t.strip_prefix('<').map(str::trim).unwrap_or(t);
        if bound == "timeout" {
            return Ok(LatencySpec::BelowTimeout);
        }
        crate::duration::parse(bound)
            .map(LatencySpec::Below)
            .map_err(|_| {
                format!("`{s}` is not a latency bound: write `< 1s`, `< 250ms` or `< timeout`")
            })
    }
}

#[cfg(test)]
impl JsonSchema for LatencySpec {
    fn schema_name() -> Cow<'static, str> {
        "Latency".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An upper bound on the answer time: `< 1s`, `< 250ms`, or `< timeout`.",
            "type": "string"
        })
    }
}

/// An expected effect count: `required` (what the contract requires of the
/// event: see [`EventKind::effect_rule`]), `1` (exactly), `<= 1`, `>= 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectSpec {
    /// What the contract requires of the event (`required`).
    Required,
    /// Exactly this many (`1`).
    Exactly(u64),
    /// At most this many (`<= 1`).
    AtMost(u64),
    /// At least this many (`>= 1`).
    AtLeast(u64),
}

impl EffectSpec {
    /// The expectation for an event of `kind`: `required` becomes the
    /// event's rule, the others stay as written.
    pub fn resolve(self, kind: EventKind) -> EffectSpec {
        match (self, kind.effect_rule()) {
            (EffectSpec::Required, EffectRule::ExactlyOnce) => EffectSpec::Exactly(1),
            (EffectSpec::Required, EffectRule::AtMostOnce) => EffectSpec::AtMost(1),
            (other, _) => other,
        }
    }

    /// Whether `count` satisfies the expectation (`required` must be resolved first).
    pub fn matches(self, count: u64) -> bool {
        match self {
            EffectSpec::Required => EffectRule::ExactlyOnce.allows(count),
            EffectSpec::Exactly(n) => count == n,
            EffectSpec::AtMost(n) => count <= n,
            EffectSpec::AtLeast(n) => count >= n,
        }
    }
}

impl fmt::Display for EffectSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EffectSpec::Required => f.write_str("required"),
            EffectSpec::Exactly(n) => write!(f, "{n}"),
            EffectSpec::AtMost(n) => write!(f, "at most {n}"),
            EffectSpec::AtLeast(n) => write!(f, "at least {n}"),
        }
    }
}

impl TryFrom<String> for EffectSpec {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let t = s.trim();
        if t == "required" {
            return Ok(EffectSpec::Required);
        }
        let (make, rest): (fn(u64) -> EffectSpec, &str) = if let Some(r) = t.strip_prefix("<=") {
            (EffectSpec::AtMost, r)
        } else if let Some(r) = t.strip_prefix(">=") {
            (EffectSpec::AtLeast, r)
        } else {
            (EffectSpec::Exactly, t)
        };
        rest.trim().parse::<u64>().map(make).map_err(|_| {
            format!("`{s}` is not an effect count: write `required`, `1`, `0`, `<= 1` or `>= 1`")
        })
    }
}

#[cfg(test)]
impl JsonSchema for EffectSpec {
    fn schema_name() -> Cow<'static, str> {
        "EffectCount".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Expected effect count for the event's key: `required` (exactly 1 for generation, embedding and group events; at most 1 for webhook.test), 1, 0, `<= 1`, `>= 1`.",
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": "^(required|(<=|>=)?\\s*[0-9]+)$"}
            ]
        })
    }
}

/// A size in bytes: `9.5MB`, `512KB`, `1MiB`, `2000` (bytes). KB/MB are decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub usize);

/// The contract's payload limit (10 MB); sizes above it are refused.
pub use crate::contract::MAX_PAYLOAD;

impl TryFrom<String> for ByteSize {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let factor: f64 = match unit.trim() {
            "" | "B" => 1.0,
            "KB" | "kB" => 1e3,
            "MB" => 1e6,
            "KiB" => 1024.0,
            "MiB" => 1024.0 * 1024.0,
            _ => f64::NAN,
        };
        let bytes = number
            .parse::<f64>()
            .map(|n| n * factor)
            .unwrap_or(f64::NAN);
        if !bytes.is_finite() || bytes < 0.0 {
            return Err(format!(
                "`{s}` is not a size: write e.g. 2000, 512KB, 9.5MB or 1MiB"
            ));
        }
        if bytes > MAX_PAYLOAD as f64 {
            return Err(format!("`{s}` is over the contract's 10 MB payload limit"));
        }
        Ok(ByteSize(bytes as usize))
    }
}

#[cfg(test)]
impl JsonSchema for ByteSize {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size: bytes (2000) or with a unit (512KB, 9.5MB, 1MiB); at most 10 MB.",
            "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each value written by the harness reads back as itself.
    #[test]
    fn written_values_read_back() {
        for d in [
            Duration::from_millis(250),
            Duration::from_secs(7),
            Duration::from_millis(1500),
        ] {
            assert_eq!(
                DurationText::try_from(DurationText(d).written()),
                Ok(DurationText(d))
            );
            let below = LatencySpec::Below(d);
            assert_eq!(LatencySpec::try_from(below.written()), Ok(below));
        }
        let timeout = LatencySpec::BelowTimeout;
        assert_eq!(LatencySpec::try_from(timeout.written()), Ok(timeout));
        for e in [
            EffectSpec::Required,
            EffectSpec::Exactly(0),
            EffectSpec::AtMost(1),
            EffectSpec::AtLeast(2),
        ] {
            assert_eq!(EffectSpec::try_from(e.written()), Ok(e));
        }
        for n in [0, 2000, 9_500_000] {
            assert_eq!(ByteSize::try_from(ByteSize(n).written()), Ok(ByteSize(n)));
        }
        for p in [
            StatusPattern::Code(204),
            StatusPattern::Class(2),
            StatusPattern::NotClass(5),
            StatusPattern::Any,
        ] {
            assert_eq!(StatusSpec::parse_one(&p.written()), Ok(p));
        }
    }

    fn status(s: &str) -> Result<StatusSpec, String> {
        StatusSpec::try_from(StatusInput::One(Scalar::Text(s.into())))
    }

    #[test]
    fn statuses() {
        assert!(status("2xx").unwrap().matches(Some(204)));
        // Each edge of the class: 200 and 299 in, 199 and 300 out.
        for (code, in_class) in [
            (199, false),
            (200, true),
            (299, true),
            (300, false),
            (301, false),
        ] {
            assert_eq!(
                status("2xx").unwrap().matches(Some(code)),
                in_class,
                "{code}"
            );
        }
        assert!(status("5xx").unwrap().matches(Some(599)));
        assert!(!status("5xx").unwrap().matches(Some(499)));
        assert!(status("not 5xx").unwrap().matches(Some(400)));
        assert!(!status("not 5xx").unwrap().matches(Some(503)));
        assert!(!status("not 5xx").unwrap().matches(None));
        assert!(status("any").unwrap().matches(None));
        assert!(status("409").unwrap().matches(Some(409)));
        assert!(status("6xx").unwrap_err().contains("not a status"));
        assert_eq!(status("not 5xx").unwrap().to_string(), "not 5xx");
    }

    #[test]
    fn latencies_effects_sizes() {
        assert_eq!(
            LatencySpec::try_from("< 1s".to_owned()),
            Ok(LatencySpec::Below(Duration::from_secs(1)))
        );
        assert_eq!(
            LatencySpec::try_from("< timeout".to_owned()),
            Ok(LatencySpec::BelowTimeout)
        );
        assert_eq!(
            EffectSpec::try_from("<= 1".to_owned()),
            Ok(EffectSpec::AtMost(1))
        );
        assert_eq!(
            EffectSpec::try_from("0".to_owned()),
            Ok(EffectSpec::Exactly(0))
        );
        assert!(EffectSpec::try_from("one".to_owned()).is_err());
        assert_eq!(
            ByteSize::try_from("9.5MB".to_owned()),
            Ok(ByteSize(9_500_000))
        );
        assert_eq!(
            ByteSize::try_from("1MiB".to_owned()),
            Ok(ByteSize(1_048_576))
        );
        assert!(
            ByteSize::try_from("11MB".to_owned())
                .unwrap_err()
                .contains("10 MB")
        );
        assert!(ByteSize::try_from("lots".to_owned()).is_err());
    }
}
