//! The scenario format: what a user writes, as Rust types.
//!
//! A file holds `cases`; a case has an `id`, a `title`, a `severity`, the
//! `requirement` in words, and `steps`. Each step does one thing (`options`,
//! `deliver`, `raw`, `probe` or `wait`) and may `expect` things of the answer.
//! Unknown keys are errors. The JSON Schema of the format is generated from
//! these types (`webhook-harness schema`).

use std::collections::BTreeMap;

#[cfg(test)]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_saphyr::Spanned;

use super::values::{ByteSize, DurationText, EffectSpec, LatencySpec, StatusSpec};
use crate::event::{Dialect, EventKind, State};

/// A scenario file.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(test, schemars(title = "webhook-harness scenario file"))]
pub struct ScenarioFile {
    /// The cases of this file, run in order (or in parallel with `--jobs`).
    #[cfg_attr(test, schemars(with = "Vec<Case>"))]
    pub cases: Vec<Spanned<Case>>,
}

/// One conformance case.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// A unique id, dotted by concern: `idempotency.concurrent-copies`.
    pub id: String,
    /// One line saying what the case checks.
    pub title: String,
    /// `must` fails the run; `should` is a warning (a failure under `--strict`); `info` is reported only.
    #[serde(default)]
    pub severity: Severity,
    /// The requirement in words, shown when the case fails.
    #[serde(default)]
    pub requirement: Option<String>,
    /// The fix in one line, for summaries (the Markdown report, the step
    /// summary): what to change when the case fails.
    #[serde(default)]
    pub fix: Option<String>,
    /// A reproducer written by `fuzz`: reported as `fixed` or `still failing`.
    #[serde(default)]
    pub finding: bool,
    /// The rules of the sender's contract the case verifies, by id
    /// (`effect-once`; `webhook-harness list --rules` prints them all).
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Vec<String>"))]
    pub rules: Vec<RuleId>,
    /// The steps, run in order (each with where it was written).
    #[cfg_attr(test, schemars(with = "Vec<Step>"))]
    pub steps: Vec<Spanned<Step>>,
    /// Where a recorded case comes from (written by `proxy --record` and
    /// `receive --record`; shown, not checked).
    #[serde(default)]
    pub recorded: Option<Recorded>,
}

/// A scenario file as the harness writes it (recordings, fuzz
/// reproducers): the loader's own step types ([`StepInput`] and what it
/// holds), under a case without locations. What is written reads back
/// through [`crate::scenario::parse`] as the same steps.
#[derive(Debug, Clone, Serialize)]
pub struct WrittenFile {
    /// The cases.
    pub cases: Vec<WrittenCase>,
}

/// One case as the harness writes it (see [`Case`] for the fields).
#[derive(Debug, Clone, Serialize)]
pub struct WrittenCase {
    /// A unique id.
    pub id: String,
    /// One line saying what the case checks.
    pub title: String,
    /// How much a failure matters.
    pub severity: Severity,
    /// A reproducer written by `fuzz`.
    #[serde(skip_serializing_if = "is_false")]
    pub finding: bool,
    /// The requirement in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// Where a recorded case comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<Recorded>,
    /// The steps, as written.
    pub steps: Vec<StepInput>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}

/// A rule of the contract, by its id in [`crate::contract::RULES`]: an
/// unknown id is an error where it is written, with the nearest id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleId(pub &'static crate::contract::Rule);

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        if let Some(rule) = crate::contract::rule(&id) {
            return Ok(RuleId(rule));
        }
        let nearest = crate::contract::RULES
            .iter()
            .map(|r| (strsim::levenshtein(r.id, &id), r.id))
            .min()
            .filter(|(distance, _)| *distance <= 3)
            .map(|(_, near)| format!(" (did you mean `{near}`?)"))
            .unwrap_or_default();
        Err(serde::de::Error::custom(format!(
            "unknown rule `{id}`{nearest}: `webhook-harness list --rules` lists the rules of the contract"
        )))
    }
}

impl Case {
    /// What the case needs of the run (a receiver to restart, replicas).
    pub fn needs(&self) -> Needs {
        self.steps.iter().fold(Needs::default(), |needs, step| {
            needs.and(step.value.action.needs())
        })
    }
}

/// A recorded delivery's origin and the answer it got at the time.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    /// What recorded it: `proxy` or `receive`.
    pub by: String,
    /// When it arrived (RFC 3339, UTC).
    pub at: String,
    /// The request line as it arrived, e.g. `POST /webhook?source=x`.
    pub request: String,
    /// The answer it got then, e.g. `200 in 12.3ms`, or what failed.
    pub answer: String,
    /// The start of the answer's body, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_body: Option<String>,
}

/// How much a failing case matters (as in h2spec and Autobahn).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The contract requires it: a failure fails the run.
    #[default]
    Must,
    /// The docs' best practice: a warning, a failure under `--strict`.
    Should,
    /// Reported only.
    Info,
}

impl Severity {
    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Must => "must",
            Severity::Should => "should",
            Severity::Info => "info",
        }
    }
}

/// One step, validated: what it does and what it expects.
#[derive(Debug, Clone)]
pub struct Step {
    /// What the step does.
    pub action: Action,
    /// Expectations on the answer (defaults applied).
    pub expect: Expect,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// An `OPTIONS` readiness check.
    Options,
    /// Delivers an event.
    Deliver(DeliverStep),
    /// Sends any request.
    Raw(RawStep),
    /// Asks the effects probe.
    Probe(ProbeStep),
    /// Pauses this long.
    Wait(std::time::Duration),
    /// Restarts the receiver the harness serves (`--serve`).
    Restart(RestartStep),
    /// Delivers events of other, fresh keys.
    Others(OthersStep),
}

/// The step kinds, as written: a step gives exactly one.
pub const STEP_KINDS: [&str; 7] = [
    "options", "deliver", "raw", "probe", "wait", "restart", "others",
];

impl Action {
    /// What the action needs of the run to mean anything: a receiver the
    /// harness can restart, or this many replicas.
    pub fn needs(&self) -> Needs {
        match self {
            Action::Restart(r) => Needs {
                restart: true,
                replicas: r.replica.map_or(1, |i| i + 1),
            },
            Action::Deliver(d) => Needs {
                restart: false,
                replicas: d.replica.map_or(1, ReplicaChoice::needs),
            },
            Action::Raw(r) => Needs {
                restart: false,
                replicas: r.replica.map_or(1, ReplicaChoice::needs),
            },
            Action::Others(o) => Needs {
                restart: false,
                replicas: o.replica.map_or(1, ReplicaChoice::needs),
            },
            _ => Needs::default(),
        }
    }
}

/// What a step (or a case) needs of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// A receiver the harness started, so that it can restart it.
    pub restart: bool,
    /// At least this many replicas.
    pub replicas: usize,
}

impl Default for Needs {
    fn default() -> Self {
        Needs {
            restart: false,
            replicas: 1,
        }
    }
}

impl Needs {
    /// What both need.
    pub fn and(self, other: Needs) -> Needs {
        Needs {
            restart: self.restart || other.restart,
            replicas: self.replicas.max(other.replicas),
        }
    }
}

/// Restart the receiver the harness started (`--serve`): stop it, start the
/// same command on the same port, wait until it answers.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RestartStep {
    /// Which replica (0-based); every replica when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<usize>,
}

/// Deliver `count` events of other keys, each fresh, several at once, one
/// attempt each, every one to be answered 2xx: a later copy of a key then
/// arrives after that many others, as a late retry does behind other
/// traffic (a dedupe cache bounded at fewer keys has forgotten it).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OthersStep {
    /// How many (1 to 100,000).
    pub count: usize,
    /// Which event (default `generation.completed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventKind>,
    /// The replica to send to, or `each` to spread them; replica 0 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<ReplicaChoice>,
}

/// Which replica a step sends to (`--serve-replicas`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaChoice {
    /// This one (0-based).
    One(usize),
    /// Each copy to the next replica in turn (`copies` spread over them).
    Each,
}

impl ReplicaChoice {
    /// How many replicas the choice needs to mean what it says.
    pub fn needs(self) -> usize {
        match self {
            ReplicaChoice::One(i) => i + 1,
            ReplicaChoice::Each => 2,
        }
    }
}

impl Serialize for ReplicaChoice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ReplicaChoice::One(i) => s.serialize_u64(*i as u64),
            ReplicaChoice::Each => s.serialize_str("each"),
        }
    }
}

impl<'de> Deserialize<'de> for ReplicaChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Index(usize),
            Word(String),
        }
        match Written::deserialize(d)? {
            Written::Index(i) => Ok(ReplicaChoice::One(i)),
            Written::Word(w) if w == "each" => Ok(ReplicaChoice::Each),
            Written::Word(w) => Err(serde::de::Error::custom(format!(
                "`replica: {w}`: give a replica's number (0, 1, ...) or `each`"
            ))),
        }
    }
}

#[cfg(test)]
impl JsonSchema for ReplicaChoice {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Replica".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A replica's number (0-based), or `each`: copies spread over the replicas in turn.",
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "enum": ["each"]}
            ]
        })
    }
}

#[cfg(test)]
impl JsonSchema for Step {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Step".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut schema = StepInput::json_schema(generator);
        let one_of: Vec<Value> = STEP_KINDS
            .iter()
            .map(|k| serde_json::json!({"required": [k]}))
            .collect();
        schema.insert("oneOf".into(), Value::Array(one_of));
        schema
    }
}

/// One step as written: exactly one of `options`, `deliver`, `raw`, `probe`,
/// `wait`, `restart`, `others`, with `expect` for the first three.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(test, schemars(rename = "Step"))]
pub struct StepInput {
    /// An `OPTIONS` readiness check of the endpoint (write `options: {}`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub options: Option<OptionsStep>,
    /// Deliver an event like the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver: Option<DeliverStep>,
    /// Send any request: method, headers and body as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawStep>,
    /// Ask the effects probe how often the effect ran for an event's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeStep>,
    /// Pause, e.g. `wait: 200ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<DurationText>,
    /// Restart the receiver the harness serves (`restart: {}`, or
    /// `restart: { replica: 1 }`); a case with it runs only under `--serve`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub restart: Option<RestartStep>,
    /// Deliver this many events of other, fresh keys, e.g.
    /// `others: { count: 1100 }`, each to be answered 2xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub others: Option<OthersStep>,
    /// What the answer must look like. Default for `options` and `deliver`: `status: 2xx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
}

impl StepInput {
    /// A `raw` step expecting an answer of `status`.
    pub fn raw(raw: RawStep, status: super::values::StatusPattern) -> StepInput {
        StepInput {
            raw: Some(raw),
            expect: Some(Expect {
                status: Some(super::values::StatusSpec(vec![status])),
                ..Expect::default()
            }),
            ..StepInput::default()
        }
    }

    /// A probe that the previous step's event had the effect the contract
    /// requires of it (`effects: required`).
    pub fn probe_required() -> StepInput {
        StepInput {
            probe: Some(ProbeStep {
                event: None,
                instance: None,
                effects: super::values::EffectSpec::Required,
                within: None,
            }),
            ..StepInput::default()
        }
    }
}

/// `options` takes no settings yet; `options: {}` or `options:` both work.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OptionsStep {}

/// How a `deliver` step sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMode {
    /// The full sender: readiness check, then POST with retries.
    #[default]
    Sender,
    /// One POST, no readiness check, no retry.
    Single,
}

/// Deliver an event.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeliverStep {
    /// Which event.
    pub event: EventKind,
    /// Payload dialect (default `current`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub dialect: Dialect,
    /// Events of the same kind and instance share their ids within a case run:
    /// delivering the same one twice is a duplicate. Default 0.
    #[serde(default, skip_serializing_if = "is_default")]
    pub instance: u32,
    /// Field overrides of fields the payload has: dotted path to value
    /// (strings may use templates such as `{{key}}`); a path the payload
    /// does not have is an error (see `add`).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[cfg_attr(test, schemars(with = "BTreeMap<String, Value>"))]
    pub set: serde_json::Map<String, Value>,
    /// Fields to add that the payload does not have: dotted path to value
    /// (missing objects on the way are created).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[cfg_attr(test, schemars(with = "BTreeMap<String, Value>"))]
    pub add: serde_json::Map<String, Value>,
    /// Fields to remove, by dotted path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unset: Vec<String>,
    /// `set`, `add` and `unset` as parsed once at load time, in that order
    /// (the values still carry their templates).
    #[serde(skip)]
    #[cfg_attr(test, schemars(skip))]
    pub edits: Vec<crate::event::Override>,
    /// Header overrides: a value replaces the header, a list sends it once
    /// per value, `null` removes it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Option<HeaderValues>>,
    /// Final state of the generation (or of every group member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// Generations in a group event (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_size: Option<usize>,
    /// How many group members failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_members: Option<usize>,
    /// Pad the payload to about this size (in the completion text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<ByteSize>,
    /// `sender` (readiness, retries) or `single` (one POST).
    #[serde(default, skip_serializing_if = "is_default")]
    pub mode: DeliveryMode,
    /// Send this many copies at once, released together (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copies: Option<usize>,
    /// The replica to send to (`--serve-replicas`), or `each` to spread the
    /// copies over them; replica 0 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<ReplicaChoice>,
}

impl DeliverStep {
    /// `builder` with this step's payload settings: dialect, state, group
    /// size, failed members and padding (edits are applied apart: their
    /// `{{key}}` templates are filled in when the step runs).
    pub fn shape(&self, builder: crate::event::EventBuilder) -> crate::event::EventBuilder {
        let mut builder = builder.dialect(self.dialect);
        if let Some(state) = self.state {
            builder = builder.state(state);
        }
        if let Some(n) = self.group_size {
            builder = builder.group_size(n);
        }
        if let Some(n) = self.failed_members {
            builder = builder.failed_members(n);
        }
        if let Some(size) = self.size {
            builder = builder.pad_to(size.0);
        }
        builder
    }
}

/// Send an arbitrary request to the endpoint.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// HTTP method (default `POST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The contract's headers of this event are sent (so the webhook id
    /// check passes) unless `bare`; `{{key}}` is this event's key. Default `generation.completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventKind>,
    /// As in `deliver`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub instance: u32,
    /// Send only the headers listed here.
    #[serde(default, skip_serializing_if = "is_false")]
    pub bare: bool,
    /// The idempotency key this request carries as written (a recording's):
    /// the probe reads it, and `replay --fresh-ids` replaces it, in the
    /// headers and the body, with a fresh key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A query string (without `?`) added to the URL, as the request had it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Header overrides: a value replaces the header, a list sends it once
    /// per value, `null` removes it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Option<HeaderValues>>,
    /// The body as text (templates allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body as JSON, written in YAML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_json: Option<Value>,
    /// A JSON object of this size (filler text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_size: Option<ByteSize>,
    /// The body's bytes from this file (relative to the scenario file), sent
    /// exactly as they are, except that `{{webhook_id}}` becomes the webhook
    /// id (no other template is read in it). Recordings use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_file: Option<String>,
    /// Where `body_file` is, resolved against the scenario file's folder
    /// when the scenario is loaded (read when the step runs).
    #[serde(skip)]
    #[cfg_attr(test, schemars(skip))]
    pub body_path: Option<std::path::PathBuf>,
    /// The replica to send to (`--serve-replicas`); replica 0 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<ReplicaChoice>,
}

/// One header value, or several (the header is sent once per value).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(untagged)]
pub enum HeaderValues {
    /// The header sent once, with this value.
    One(String),
    /// The header sent once per value.
    Many(Vec<String>),
}

impl HeaderValues {
    /// Adds `value` to the header `name` in `headers`: a second value
    /// makes a list (the header is sent once per value, in order).
    pub fn add(headers: &mut BTreeMap<String, Option<HeaderValues>>, name: &str, value: String) {
        match headers.get_mut(name) {
            Some(Some(HeaderValues::Many(all))) => all.push(value),
            Some(Some(HeaderValues::One(first))) => {
                let first = std::mem::take(first);
                headers.insert(
                    name.to_owned(),
                    Some(HeaderValues::Many(vec![first, value])),
                );
            }
            _ => {
                headers.insert(name.to_owned(), Some(HeaderValues::One(value)));
            }
        }
    }

    /// The values in order.
    pub fn values(&self) -> &[String] {
        match self {
            HeaderValues::One(v) => std::slice::from_ref(v),
            HeaderValues::Many(v) => v,
        }
    }
}

/// Check the effect count of an event's key through the effects probe.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProbeStep {
    /// The event whose key is probed (default: that of the previous step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventKind>,
    /// As in `deliver`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<u32>,
    /// The expected count.
    pub effects: EffectSpec,
    /// Keep asking until this long has passed, for receivers that work
    /// asynchronously (default: ask once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<DurationText>,
}

/// Expectations on an answer (on each answer, for `copies`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Status code or class: `200`, `2xx`, `not 5xx`, `any`, or a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusSpec>,
    /// Upper bound on the answer time: `< 1s`, `< timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencySpec>,
    /// Response headers that must have exactly these values (names case-insensitive).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// Deserializes a present key as `Some`, also when its value is empty (`options:`).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(Option::<T>::deserialize(d)?.unwrap_or_default()))
}
