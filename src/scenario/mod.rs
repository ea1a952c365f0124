//! What a user writes: the YAML scenario model, parsing with locations, validation.
//!
//! [`parse`] turns one file's text into [`Scenario`]s; errors carry
//! `file:line:col` and a snippet of the offending line. The built-in suite is
//! embedded from the top-level `scenarios/` folder at build time.

pub mod model;
pub(crate) mod template;
pub(crate) mod validate;
pub mod values;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use model::{Action, Case, Severity, Step};

/// A case and where it was written.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The case as parsed.
    pub case: Case,
    /// Where the case starts.
    pub source: Source,
}

impl Scenario {
    /// Where step `index` (0-based) was written.
    pub fn step_source(&self, index: usize) -> Option<Source> {
        let step = self.case.steps.get(index)?;
        Some(Source {
            file: self.source.file.clone(),
            line: step.referenced.line(),
            column: step.referenced.column(),
        })
    }
}

/// A place in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file, as given or `builtin:NAME.yaml` for the built-in suite.
    pub file: String,
    /// The line, 1-based.
    pub line: u64,
    /// The column, 1-based.
    pub column: u64,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A scenario file could not be read or is not valid. Its text names the
/// file, line and column, shows the line, and says what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScenarioError {}

/// The built-in suite: (file name, contents), embedded at build time.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "readiness.yaml",
        include_str!("../../scenarios/readiness.yaml"),
    ),
    ("events.yaml", include_str!("../../scenarios/events.yaml")),
    (
        "dialects.yaml",
        include_str!("../../scenarios/dialects.yaml"),
    ),
    (
        "idempotency.yaml",
        include_str!("../../scenarios/idempotency.yaml"),
    ),
    (
        "verification.yaml",
        include_str!("../../scenarios/verification.yaml"),
    ),
    ("input.yaml", include_str!("../../scenarios/input.yaml")),
    ("limits.yaml", include_str!("../../scenarios/limits.yaml")),
    (
        "durability.yaml",
        include_str!("../../scenarios/durability.yaml"),
    ),
];

/// The YAML reader's messages, and one of ours: a step's `expect` written
/// inside its action (indented one level too deep) says where it belongs,
/// at its own line, instead of only that the action has no such field.
struct Messages;

impl serde_saphyr::MessageFormatter for Messages {
    fn format_message<'a>(&self, err: &'a serde_saphyr::Error) -> std::borrow::Cow<'a, str> {
        if let serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } = err
            && field == "expect"
        {
            // The actions that take `expect` beside them, told by a field
            // only they have.
            let action = [("deliver", "copies"), ("raw", "body_file")]
                .into_iter()
                .find(|(_, only)| expected.contains(only));
            if let Some((action, _)) = action {
                return format!(
                    "`expect` is written inside `{action}:`, one level too deep: it belongs to the step, beside `{action}`; indent it as far as `{action}` (under the step's `- `)"
                )
                .into();
            }
        }
        serde_saphyr::DefaultMessageFormatter.format_message(err)
    }
}

/// Parses one scenario file's text; `name` is used in messages.
pub fn parse(name: &str, text: &str) -> Result<Vec<Scenario>, ScenarioError> {
    if text.trim().is_empty() {
        return Err(ScenarioError(format!(
            "error: {name}: the file is empty; a scenario file holds `cases:` (see `webhook-harness schema`), or remove it"
        )));
    }
    let file: model::ScenarioFile = serde_saphyr::from_str(text).map_err(|e| {
        let mut options = serde_saphyr::RenderOptions::new(&Messages);
        options.source_name = Some(name);
        ScenarioError(e.render_with_options(options))
    })?;
    Ok(file
        .cases
        .into_iter()
        .map(|spanned| Scenario {
            source: Source {
                file: name.to_owned(),
                line: spanned.referenced.line(),
                column: spanned.referenced.column(),
            },
            case: spanned.value,
        })
        .collect())
}

/// The built-in suite, `builtin:` prefixed to its file names.
pub fn builtin() -> Result<Vec<Scenario>, ScenarioError> {
    let mut all = Vec::new();
    for (name, text) in BUILTIN {
        all.extend(parse(&format!("builtin:{name}"), text)?);
    }
    Ok(all)
}

/// Loads files and folders (every `*.yaml` / `*.yml` inside, sorted by name).
pub fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, ScenarioError> {
    let mut all = Vec::new();
    for path in paths {
        for file in files(path)? {
            let text = read_bounded(&file)?;
            let mut scenarios = parse(&file.display().to_string(), &text)?;
            let folder = file.parent().unwrap_or(Path::new("."));
            for scenario in &mut scenarios {
                resolve_body_files(scenario, folder)?;
            }
            all.extend(scenarios);
        }
    }
    Ok(all)
}

/// The most a `body_file` may hold: what the proxy and the reference
/// receiver accept (16 MiB), the contract's 10 MB payload with a margin.
pub const MAX_BODY_FILE: u64 = crate::receiver::server::MAX_REQUEST_BODY as u64;

/// The most a scenario file may hold (a recording or a fuzz reproducer is a
/// few kilobytes; a body written inline stays under the payload limit).
pub const MAX_SCENARIO_FILE: u64 = 16 * 1024 * 1024;

/// Points each `body_file` at its file beside the scenario. A scenario file
/// may come from someone else (a recording handed over, a checkout): its
/// body files must stay inside its folder (no absolute path, no `..`, no
/// symbolic link that leads out) and within [`MAX_BODY_FILE`], so that
/// `replay` never sends, nor reports, a file from elsewhere on the machine.
fn resolve_body_files(scenario: &mut Scenario, folder: &Path) -> Result<(), ScenarioError> {
    let file = scenario.source.file.clone();
    for step in &mut scenario.case.steps {
        let (line, column) = (step.referenced.line(), step.referenced.column());
        if let Action::Raw(raw) = &mut step.value.action
            && let Some(name) = &raw.body_file
        {
            let at = format!("{file}:{line}:{column}");
            raw.body_path =
                Some(body_file(folder, name).map_err(|why| {
                    ScenarioError(format!("error: {at}: `body_file: {name}` {why}"))
                })?);
        }
    }
    Ok(())
}

/// The file `name` names inside `folder`, or why it may not be sent.
fn body_file(folder: &Path, name: &str) -> Result<PathBuf, String> {
    use std::path::Component;
    let relative = Path::new(name);
    let inside = !relative.as_os_str().is_empty()
        && relative
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !inside {
        return Err(
            "must name a file beside the scenario file: a relative path inside its folder, without `..` (a recording's .body file stays beside its .yaml)".into(),
        );
    }
    let path = folder.join(relative);
    let not_found = || {
        format!(
            "names no file (looked for {}); a recording's .body file must stay beside its .yaml",
            path.display()
        )
    };
    let real = path.canonicalize().map_err(|_| not_found())?;
    let real_folder = folder.canonicalize().map_err(|_| not_found())?;
    if !real.starts_with(&real_folder) {
        return Err(
            "leads out of the scenario file's folder through a symbolic link: refused, a scenario may only send files of its own folder".into(),
        );
    }
    let meta = std::fs::metadata(&real).map_err(|_| not_found())?;
    if !meta.is_file() {
        return Err(not_found());
    }
    if meta.len() > MAX_BODY_FILE {
        return Err(format!(
            "is {} bytes, over the {} MiB a body file may hold (the contract's 10 MB payload, with a margin)",
            meta.len(),
            MAX_BODY_FILE / (1024 * 1024)
        ));
    }
    Ok(real)
}

/// A scenario file's text, at most [`MAX_SCENARIO_FILE`] bytes of it.
fn read_bounded(file: &Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let cannot = |e: std::io::Error| {
        ScenarioError(format!(
            "error: cannot read scenario file {}: {e}; check the path and permissions",
            file.display()
        ))
    };
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_SCENARIO_FILE + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_SCENARIO_FILE {
        return Err(ScenarioError(format!(
            "error: {}: over {} MiB, more than a scenario file holds; put a large body in a `body_file` beside it",
            file.display(),
            MAX_SCENARIO_FILE / (1024 * 1024)
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        ScenarioError(format!(
            "error: {}: not UTF-8 text (at byte {}); a scenario file is YAML",
            file.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

fn files(path: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        ScenarioError(format!(
            "error: cannot read {}: {e}; give a scenario file or a folder of them",
            path.display()
        ))
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| ScenarioError(format!("error: cannot list folder {}: {e}", path.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir() || matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        if f.is_dir() {
            out.extend(self::files(&f)?);
        } else {
            out.push(f);
        }
    }
    if out.is_empty() {
        return Err(ScenarioError(format!(
            "error: no scenario files (*.yaml, *.yml) in {}",
            path.display()
        )));
    }
    Ok(out)
}

/// Rejects two cases with the same id, naming both places.
pub fn check_unique(scenarios: &[Scenario]) -> Result<(), ScenarioError> {
    let mut seen: HashMap<&str, &Source> = HashMap::new();
    for s in scenarios {
        if let Some(first) = seen.insert(&s.case.id, &s.source) {
            return Err(ScenarioError(format!(
                "error: case id `{}` is used twice\n --> {}\n --> {}\n  = help: give each case its own id",
                s.case.id, first, s.source
            )));
        }
    }
    Ok(())
}

/// The JSON Schema of the scenario format, pretty-printed: the committed
/// `schema/scenario.schema.json`. A unit test keeps it equal to what schemars
/// derives from the model; schemars is built for tests only, which keeps it
/// (and its derive) out of every release build.
pub fn json_schema() -> &'static str {
    include_str!("../../schema/scenario.schema.json")
}

/// Test support: checks that the committed schema file `file` (relative to
/// the crate) is `schema` pretty-printed; with `UPDATE_SCHEMA=1` in the
/// environment (that value only), writes it instead.
#[cfg(test)]
pub(crate) fn check_schema_file(schema: &schemars::Schema, committed: &str, file: &str) {
    let mut text = serde_json::to_string_pretty(schema).expect("a schema is JSON");
    text.push('\n');
    if std::env::var("UPDATE_SCHEMA").as_deref() == Ok("1") {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        std::fs::write(&path, &text).expect("the schema file is writable");
    } else {
        assert!(
            committed == text,
            "{file} is not what the model gives: run `UPDATE_SCHEMA=1 cargo test --lib schema`"
        );
    }
}

/// One rule of the contract and the cases of a suite that verify it.
#[derive(Debug, Clone)]
pub struct RuleCoverage {
    /// The rule.
    pub rule: &'static crate::contract::Rule,
    /// The ids of the cases that cite it, in suite order.
    pub cases: Vec<String>,
    /// The highest severity among them (`must` before `should` before
    /// `info`); none when no case cites it.
    pub severity: Option<model::Severity>,
}

/// Every rule of the contract, in its order, with the cases of
/// `scenarios` that verify it.
pub fn coverage(scenarios: &[Scenario]) -> Vec<RuleCoverage> {
    crate::contract::RULES
        .iter()
        .map(|rule| {
            let citing: Vec<&Scenario> = scenarios
                .iter()
                .filter(|s| s.case.rules.iter().any(|r| r.0.id == rule.id))
                .collect();
            RuleCoverage {
                rule,
                cases: citing.iter().map(|s| s.case.id.clone()).collect(),
                severity: citing.iter().map(|s| s.case.severity).min(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::model::*;
    use super::values::*;
    use crate::event::{Dialect, EventKind, State};

    /// What the harness writes (recordings, reproducers) is the loader's own
    /// step types: every kind of step, every field set, written and read
    /// back, is the same step.
    #[test]
    fn what_is_written_reads_back_as_the_same_steps() {
        let mut headers = BTreeMap::new();
        HeaderValues::add(&mut headers, "x-one", "a".into());
        HeaderValues::add(&mut headers, "x-two", "b".into());
        HeaderValues::add(&mut headers, "x-two", "{{key}}".into());
        let mut set = serde_json::Map::new();
        set.insert("data.status".into(), "completed".into());
        let mut add = serde_json::Map::new();
        add.insert("data.extra".into(), serde_json::json!({"n": 1}));
        let deliver = DeliverStep {
            event: EventKind::SlowGroupCompleted,
            dialect: Dialect::Legacy,
            instance: 2,
            set,
            add,
            unset: vec!["data.group_size".into()],
            edits: Vec::new(),
            headers: headers.clone(),
            state: Some(State::Failed),
            group_size: Some(4),
            failed_members: Some(1),
            size: None,
            mode: DeliveryMode::Single,
            copies: Some(3),
            replica: Some(ReplicaChoice::Each),
        };
        let raw = RawStep {
            method: Some("PUT".into()),
            event: Some(EventKind::WebhookTest),
            instance: 1,
            bare: true,
            headers,
            body: Some("{\"event\": \"{{key}}\"}".into()),
            key: Some("gen_1".into()),
            query: Some("a=1&b=2".into()),
            replica: Some(ReplicaChoice::One(1)),
            ..RawStep::default()
        };
        let expect = Expect {
            status: Some(StatusSpec(vec![
                StatusPattern::Code(200),
                StatusPattern::NotClass(5),
            ])),
            latency: Some(LatencySpec::Below(Duration::from_millis(1500))),
            headers: BTreeMap::from([("content-type".into(), "application/json".into())]),
        };
        let steps = vec![
            StepInput {
                options: Some(OptionsStep {}),
                ..StepInput::default()
            },
            StepInput {
                deliver: Some(deliver),
                expect: Some(expect.clone()),
                ..StepInput::default()
            },
            StepInput {
                raw: Some(raw),
                expect: Some(expect),
                ..StepInput::default()
            },
            StepInput {
                probe: Some(ProbeStep {
                    event: Some(EventKind::SlowGroupCompleted),
                    instance: Some(2),
                    effects: EffectSpec::AtMost(1),
                    within: Some(DurationText(Duration::from_millis(2500))),
                }),
                ..StepInput::default()
            },
            StepInput {
                wait: Some(DurationText(Duration::from_millis(250))),
                ..StepInput::default()
            },
            StepInput {
                restart: Some(RestartStep { replica: Some(1) }),
                ..StepInput::default()
            },
            StepInput {
                others: Some(OthersStep {
                    count: 10,
                    event: Some(EventKind::AsyncEmbeddingCompleted),
                    replica: Some(ReplicaChoice::Each),
                }),
                ..StepInput::default()
            },
        ];
        let file = WrittenFile {
            cases: vec![WrittenCase {
                id: "written.every-step".into(),
                title: "every step".into(),
                severity: Severity::Should,
                finding: true,
                requirement: Some("as written".into()),
                recorded: Some(Recorded {
                    by: "proxy".into(),
                    at: "2026-12-02T10:00:00Z".into(),
                    request: "POST /webhook".into(),
                    answer: "200 in 1ms".into(),
                    answer_body: Some("{}".into()),
                }),
                steps: steps.clone(),
            }],
        };
        let yaml = serde_saphyr::to_string(&file).unwrap();
        let read = super::parse("written.yaml", &yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let case = &read[0].case;
        assert_eq!(
            (case.id.as_str(), case.severity, case.finding),
            ("written.every-step", Severity::Should, true)
        );
        assert_eq!(
            case.recorded.as_ref().map(|r| r.answer_body.as_deref()),
            Some(Some("{}"))
        );
        // Each step reads back as it was written: the debug forms of what
        // the loader made of the text and of the steps as built agree.
        let written: Vec<String> = steps.iter().map(|s| format!("{s:?}")).collect();
        let again: Vec<StepInput> = serde_saphyr::from_str::<serde_json::Value>(&yaml)
            .map(|v| v["cases"][0]["steps"].clone())
            .and_then(|v| serde_json::from_value(v).map_err(|e| panic!("{e}")))
            .unwrap();
        let again: Vec<String> = again.iter().map(|s| format!("{s:?}")).collect();
        assert_eq!(again, written, "{yaml}");
        assert_eq!(case.steps.len(), steps.len());
    }

    #[test]
    fn the_committed_schema_is_the_models() {
        super::check_schema_file(
            &schemars::schema_for!(super::model::ScenarioFile),
            super::json_schema(),
            "schema/scenario.schema.json",
        );
    }

    /// Every rule of the contract is verified by a built-in case, or says
    /// why none can; every built-in case cites a rule.
    #[test]
    fn the_builtin_suite_covers_every_rule() {
        let suite = super::builtin().unwrap();
        for s in &suite {
            assert!(!s.case.rules.is_empty(), "{} cites no rule", s.case.id);
        }
        for c in super::coverage(&suite) {
            match c.rule.untestable {
                Some(why) => assert!(
                    c.cases.is_empty() && !why.is_empty(),
                    "{}: marked not testable, yet verified by {:?}",
                    c.rule.id,
                    c.cases
                ),
                None => assert!(!c.cases.is_empty(), "no case verifies `{}`", c.rule.id),
            }
        }
    }

    #[test]
    fn an_unknown_rule_is_an_error_with_the_nearest() {
        let text = "cases:\n  - id: a.b\n    title: t\n    rules: [efect-once]\n    steps:\n      - wait: 1ms\n";
        let e = super::parse("mine.yaml", text).unwrap_err().to_string();
        assert!(
            e.contains("unknown rule `efect-once` (did you mean `effect-once`?)"),
            "{e}"
        );
        assert!(e.contains("mine.yaml:4:"), "{e}");
    }
}
