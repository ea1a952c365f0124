//! `--set PATH=VALUE` and `--unset PATH`: edits of a payload by dotted path.
//!
//! A path is dot-separated: object keys, or array indexes written as numbers
//! (`data.generations.0.state`). Missing objects along the way are created;
//! an index may point at an existing element or one past the end (append).

use std::fmt;

use serde_json::{Map, Value};

/// One edit of a payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Override {
    /// Put `value` at `path`, creating intermediate objects.
    Set {
        /// The path's segments: object keys or array indexes.
        path: Vec<String>,
        /// The JSON value to put there.
        value: Value,
    },
    /// Remove the field at `path` (a missing field is not an error).
    Unset {
        /// The path's segments: object keys or array indexes.
        path: Vec<String>,
    },
}

/// Why an override could not be parsed or applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideError(pub String);

impl fmt::Display for OverrideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OverrideError {}

/// Splits a dotted path into its segments, rejecting empty ones.
pub fn parse_path(path: &str) -> Result<Vec<String>, OverrideError> {
    if path.is_empty() {
        return Err(OverrideError(
            "empty path: name a field, e.g. `data.state`".into(),
        ));
    }
    let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
    if segments.iter().any(String::is_empty) {
        return Err(OverrideError(format!(
            "path `{path}` has an empty segment: write keys separated by single dots, e.g. `data.usage.total_tokens`"
        )));
    }
    Ok(segments)
}

/// Parses a VALUE as JSON, falling back to a plain string.
pub fn parse_value(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
}

impl Override {
    /// Parses `PATH=VALUE` (VALUE as JSON, or a string when it is not JSON).
    pub fn parse_set(spec: &str) -> Result<Override, OverrideError> {
        let Some((path, raw)) = spec.split_once('=') else {
            return Err(OverrideError(format!(
                "`{spec}` has no `=`: write PATH=VALUE, e.g. `data.state=Failed`"
            )));
        };
        Ok(Override::Set {
            path: parse_path(path)?,
            value: parse_value(raw),
        })
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
            Override::Set { path, .. } | Override::Unset { path } => path.join("."),
        }
    }

    /// Applies the edit to `root`.
    pub fn apply(&self, root: &mut Value) -> Result<(), OverrideError> {
        match self {
            Override::Set { path, value } => set(root, path, value.clone()),
            Override::Unset { path } => {
                unset(root, path);
                Ok(())
            }
        }
        .map_err(|e| OverrideError(format!("cannot apply `{}`: {e}", self.path())))
    }
}

fn set(root: &mut Value, path: &[String], value: Value) -> Result<(), String> {
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
        other => Err(format!(
            "`{last}` is inside a {}, not an object or array",
            kind(other)
        )),
    }
}

fn child_mut<'a>(
    node: &'a mut Value,
    seg: &str,
    next_is_index: bool,
) -> Result<&'a mut Value, String> {
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
        other => Err(format!(
            "`{seg}` is inside a {}, not an object or array",
            kind(other)
        )),
    }
}

fn index(seg: &str, len: usize) -> Result<usize, String> {
    match seg.parse::<usize>() {
        Ok(i) if i <= len => Ok(i),
        Ok(i) => Err(format!("index {i} is past the end of an array of {len}")),
        Err(_) => Err(format!("`{seg}` is not an array index")),
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

    fn apply(spec: &str, mut v: Value) -> Value {
        Override::parse_set(spec).unwrap().apply(&mut v).unwrap();
        v
    }

    #[test]
    fn sets_nested_values_as_json_or_string() {
        let v = apply("data.state=Failed", json!({"data": {"state": "Success"}}));
        assert_eq!(v, json!({"data": {"state": "Failed"}}));
        let v = apply("data.usage.total_tokens=12", json!({"data": {}}));
        assert_eq!(v, json!({"data": {"usage": {"total_tokens": 12}}}));
        let v = apply("data.request={\"a\":[1]}", json!({}));
        assert_eq!(v, json!({"data": {"request": {"a": [1]}}}));
    }

    #[test]
    fn indexes_and_appends_arrays() {
        let v = apply("g.0.s=x", json!({"g": [{"s": "y"}]}));
        assert_eq!(v, json!({"g": [{"s": "x"}]}));
        let v = apply("g.1=2", json!({"g": [1]}));
        assert_eq!(v, json!({"g": [1, 2]}));
        let v = apply("new.0=1", json!({}));
        assert_eq!(v, json!({"new": [1]}));
    }

    #[test]
    fn unset_removes_and_ignores_missing() {
        let mut v = json!({"data": {"usage": {}, "id": "x"}});
        Override::parse_unset("data.usage")
            .unwrap()
            .apply(&mut v)
            .unwrap();
        Override::parse_unset("nope.deeper")
            .unwrap()
            .apply(&mut v)
            .unwrap();
        assert_eq!(v, json!({"data": {"id": "x"}}));
    }

    #[test]
    fn errors_say_what_and_how() {
        let e = Override::parse_set("data.state").unwrap_err();
        assert!(e.0.contains("PATH=VALUE"), "{e}");
        let e = Override::parse_set("data..state=1").unwrap_err();
        assert!(e.0.contains("empty segment"), "{e}");
        let mut v = json!({"data": "text"});
        let e = Override::parse_set("data.state=1")
            .unwrap()
            .apply(&mut v)
            .unwrap_err();
        assert!(e.0.contains("inside a string"), "{e}");
        let mut v = json!({"g": []});
        let e = Override::parse_set("g.5=1")
            .unwrap()
            .apply(&mut v)
            .unwrap_err();
        assert!(e.0.contains("past the end"), "{e}");
    }
}
