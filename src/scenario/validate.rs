//! Checks beyond the types: one action per step, known templates, valid paths.
//!
//! These run inside deserialization, so the YAML parser reports them with the
//! step's line and column and a snippet, like any other error.

use super::model::{Action, Expect, RawStep, STEP_KINDS, Step, StepInput};
use super::values::StatusSpec;
use crate::event::overrides::parse_path;
use crate::event::{Event, Override};

/// Most copies one step may send at once.
pub const MAX_COPIES: usize = 1000;

/// Most deliveries one `others` step may send.
pub const MAX_OTHERS: usize = 100_000;

/// A step is read as written ([`StepInput`]) and validated on the way in,
/// so a problem is reported by the YAML parser with its line and column.
impl<'de> serde::Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        step(StepInput::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Validates a step as written and applies defaults.
pub fn step(input: StepInput) -> Result<Step, String> {
    let StepInput {
        options,
        deliver,
        raw,
        probe,
        wait,
        restart,
        others,
        expect,
    } = input;
    let mut given = Vec::new();
    if options.is_some() {
        given.push("options");
    }
    if deliver.is_some() {
        given.push("deliver");
    }
    if raw.is_some() {
        given.push("raw");
    }
    if probe.is_some() {
        given.push("probe");
    }
    if wait.is_some() {
        given.push("wait");
    }
    if restart.is_some() {
        given.push("restart");
    }
    if others.is_some() {
        given.push("others");
    }
    if given.len() != 1 {
        let found = if given.is_empty() {
            "none".to_owned()
        } else {
            given
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        let kinds: Vec<String> = STEP_KINDS.iter().map(|k| format!("`{k}`")).collect();
        return Err(format!(
            "a step does exactly one thing: give one of {} (found {found}); split it into several steps",
            kinds.join(", ")
        ));
    }
    let takes_expect = options.is_some() || deliver.is_some() || raw.is_some();
    if expect.is_some() && !takes_expect {
        return Err(format!(
            "`expect` goes with `options`, `deliver` or `raw`, not with `{}`{}",
            given[0],
            if probe.is_some() {
                "; a probe states its count with `effects:`"
            } else {
                ""
            }
        ));
    }
    let default_status = options.is_some() || deliver.is_some();
    let mut expect = expect.unwrap_or_default();
    if expect.status.is_none() && default_status {
        expect.status = Some(StatusSpec::success());
    }
    let action = if options.is_some() {
        Action::Options
    } else if let Some(d) = deliver {
        let mut d = d;
        for (path, value) in &d.set {
            let path = parse_path(path).map_err(|e| format!("in `deliver`: {e}"))?;
            d.edits.push(Override::Set {
                path,
                value: value.clone(),
            });
        }
        for (path, value) in &d.add {
            let path = parse_path(path).map_err(|e| format!("in `deliver`: {e}"))?;
            d.edits.push(Override::Add {
                path,
                value: value.clone(),
            });
        }
        for path in &d.unset {
            let path = parse_path(path).map_err(|e| format!("in `deliver`: {e}"))?;
            d.edits.push(Override::Unset { path });
        }
        if !d.event.is_group() && (d.group_size.is_some() || d.failed_members.is_some()) {
            return Err(format!(
                "`group_size` and `failed_members` apply to slow-group.completed, not {}",
                d.event
            ));
        }
        // The paths (and the padding's place) are checked against the
        // payload this step sends, now, so a typo is reported where it was
        // written. A payload neither edited, padded nor resized always
        // builds, within the contract's size.
        if !d.edits.is_empty() || d.size.is_some() || d.group_size.is_some() {
            let mut builder = d.shape(Event::builder(d.event));
            for edit in &d.edits {
                builder = builder.apply(edit.clone());
            }
            // Within the contract's size too: a group of millions is
            // refused here, before it is made.
            builder.check().map_err(|e| format!("in `deliver`: {e}"))?;
        }
        for value in d.set.values().chain(d.add.values()) {
            check_templates_in_json(value)?;
        }
        for value in d.headers.values().flatten().flat_map(|v| v.values()) {
            check_templates(value)?;
        }
        match d.copies {
            Some(0) => return Err("`copies: 0` sends nothing: give 1 or more".into()),
            Some(n) if n > MAX_COPIES => {
                return Err(format!(
                    "`copies: {n}` is more than {MAX_COPIES}: use `webhook-harness load` for volume"
                ));
            }
            _ => {}
        }
        Action::Deliver(d)
    } else if let Some(r) = raw {
        raw_step(&r)?;
        Action::Raw(r)
    } else if let Some(p) = probe {
        Action::Probe(p)
    } else if let Some(w) = wait {
        Action::Wait(w.0)
    } else if let Some(r) = restart {
        Action::Restart(r)
    } else if let Some(o) = others {
        if !(1..=MAX_OTHERS).contains(&o.count) {
            return Err(format!(
                "`others: {{ count: {} }}`: give 1 to {MAX_OTHERS}",
                o.count
            ));
        }
        Action::Others(o)
    } else {
        unreachable!("exactly one action was counted above")
    };
    Ok(Step {
        action,
        expect: Expect { ..expect },
    })
}

fn raw_step(r: &RawStep) -> Result<(), String> {
    let bodies = [
        r.body.is_some(),
        r.body_json.is_some(),
        r.body_size.is_some(),
        r.body_file.is_some(),
    ];
    if bodies.iter().filter(|b| **b).count() > 1 {
        return Err("give at most one of `body`, `body_json`, `body_size`, `body_file`".into());
    }
    if let Some(query) = &r.query
        && (query.starts_with('?') || query.contains(['#', ' ']))
    {
        return Err(format!(
            "`query: {query}` must be the query string alone, without `?`, `#` or spaces (e.g. source=tunnel&v=2)"
        ));
    }
    if let Some(m) = &r.method
        && (m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'))
    {
        return Err(format!(
            "`{m}` is not an HTTP method: write e.g. POST, PUT, GET"
        ));
    }
    if let Some(body) = &r.body {
        check_templates(body)?;
    }
    for value in r.headers.values().flatten().flat_map(|v| v.values()) {
        check_templates(value)?;
    }
    Ok(())
}

fn check_templates_in_json(value: &serde_json::Value) -> Result<(), String> {
    match value {
        serde_json::Value::String(s) => check_templates(s),
        serde_json::Value::Array(items) => items.iter().try_for_each(check_templates_in_json),
        serde_json::Value::Object(map) => map.values().try_for_each(check_templates_in_json),
        _ => Ok(()),
    }
}

/// Rejects `{{name}}` with an unknown name (the runner's own parser).
pub fn check_templates(text: &str) -> Result<(), String> {
    super::template::parse(text)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert!(check_templates("id-{{key}}-{{ run_id }}").is_ok());
        assert!(
            check_templates("{{nope}}")
                .unwrap_err()
                .contains("unknown template `{{nope}}`")
        );
        assert!(
            check_templates("{{key")
                .unwrap_err()
                .contains("without closing")
        );
    }
}
