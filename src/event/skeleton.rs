//! A JSON document read only along some paths: the reference receiver
//! needs a payload's event and key, not its 9.5 MB completion. Everything
//! else is parsed as `serde_json::Value` would parse it (the same refusals:
//! invalid UTF-8, lone surrogates, numbers out of range, nesting past 128)
//! but not kept, so a large body costs one pass over its bytes instead of a
//! copy of every string in it.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a body is not a JSON document.
#[derive(Debug, thiserror::Error)]
pub enum SkeletonError {
    /// Not UTF-8: the byte where it stops being so.
    #[error("invalid UTF-8 at byte {0}")]
    Utf8(usize),
    /// Not JSON (serde_json's words, with line and column).
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// `body` as JSON with only what lies on `paths` kept: each path is a list
/// of object keys from the top. A value at the end of a path is kept whole;
/// objects on the way keep only the keys that lead on; arrays elsewhere are
/// kept empty and other values as they are. So `paths` of `[["event"],
/// ["data", "id"]]` turn `{"event":"e","data":{"id":"g","big":"..."},"x":[1]}`
/// into `{"event":"e","data":{"id":"g"}}`. Duplicate keys: the last wins, as
/// in [`serde_json::Value`].
pub fn parse(body: &[u8], paths: &[&[&str]]) -> Result<Value, SkeletonError> {
    // Skipped strings are not checked for UTF-8 by serde_json: check it all here.
    let text = std::str::from_utf8(body).map_err(|e| SkeletonError::Utf8(e.valid_up_to()))?;
    let wanted: Vec<&[&str]> = paths.to_vec();
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Along(&wanted).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// The keys of a JSON object at the top of `body`, in order, and whether
/// the object was read to its end. `body` may be only the start of a
/// document (the first kilobytes a report keeps): the keys met before it
/// breaks off are returned, with `false`. Not an object: no keys, `false`.
pub fn top_level_keys(body: &[u8]) -> (Vec<String>, bool) {
    let keys = std::cell::RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(body);
    let complete = de.deserialize_map(KeysOf(&keys)).is_ok() && de.end().is_ok();
    (keys.into_inner(), complete)
}

/// Collects an object's keys as they are met, its values dropped.
struct KeysOf<'a>(&'a std::cell::RefCell<Vec<String>>);

impl<'de> Visitor<'de> for KeysOf<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            self.0.borrow_mut().push(key);
            map.next_value_seed(Discard)?;
        }
        Ok(())
    }
}

/// The paths still wanted below the current value (what is left of each).
struct Along<'a, 'p>(&'a [&'p [&'p str]]);

impl<'de> DeserializeSeed<'de> for Along<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Along<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // No path runs through an array: its elements are checked, not kept.
        while seq.next_element_seed(Discard)?.is_some() {}
        Ok(Value::Array(Vec::new()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        let mut below: Vec<&[&str]> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            below.clear();
            below.extend(
                self.0
                    .iter()
                    .filter(|p| p.first() == Some(&key.as_str()))
                    .map(|p| &p[1..]),
            );
            if below.iter().any(|rest| rest.is_empty()) {
                kept.insert(key, map.next_value::<Value>()?);
            } else if !below.is_empty() {
                let value = map.next_value_seed(Along(&below))?;
                kept.insert(key, value);
            } else {
                map.next_value_seed(Discard)?;
            }
        }
        Ok(Value::Object(kept))
    }
}

/// A value parsed and dropped. Not `serde::de::IgnoredAny`: serde_json
/// skips that without its checks (no nesting limit, no number range, no
/// surrogate pairs), and a body the full parse refuses would be accepted.
/// Strings without escapes are borrowed from the input, not copied.
struct Discard;

impl<'de> DeserializeSeed<'de> for Discard {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Discard {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Discard)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Discard)?.is_some() {
            map.next_value_seed(Discard)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_keys_of_a_whole_or_cut_document() {
        let body = br#"{"event":"e","webhookId":"w","data":{"id":"g","x":[1,{"y":2}]},"tail":1}"#;
        let (keys, complete) = top_level_keys(body);
        assert_eq!(keys, ["event", "webhookId", "data", "tail"]);
        assert!(complete);
        // Cut inside `data`: the keys before it, not complete.
        let cut = body.windows(3).position(|w| w == b"\"x\"").unwrap();
        let (keys, complete) = top_level_keys(&body[..cut]);
        assert_eq!(keys, ["event", "webhookId", "data"]);
        assert!(!complete);
        assert_eq!(top_level_keys(b"[1,2]"), (Vec::new(), false));
        assert_eq!(top_level_keys(b"not json"), (Vec::new(), false));
        assert_eq!(top_level_keys(b"{} x"), (Vec::new(), false));
    }
    use proptest::prelude::*;
    use serde_json::json;

    const PATHS: [&[&str]; 3] = [&["event"], &["data", "id"], &["groupId"]];

    /// What [`parse`] must give: the full parse, pruned the same way.
    fn pruned(value: &Value, paths: &[&[&str]]) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter_map(|(k, v)| {
                        let below: Vec<&[&str]> = paths
                            .iter()
                            .filter(|p| p.first() == Some(&k.as_str()))
                            .map(|p| &p[1..])
                            .collect();
                        if below.iter().any(|r| r.is_empty()) {
                            Some((k.clone(), v.clone()))
                        } else if below.is_empty() {
                            None
                        } else {
                            Some((k.clone(), pruned(v, &below)))
                        }
                    })
                    .collect(),
            ),
            Value::Array(_) => Value::Array(Vec::new()),
            other => other.clone(),
        }
    }

    #[test]
    fn keeps_what_lies_on_the_paths() {
        let body = br#"{"event":"e","data":{"id":"g","big":"....","n":[1,{"id":2}]},"x":[1],"groupId":{"a":[1]}}"#;
        let got = parse(body, &PATHS).unwrap();
        assert_eq!(
            got,
            json!({"event":"e","data":{"id":"g"},"groupId":{"a":[1]}})
        );
        // Not an object at the top, or on the way: kept as it is, arrays empty.
        assert_eq!(parse(br#"[1,2]"#, &PATHS).unwrap(), json!([]));
        assert_eq!(parse(br#""s""#, &PATHS).unwrap(), json!("s"));
        assert_eq!(
            parse(br#"{"data":"flat"}"#, &PATHS).unwrap(),
            json!({"data":"flat"})
        );
    }

    #[test]
    fn refuses_what_the_full_parse_refuses() {
        for bad in [
            &br#"{"event":"e","x":"unterminated}"#[..],
            br#"{"event":"e"} trailing"#,
            br#"{"event":"e","x":[1,]}"#,
            b"{\"x\":\"\xff\"}",
            b"{\"x\":\"a\x01\"}",
            br#"{"x":"\q"}"#,
            b"",
            // What serde_json's IgnoredAny would let through, in a field
            // that is not kept: a lone surrogate, a number out of range.
            br#"{"event":"e","x":"\ud800"}"#,
            br#"{"event":"e","x":1e400}"#,
            br#"{"event":"e","x":{"y":[-1e999]}}"#,
        ] {
            assert!(serde_json::from_slice::<Value>(bad).is_err());
            assert!(
                parse(bad, &PATHS).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // Nesting past serde_json's limit of 128, in a field not kept.
        let nested = |depth: usize| {
            format!(
                r#"{{"event":"e","x":{}{}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            )
        };
        assert!(serde_json::from_str::<Value>(&nested(200)).is_err());
        assert!(parse(nested(200).as_bytes(), &PATHS).is_err());
        assert!(parse(nested(100).as_bytes(), &PATHS).is_ok());
        assert!(matches!(
            parse(b"{\"x\":\"\xff\"}", &PATHS),
            Err(SkeletonError::Utf8(6))
        ));
    }

    #[test]
    fn the_last_duplicate_wins() {
        let got = parse(
            br#"{"event":"a","event":"b","data":{"id":1},"data":5}"#,
            &PATHS,
        );
        assert_eq!(got.unwrap(), json!({"event":"b","data":5}));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let key = prop::sample::select(vec!["event", "data", "id", "groupId", "x"]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            prop::collection::vec(one_of("abcxyz\\\"é"), 0..8)
                .prop_map(|chars| Value::String(String::from_iter(chars))),
        ];
        leaf.prop_recursive(4, 32, 5, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..5).prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    /// One of the characters of `chars`.
    fn one_of(chars: &str) -> impl Strategy<Value = char> + Clone + use<> {
        prop::sample::select(chars.chars().collect::<Vec<_>>())
    }

    /// Text made of pieces drawn from `piece`, as many as `range` says.
    fn repeat(
        piece: impl Strategy<Value = String>,
        range: std::ops::Range<usize>,
    ) -> impl Strategy<Value = String> {
        prop::collection::vec(piece, range).prop_map(|pieces| pieces.concat())
    }

    /// A JSON value as text, valid or nearly: strings with escapes
    /// (surrogates among them), numbers past f64, brackets that may not
    /// close.
    fn nearly_json() -> impl Strategy<Value = String> {
        let hex = one_of("0123456789abcdefABCDEF");
        let string_piece = prop_oneof![
            one_of("abcz").prop_map(String::from),
            (one_of("dD"), prop::collection::vec(hex, 3))
                .prop_map(|(d, h)| format!("\\u{d}{}", String::from_iter(h))),
            one_of("nq").prop_map(|c| format!("\\{c}")),
        ];
        let string = repeat(string_piece, 0..6)
            .prop_map(|s| format!("\"{s}\""))
            .boxed();
        let digits = |range| repeat(one_of("0123456789").prop_map(String::from), range);
        let number = (
            any::<bool>(),
            digits(1..4),
            prop::option::of(digits(1..2)),
            prop::option::of(digits(1..4)),
        )
            .prop_map(|(minus, int, frac, exp)| {
                let minus = if minus { "-" } else { "" };
                let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
                let exp = exp.map(|e| format!("e{e}")).unwrap_or_default();
                format!("{minus}{int}{frac}{exp}")
            })
            .boxed();
        let other = prop::sample::select(vec!["[", "]", "{}", "true", "nul", "null", ","])
            .prop_map(String::from);
        // Mostly one string or number (a value the full parse refuses only
        // for what is inside it), else up to four tokens of any kind.
        prop_oneof![
            3 => prop_oneof![string.clone(), number.clone()],
            1 => repeat(prop_oneof![string, number, other], 1..5),
        ]
    }

    proptest! {
        #[test]
        fn is_the_full_parse_pruned(value in json_value()) {
            let body = serde_json::to_vec(&value).unwrap();
            prop_assert_eq!(parse(&body, &PATHS).unwrap(), pruned(&value, &PATHS));
        }

        #[test]
        fn refuses_exactly_what_the_full_parse_refuses(
            event in nearly_json(),
            id in nearly_json(),
            other in nearly_json(),
        ) {
            let text = format!(r#"{{"event":{event},"data":{{"id":{id},"n":{other}}},"x":{other}}}"#);
            let full = serde_json::from_str::<Value>(&text);
            let ours = parse(text.as_bytes(), &PATHS);
            prop_assert_eq!(full.is_ok(), ours.is_ok(), "{}", text);
            if let Ok(full) = full {
                prop_assert_eq!(ours.unwrap(), pruned(&full, &PATHS));
            }
        }
    }
}
