//! `--set PATH=VALUE` and `--unset PATH`: edits of a payload by dotted path.
//!
//! A path is dot-separated: object keys, or array indexes written as numbers
//! (`data.generations.0.state`). Missing objects along the way are created;
//! an index may point at an existing element or one past the end (append).

use serde_json::{Map, Value};

pub use super::override_error::OverrideError;

/// One edit of a payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Override {
    /// Replace the value of a field the payload has (`--set`, `set:`).
    Set {
        /// The field's path, by segment.
        path: Vec<String>,
        /// The new value.
        value: Value,
    },
    /// Put `value` at `path`, creating the field and any missing objects
    /// on the way (`--add`, `add:`): for fields the payload does not have.
    Add {
        /// The field's path, by segment.
        path: Vec<String>,
        /// The value.
        value: Value,
    },
    /// Remove a field the payload has (`--unset`, `unset:`).
    Unset {
        /// The field's path, by segment.
        path: Vec<String>,
    },
}

/// Splits a dotted path into its segments, rejecting empty ones.
pub fn parse_path(path: &str) -> Result<Vec<String>, OverrideError> {
    if path.is_empty() {
        return Err(OverrideError::EmptyPath);
    }
    let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
    if segments.iter().any(String::is_empty) {
        return Err(OverrideError::EmptySegment(path.to_owned()));
    }
    Ok(segments)
}

/// Parses a VALUE as JSON, or takes it as a plain string; a value that
/// starts like JSON (`{`, `[`, `"`) must parse.
pub fn parse_value(raw: &str) -> Result<Value, OverrideError> {
    match serde_json::from_str(raw) {
        Ok(value) => Ok(value),
        Err(e) if raw.trim_start().starts_with(['{', '[', '"']) => Err(OverrideError::BadJson {
            raw: raw.to_owned(),
            error: e.to_string(),
        }),
        Err(_) => Ok(Value::String(raw.to_owned())),
    }
}

impl Override {
    /// Parses `PATH=VALUE` for `--set` (VALUE as JSON, or a plain string).
    pub fn parse_set(spec: &str) -> Result<Override, OverrideError> {
        let (path, value) = split_spec(spec)?;
        Ok(Override::Set { path, value })
    }

    /// Parses `PATH=VALUE` for `--add`.
    pub fn parse_add(spec: &str) -> Result<Override, OverrideError> {
        let (path, value) = split_spec(spec)?;
        Ok(Override::Add { path, value })
    }

    /// Parses a PATH to remove.
    pub fn parse_unset(path: &str) -> Result<Override, OverrideError> {
        Ok(Override::Unset {
            path: parse_path(path)?,
        })
    }

    /// The path this override edits, dotted.
    pub fn path(&self) -> String {
        match self {
            Override::Set { path, .. } | Override::Add { path, .. } | Override::Unset { path } => {
                path.join(".")
            }
        }
    }

    /// Applies the edit to `root`.
    pub fn apply(&self, root: &mut Value) -> Result<(), OverrideError> {
        let dotted = self.path();
        match self {
            Override::Add { path, value } => {
                set(root, path, value.clone()).map_err(|e| e.at(&dotted))
            }
            Override::Set { path, value } => {
                require(root, path, &dotted, true)?;
                set(root, path, value.clone()).map_err(|e| e.at(&dotted))
            }
            Override::Unset { path } => {
                require(root, path, &dotted, false)?;
                unset(root, path);
                Ok(())
            }
        }
    }
}

fn split_spec(spec: &str) -> Result<(Vec<String>, Value), OverrideError> {
    let Some((path, raw)) = spec.split_once('=') else {
        return Err(OverrideError::NoEquals(spec.to_owned()));
    };
    Ok((parse_path(path)?, parse_value(raw)?))
}

/// Fails unless `root` has a value at `path`, suggesting the nearest path.
fn require(
    root: &Value,
    path: &[String],
    dotted: &str,
    was_set: bool,
) -> Result<(), OverrideError> {
    let mut node = root;
    for seg in path {
        let next = match node {
            Value::Object(map) => map.get(seg),
            Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => {
                return Err(OverrideError::NoSuchField {
                    path: dotted.to_owned(),
                    nearest: nearest_path(root, dotted),
                    was_set,
                });
            }
        }
    }
    Ok(())
}

/// The payload's path nearest to `wanted` (a small edit distance away).
fn nearest_path(root: &Value, wanted: &str) -> Option<String> {
    let mut paths = Vec::new();
    collect_paths(root, String::new(), &mut paths);
    paths
        .into_iter()
        .map(|p| (strsim::levenshtein(&p, wanted), p))
        .filter(|(distance, _)| *distance <= 3.max(wanted.len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, p)| p)
}

fn collect_paths(node: &Value, prefix: String, out: &mut Vec<String>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match node {
        Value::Object(map) => {
            for (k, v) in map {
                let path = join(k);
                out.push(path.clone());
                collect_paths(v, path, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate().take(3) {
                let path = join(&i.to_string());
                out.push(path.clone());
                collect_paths(v, path, out);
            }
        }
        _ => {}
    }
}

/// Where a path could not be followed, before the path is known.
enum Stuck {
    NotContainer { segment: String, kind: &'static str },
    PastEnd { index: usize, len: usize },
    NotIndex { segment: String },
}

impl Stuck {
    fn at(self, path: &str) -> OverrideError {
        let path = path.to_owned();
        match self {
            Stuck::NotContainer { segment, kind } => OverrideError::NotContainer {
                path,
                segment,
                kind,
            },
            Stuck::PastEnd { index, len } => OverrideError::PastEnd { path, index, len },
            Stuck::NotIndex { segment } => OverrideError::NotIndex { path, segment },
        }
    }
}

fn set(root: &mut Value, path: &[String], value: Value) -> Result<(), Stuck> {
    let Some((last, parents)) = path.split_last() else {
        *root = value;
        return Ok(());
    };
    let mut node = root;
    for (depth, seg) in parents.iter().enumerate() {
        let next_is_index = path[depth + 1].parse::<usize>().is_ok();
        node = child_mut(node, seg, next_is_index)?;
    }
    match node {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let i = index(last, items.len())?;
            if i == items.len() {
                items.push(value);
            } else {
                items[i] = value;
            }
            Ok(())
        }
        other => Err(Stuck::NotContainer {
            segment: last.clone(),
            kind: kind(other),
        }),
    }
}

fn child_mut<'a>(
    node: &'a mut Value,
    seg: &str,
    next_is_index: bool,
) -> Result<&'a mut Value, Stuck> {
    if node.is_null() {
        *node = Value::Object(Map::new());
    }
    let fresh = || {
        if next_is_index {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        }
    };
    match node {
        Value::Object(map) => Ok(map.entry(seg.to_owned()).or_insert_with(fresh)),
        Value::Array(items) => {
            let i = index(seg, items.len())?;
            if i == items.len() {
                items.push(fresh());
            }
            Ok(&mut items[i])
        }
        other => Err(Stuck::NotContainer {
            segment: seg.to_owned(),
            kind: kind(other),
        }),
    }
}

fn index(seg: &str, len: usize) -> Result<usize, Stuck> {
    match seg.parse::<usize>() {
        Ok(i) if i <= len => Ok(i),
        Ok(index) => Err(Stuck::PastEnd { index, len }),
        Err(_) => Err(Stuck::NotIndex {
            segment: seg.to_owned(),
        }),
    }
}

fn unset(root: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = root;
    for seg in parents {
        let next = match node {
            Value::Object(map) => map.get_mut(seg),
            Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    match node {
        Value::Object(map) => {
            map.shift_remove(last);
        }
        Value::Array(items) => {
            if let Some(i) = last.parse::<usize>().ok().filter(|i| *i < items.len()) {
                items.remove(i);
            }
        }
        _ => {}
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(edit: Override, mut v: Value) -> Result<Value, OverrideError> {
        edit.apply(&mut v)?;
        Ok(v)
    }

    #[test]
    fn set_replaces_what_exists_and_add_creates() {
        let v = apply(
            Override::parse_set("data.state=Failed").unwrap(),
            json!({"data": {"state": "Success"}}),
        );
        assert_eq!(v, Ok(json!({"data": {"state": "Failed"}})));
        let v = apply(
            Override::parse_add("data.usage.total_tokens=12").unwrap(),
            json!({"data": {}}),
        );
        assert_eq!(v, Ok(json!({"data": {"usage": {"total_tokens": 12}}})));
        let v = apply(Override::parse_add("g.1=2").unwrap(), json!({"g": [1]}));
        assert_eq!(v, Ok(json!({"g": [1, 2]})));
        let v = apply(
            Override::parse_set("g.0.s=x").unwrap(),
            json!({"g": [{"s": "y"}]}),
        );
        assert_eq!(v, Ok(json!({"g": [{"s": "x"}]})));
    }

    #[test]
    fn a_typo_is_an_error_with_the_nearest_path() {
        let payload = json!({"data": {"state": "Success", "usage": {}}});
        let e = apply(
            Override::parse_set("data.stat=Failed").unwrap(),
            payload.clone(),
        )
        .unwrap_err();
        assert_eq!(
            e,
            OverrideError::NoSuchField {
                path: "data.stat".into(),
                nearest: Some("data.state".into()),
                was_set: true,
            }
        );
        assert!(e.to_string().contains("did you mean `data.state`?"), "{e}");
        let e = apply(Override::parse_unset("data.nonexistent").unwrap(), payload).unwrap_err();
        assert!(matches!(e, OverrideError::NoSuchField { .. }), "{e}");
    }

    #[test]
    fn a_value_that_starts_like_json_must_parse() {
        assert!(matches!(
            Override::parse_set("data.usage=[1,2"),
            Err(OverrideError::BadJson { .. })
        ));
        assert_eq!(
            Override::parse_set("data.state=Failed").unwrap(),
            Override::Set {
                path: vec!["data".into(), "state".into()],
                value: json!("Failed")
            }
        );
        assert!(Override::parse_set("data.request={\"a\":[1]}").is_ok());
    }

    #[test]
    fn errors_say_what_and_how() {
        let e = Override::parse_set("data.state").unwrap_err();
        assert!(e.to_string().contains("PATH=VALUE"), "{e}");
        let e = Override::parse_set("data..state=1").unwrap_err();
        assert!(e.to_string().contains("empty segment"), "{e}");
        let e = apply(
            Override::parse_add("data.state=1").unwrap(),
            json!({"data": "text"}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("inside a string"), "{e}");
        let e = apply(Override::parse_add("g.5=1").unwrap(), json!({"g": []})).unwrap_err();
        assert!(e.to_string().contains("past the end"), "{e}");
    }
}
