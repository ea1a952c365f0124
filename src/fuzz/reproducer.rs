//! Reproducers of findings: a scenario file `webhook-harness run` replays, the
//! body beside it, and a `curl` command. The webhook id is never written: the
//! scenario uses `{{webhook_id}}` and curl reads `$WEBHOOK_HARNESS_WEBHOOK_ID`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Finding;
use super::strategies::Category;

/// The environment variable reproducers read the webhook id from.
pub const WEBHOOK_ID_VAR: &str = "WEBHOOK_HARNESS_WEBHOOK_ID";

use crate::scenario::model::{
    HeaderValues, RawStep, Severity, StepInput, WrittenCase, WrittenFile,
};
use crate::scenario::values::StatusPattern;

/// The case id of a finding: `fuzz.s<seed>-c<case>`.
pub fn case_id(seed: u64, finding: &Finding) -> String {
    format!("fuzz.s{seed}-c{}", finding.case)
}

/// The finding's body with its key and webhook id replaced by templates.
fn templated_body(finding: &Finding, webhook_id: &str) -> String {
    let mut body = String::from_utf8_lossy(&finding.input.body).into_owned();
    // Every replay uses a fresh key, whatever kind of input: a receiver that
    // remembers the key would otherwise answer the second replay as a
    // duplicate and the finding would look fixed.
    let key = &finding.input.built_with;
    if !key.is_empty() {
        body = body.replace(key.as_str(), "{{key}}");
    }
    if !webhook_id.is_empty() {
        body = body.replace(webhook_id, "{{webhook_id}}");
    }
    body
}

/// The reproducer scenario as YAML.
pub fn scenario_yaml(seed: u64, finding: &Finding, webhook_id: &str) -> Result<String, String> {
    let input = &finding.input;
    let mut headers = BTreeMap::new();
    for (name, value) in &input.headers {
        let mut value = value.clone();
        if !input.built_with.is_empty() {
            value = value.replace(input.built_with.as_str(), "{{key}}");
        }
        if !webhook_id.is_empty() {
            value = value.replace(webhook_id, "{{webhook_id}}");
        }
        HeaderValues::add(&mut headers, name, value);
    }
    let valid = input.category == Category::Valid || input.title_case_headers;
    let status = if valid {
        StatusPattern::Class(2)
    } else {
        StatusPattern::NotClass(5)
    };
    let raw = RawStep {
        event: input.event,
        bare: true,
        headers,
        body: Some(templated_body(finding, webhook_id)),
        ..RawStep::default()
    };
    let mut steps = vec![StepInput::raw(raw, status)];
    if input.category == Category::Valid {
        steps.push(StepInput::probe_required());
    }
    let file = WrittenFile {
        cases: vec![WrittenCase {
            id: case_id(seed, finding),
            title: input.description.clone(),
            severity: Severity::Must,
            finding: true,
            // The receiver's answer is in the reason: it may echo the id.
            requirement: Some(crate::secret::redact(
                &if input.built_with.is_empty() {
                    finding.reason.clone()
                } else {
                    finding.reason.replace(input.built_with.as_str(), "the key")
                },
                webhook_id,
            )),
            recorded: None,
            steps,
        }],
    };
    let yaml =
        serde_saphyr::to_string(&file).map_err(|e| format!("cannot write the reproducer: {e}"))?;
    let mut header = format!(
        "# webhook-harness fuzz finding (seed {seed}, case {}, {} shrink steps, {} -> {} bytes)\n\
         # Replay: webhook-harness run <this folder> --url URL  (webhook id from --webhook-id or ${WEBHOOK_ID_VAR})\n",
        finding.case,
        finding.shrink_steps,
        finding.original_size,
        input.body.len()
    );
    if !finding.reproduced {
        header.push_str("# Not reproduced: the same input passed when sent again (the receiver fails now and then); kept as it failed.\n");
    }
    if input.title_case_headers {
        header.push_str("# Note: the finding used Title-Case header names; this replay sends them in lower case.\n");
    }
    Ok(format!("{header}{yaml}"))
}

/// A shell-quoted string.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Where the webhook id stood in a body file: curl's command line puts the
/// real id back from the environment (`sed`), so no file holds the secret.
pub const BODY_ID_PLACEHOLDER: &str = "{{webhook_id}}";

/// Whether the finding's body carries the webhook id.
fn body_has_id(finding: &Finding, webhook_id: &str) -> bool {
    !webhook_id.is_empty() && String::from_utf8_lossy(&finding.input.body).contains(webhook_id)
}

/// A `curl` command that sends the finding's request; the body is read from
/// `body_path`, with the webhook id put back from `$WEBHOOK_HARNESS_WEBHOOK_ID`
/// when the body carries it.
pub fn curl(finding: &Finding, url: &str, webhook_id: &str, body_path: &Path) -> String {
    let with_id = body_has_id(finding, webhook_id);
    let mut parts = Vec::new();
    if with_id {
        parts.push(format!(
            "sed \"s/{BODY_ID_PLACEHOLDER}/${WEBHOOK_ID_VAR}/g\" {} |",
            quote(&body_path.display().to_string())
        ));
    }
    parts.push("curl -i -X POST".to_owned());
    parts.push(quote(url));
    for (name, value) in &finding.input.headers {
        if !webhook_id.is_empty() && value.contains(webhook_id) {
            let (before, after) = value.split_once(webhook_id).unwrap_or((value, ""));
            parts.push(format!(
                "-H {}\"${WEBHOOK_ID_VAR}\"{}",
                quote(&format!("{name}: {before}")),
                if after.is_empty() {
                    String::new()
                } else {
                    quote(after)
                }
            ));
        } else {
            parts.push(format!("-H {}", quote(&format!("{name}: {value}"))));
        }
    }
    if with_id {
        parts.push("--data-binary @-".to_owned());
    } else {
        parts.push(format!(
            "--data-binary @{}",
            quote(&body_path.display().to_string())
        ));
    }
    parts.join(" ")
}

/// Writes `<id>.yaml` and `<id>.body` under `dir`; returns the YAML path.
pub fn write(
    dir: &Path,
    seed: u64,
    finding: &Finding,
    webhook_id: &str,
) -> Result<(PathBuf, PathBuf), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let id = case_id(seed, finding);
    let yaml_path = dir.join(format!("{id}.yaml"));
    let body_path = dir.join(format!("{id}.body"));
    std::fs::write(&yaml_path, scenario_yaml(seed, finding, webhook_id)?)
        .map_err(|e| format!("cannot write {}: {e}", yaml_path.display()))?;
    let body = if body_has_id(finding, webhook_id) {
        String::from_utf8_lossy(&finding.input.body)
            .replace(webhook_id, BODY_ID_PLACEHOLDER)
            .into_bytes()
    } else {
        finding.input.body.clone()
    };
    std::fs::write(&body_path, body)
        .map_err(|e| format!("cannot write {}: {e}", body_path.display()))?;
    Ok((yaml_path, body_path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::FuzzInput;

    fn finding(body: &str) -> Finding {
        Finding {
            case: 3,
            input: FuzzInput {
                category: Category::Invalid,
                description: "d".into(),
                event: None,
                key: None,
                built_with: String::new(),
                headers: vec![("X-Inference-Webhook-ID".into(), "AhALzdz8S".into())],
                body: body.as_bytes().to_vec(),
                title_case_headers: false,
            },
            reason: "r".into(),
            attempt: None,
            shrink_steps: 0,
            original_size: body.len(),
            shrink_cut: false,
            reproduced: true,
        }
    }

    #[test]
    fn curl_puts_the_real_id_into_the_body_from_the_environment() {
        let dir = std::env::temp_dir().join(format!("wh-repro-{}", std::process::id()));
        let f = finding(r#"{"webhookId":"AhALzdz8S","x":1"#);
        let (_, body_path) = write(&dir, 1, &f, "AhALzdz8S").unwrap();
        let written = std::fs::read_to_string(&body_path).unwrap();
        assert_eq!(written, r#"{"webhookId":"{{webhook_id}}","x":1"#);
        let line = curl(&f, "http://127.0.0.1:1/webhook", "AhALzdz8S", &body_path);
        assert!(!line.contains("AhALzdz8S"), "{line}");
        assert!(
            line.starts_with(r#"sed "s/{{webhook_id}}/$WEBHOOK_HARNESS_WEBHOOK_ID/g""#),
            "{line}"
        );
        assert!(line.ends_with("--data-binary @-"), "{line}");
        // Without the id in the body, curl reads the file as it is.
        let plain = finding("[]");
        let line = curl(
            &plain,
            "http://127.0.0.1:1/webhook",
            "AhALzdz8S",
            &body_path,
        );
        assert!(line.starts_with("curl "), "{line}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
