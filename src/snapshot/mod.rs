//! Snapshot regression checks: a normalized picture of what a receiver
//! answered, per case and step, stored in insta's `.snap` format.
//!
//! [`picture`] turns a case result into a [`Picture`] with everything volatile
//! redacted (generated ids, timestamps, UUIDs, latencies, the webhook secret),
//! so two runs against an unchanged receiver give the same picture. A Rust
//! receiver author can snapshot it with `insta::assert_yaml_snapshot!`.
//! [`store`] compares pictures with the files and writes pending changes.

pub mod store;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::result::CaseResult;
use crate::sender::Attempt;

/// Response headers kept in a picture; the rest (dates, server names,
/// connection details) vary between runs and deployments.
pub const HEADER_ALLOW_LIST: &[&str] = &[
    "content-type",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "allow",
    "location",
    "retry-after",
    "www-authenticate",
];

/// Most of a text (non-JSON) body kept in a picture.
pub const TEXT_BODY_CAP: usize = 2048;

/// What a receiver answered in one case, normalized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Picture {
    /// The case id.
    pub case: String,
    /// Each step of the case, in order.
    pub steps: Vec<StepPicture>,
}

/// One step: what it did and each request/answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepPicture {
    /// 1-based step number.
    pub step: usize,
    /// What the step did, e.g. `deliver generation.completed (current)`.
    pub action: String,
    /// Each request and its answer; copies sent at once are sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<Exchange>,
}

/// One request and what came back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exchange {
    /// `POST /webhook`.
    pub request: String,
    /// The status, or `null` when nothing usable came back.
    pub status: Option<u16>,
    /// What went wrong when there is no status (`timeout`, `connection error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Response headers on [`HEADER_ALLOW_LIST`], by lower-case name, redacted.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Pretty JSON when the body parses, text otherwise (capped); absent when empty.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub body: Value,
}

/// What to replace in pictures.
#[derive(Debug, Clone, Default)]
pub struct Redactions {
    /// Exact strings and their placeholders (longest first when applied).
    literals: Vec<(String, String)>,
    /// JSON field names whose values become `[redacted]`.
    fields: Vec<String>,
}

impl Redactions {
    /// Redactions for one case: its keys, the run id, the webhook secret, and
    /// the user's field names.
    pub fn for_case(
        case: &CaseResult,
        run_id: &str,
        webhook_id: &str,
        fields: &[String],
    ) -> Redactions {
        let mut literals: Vec<(String, String)> = case
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), format!("[key-{}]", i + 1)))
            .collect();
        literals.push((run_id.to_owned(), "[run-id]".into()));
        literals.push((webhook_id.to_owned(), "[webhook-id]".into()));
        // A receiver may echo it URL-encoded or JSON-escaped.
        if !webhook_id.is_empty() {
            for form in crate::secret::encoded_forms(webhook_id) {
                literals.push((form, "[webhook-id]".into()));
            }
        }
        literals.retain(|(k, _)| !k.is_empty());
        literals.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        Redactions {
            literals,
            fields: fields.to_vec(),
        }
    }

    /// `text` with literals, timestamps and UUIDs replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (literal, placeholder) in &self.literals {
            if out.contains(literal.as_str()) {
                out = out.replace(literal.as_str(), placeholder);
            }
        }
        replace_patterns(&out)
    }

    /// A JSON value with every string redacted and the named fields replaced.
    pub fn json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.json(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = if self.fields.iter().any(|f| f == k) {
                            Value::String("[redacted]".into())
                        } else {
                            self.json(v)
                        };
                        (self.text(k), v)
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The picture of `case` with `redactions` applied. Copies sent at once are
/// sorted, so their completion order does not show.
pub fn picture(case: &CaseResult, redactions: &Redactions) -> Picture {
    let steps = case
        .steps
        .iter()
        .map(|step| {
            let mut exchanges: Vec<Exchange> = step
                .attempts
                .iter()
                .map(|a| exchange(a, redactions))
                .collect();
            if step.concurrent {
                exchanges.sort_by_key(|e| serde_json::to_string(e).unwrap_or_default());
            }
            StepPicture {
                step: step.step,
                action: step.action.clone(),
                exchanges,
            }
        })
        .collect();
    Picture {
        case: case.id.clone(),
        steps,
    }
}

fn exchange(attempt: &Attempt, redactions: &Redactions) -> Exchange {
    let target = crate::sender::url::ReceiverUrl::parse(&attempt.url)
        .map(|u| u.path_and_query().to_owned())
        .unwrap_or_else(|_| attempt.url.clone());
    let headers = attempt
        .headers
        .iter()
        .filter(|(k, _)| HEADER_ALLOW_LIST.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), redactions.text(v)))
        .collect();
    let body = if attempt.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice::<Value>(&attempt.body) {
            Ok(json) => redactions.json(&json),
            Err(_) => {
                let text = attempt.body_text();
                let capped: String = text.chars().take(TEXT_BODY_CAP).collect();
                let more = if capped.len() < text.len() { "…" } else { "" };
                Value::String(format!("{}{more}", redactions.text(&capped)))
            }
        }
    };
    Exchange {
        request: redactions.text(&format!(
            "{} {}",
            attempt.method,
            percent_encoding::percent_decode_str(&target.replace('+', " ")).decode_utf8_lossy()
        )),
        status: attempt.status,
        failure: attempt
            .status
            .is_none()
            .then(|| attempt.outcome.name().to_owned()),
        headers,
        body,
    }
}

/// Replaces ISO 8601 timestamps with `[timestamp]` and UUIDs with `[uuid]`.
pub fn replace_patterns(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if let Some(len) = timestamp_at(bytes, i) {
            out.push_str(&text[copied..i]);
            out.push_str("[timestamp]");
            i += len;
            copied = i;
        } else if let Some(len) = uuid_at(bytes, i) {
            out.push_str(&text[copied..i]);
            out.push_str("[uuid]");
            i += len;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Matches `dddd-dd-ddTdd:dd:dd(.d+)?(Z|±dd:dd)?` at `at`.
fn timestamp_at(b: &[u8], at: usize) -> Option<usize> {
    let digit = |i: usize| b.get(at + i).is_some_and(u8::is_ascii_digit);
    let is = |i: usize, c: u8| b.get(at + i) == Some(&c);
    if at > 0 && b[at - 1].is_ascii_digit() {
        return None;
    }
    let shape = [0, 1, 2, 3].iter().all(|&i| digit(i))
        && is(4, b'-')
        && digit(5)
        && digit(6)
        && is(7, b'-')
        && digit(8)
        && digit(9)
        && (is(10, b'T') || is(10, b' '))
        && digit(11)
        && digit(12)
        && is(13, b':')
        && digit(14)
        && digit(15)
        && is(16, b':')
        && digit(17)
        && digit(18);
    if !shape {
        return None;
    }
    let mut len = 19;
    if is(len, b'.') && digit(len + 1) {
        len += 1;
        while digit(len) {
            len += 1;
        }
    }
    if is(len, b'Z') {
        len += 1;
    } else if (is(len, b'+') || is(len, b'-'))
        && digit(len + 1)
        && digit(len + 2)
        && is(len + 3, b':')
        && digit(len + 4)
        && digit(len + 5)
    {
        len += 6;
    }
    Some(len)
}

/// Matches a UUID (8-4-4-4-12 hex digits) at `at`.
fn uuid_at(b: &[u8], at: usize) -> Option<usize> {
    if at > 0 && b[at - 1].is_ascii_hexdigit() {
        return None;
    }
    let mut i = at;
    for (n, group) in [8, 4, 4, 4, 12].iter().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
        for _ in 0..*group {
            if !b.get(i).is_some_and(u8::is_ascii_hexdigit) {
                return None;
            }
            i += 1;
        }
    }
    if b.get(i).is_some_and(u8::is_ascii_hexdigit) {
        return None;
    }
    Some(i - at)
}

/// Snapshot settings of a run.
#[derive(Debug, Clone)]
pub struct SnapshotConfig {
    /// The folder of the `.snap` files, e.g. `snapshots/receiver`.
    pub dir: std::path::PathBuf,
    /// What is compared and what is written.
    pub mode: store::SnapshotMode,
    /// In CI a missing snapshot is reported, never created.
    pub ci: bool,
    /// The webhook id, redacted as `[webhook-id]`.
    pub webhook_id: String,
    /// JSON field names whose values are redacted.
    pub redact_fields: Vec<String>,
}

/// Pictures every case of `outcome` and compares them with the snapshots.
pub fn check_run(
    outcome: &crate::result::RunResult,
    config: &SnapshotConfig,
) -> Result<crate::result::SnapshotResults, String> {
    let mut report = crate::result::SnapshotResults {
        dir: config.dir.clone(),
        cases: Vec::new(),
    };
    // A case the run was stopped before has no picture to compare: its
    // snapshot is left as it is.
    let ran = outcome
        .cases
        .iter()
        .filter(|c| c.status() != crate::result::CaseStatus::NotRun);
    for case in ran {
        let redactions = Redactions::for_case(
            case,
            &outcome.run_id,
            &config.webhook_id,
            &config.redact_fields,
        );
        let yaml = to_yaml(&picture(case, &redactions))?;
        report.cases.push(store::check(
            &config.dir,
            &case.id,
            &yaml,
            config.mode,
            config.ci,
        )?);
    }
    Ok(report)
}

/// The picture as YAML, the content of a snapshot file.
pub fn to_yaml(picture: &Picture) -> Result<String, String> {
    serde_saphyr::to_string(picture)
        .map_err(|e| format!("cannot write the snapshot of {}: {e}", picture.case))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_replaced() {
        assert_eq!(
            replace_patterns("at 2026-03-13T12:00:00.000Z and 2026-03-13T12:00:00+02:00."),
            "at [timestamp] and [timestamp]."
        );
        assert_eq!(
            replace_patterns("id 123e4567-e89b-12d3-a456-426614174000!"),
            "id [uuid]!"
        );
        assert_eq!(
            replace_patterns("2026-03-13 only a date"),
            "2026-03-13 only a date"
        );
        assert_eq!(
            replace_patterns("x123e4567-e89b-12d3-a456-426614174000"),
            "x[uuid]"
        );
        assert_eq!(
            replace_patterns("é 2026-01-01T00:00:00Z é"),
            "é [timestamp] é"
        );
    }

    #[test]
    fn literals_and_fields() {
        let r = Redactions {
            literals: vec![
                ("gen_abc".into(), "[key-1]".into()),
                ("AhALzdz8S".into(), "[webhook-id]".into()),
            ],
            fields: vec!["requestId".into()],
        };
        let v = serde_json::json!({"id": "gen_abc", "requestId": "r-77", "echo": "AhALzdz8S"});
        assert_eq!(
            r.json(&v),
            serde_json::json!({"id": "[key-1]", "requestId": "[redacted]", "echo": "[webhook-id]"})
        );
    }
}
