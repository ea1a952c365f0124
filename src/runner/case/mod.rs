//! Running one case: build its events, perform its steps, check expectations.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

mod checks;
mod describe;
mod others;
mod raw;
mod recorded;

pub use recorded::Replay;

use checks::effect_words;
use describe::describe_action;

use super::RunContext;
use super::probe::{ProbeError, Reading};
use crate::event::{Event, EventKind, Override};
use crate::result::{
    CaseResult, Check, CheckResult, NotApplicable, SkipReason, StateProblem, StepRecord,
};
use crate::scenario::model::{
    DeliverStep, DeliveryMode, Expect, HeaderValues, ProbeStep, ReplicaChoice,
};
use crate::scenario::template::{self, Var};
use crate::scenario::values::EffectSpec;

use crate::scenario::{Action, Scenario};
use crate::sender::{Attempt, Delivery, Outcome, Sender, event_headers};
use crate::stop::StopReason;

/// Per-case state: the case's seed, template values, the last event used.
struct CaseRun<'a> {
    ctx: &'a RunContext,
    scenario: &'a Scenario,
    case_id: &'a str,
    seed: u64,
    last: Option<(EventKind, u32)>,
    keys: HashMap<(EventKind, u32), String>,
    /// Every key made, in the order first used (for snapshot redaction).
    key_order: Vec<String>,
    checks: Vec<Check>,
    steps: Vec<StepRecord>,
    step: usize,
    /// Whether the run was stopped before this case ended.
    cut: bool,
    /// Restarts made so far in this case.
    epoch: u32,
    /// For each key, where deliveries of it were answered 2xx (to tell
    /// what a restart or another replica did to its count).
    answered: HashMap<String, Vec<Handled>>,
}

/// Where a delivery of a key was answered 2xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Handled {
    /// The restarts made before it.
    epoch: u32,
    /// The replica that answered.
    replica: usize,
    /// The step that sent it.
    step: usize,
}

/// Why `scenario` cannot apply to the run `ctx` describes, if it cannot.
pub fn inapplicable(ctx: &RunContext, scenario: &Scenario) -> Option<NotApplicable> {
    let needs = scenario.case.needs();
    if needs.restart && ctx.fleet.is_none() {
        return Some(NotApplicable::NeedsServe);
    }
    (needs.replicas > ctx.urls.len()).then_some(NotApplicable::NeedsReplicas(needs.replicas))
}

/// The result of a case that cannot apply to the run.
pub fn not_applicable(scenario: &Scenario, why: NotApplicable) -> CaseResult {
    let mut result = result_of(
        scenario,
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Duration::ZERO,
        None,
    );
    result.not_applicable = Some(why);
    result
}

/// The result of a case the run was stopped before.
pub fn not_run(scenario: &Scenario, reason: &StopReason) -> CaseResult {
    result_of(
        scenario,
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Duration::ZERO,
        Some(reason.to_string()),
    )
}

/// A case's result: what the scenario says of it, and what the run found.
fn result_of(
    scenario: &Scenario,
    checks: Vec<Check>,
    steps: Vec<StepRecord>,
    keys: Vec<String>,
    duration: Duration,
    not_run: Option<String>,
) -> CaseResult {
    let case = &scenario.case;
    CaseResult {
        id: case.id.clone(),
        title: case.title.clone(),
        severity: case.severity,
        requirement: case.requirement.clone(),
        fix: case.fix.clone(),
        finding: case.finding,
        rules: case.rules.iter().map(|r| r.0).collect(),
        source: Some(scenario.source.clone()),
        checks,
        steps,
        keys,
        duration,
        not_run,
        not_applicable: None,
        started: None,
        receiver_log: Vec::new(),
    }
}

/// Runs `scenario`; `index` makes its ids distinct from every other case's.
pub async fn run(ctx: &RunContext, scenario: &Scenario, index: usize) -> CaseResult {
    let started = Instant::now();
    let case = &scenario.case;
    let mut run = CaseRun {
        ctx,
        scenario,
        case_id: &case.id,
        seed: ctx.run_seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        last: None,
        keys: HashMap::new(),
        key_order: Vec::new(),
        checks: Vec::new(),
        steps: Vec::new(),
        step: 0,
        cut: false,
        epoch: 0,
        answered: HashMap::new(),
    };
    for (i, step) in case.steps.iter().map(|s| &s.value).enumerate() {
        if ctx.stop.is_stopped() {
            run.cut = true;
            break;
        }
        run.step = i + 1;
        run.steps.push(StepRecord {
            step: i + 1,
            action: describe_action(&step.action),
            concurrent: matches!(&step.action, Action::Deliver(d) if d.copies.unwrap_or(1) > 1),
            attempts: Vec::new(),
        });
        match &step.action {
            Action::Options => {
                let attempt = ctx.sender.readiness(&ctx.url).await;
                run.check_answer(&step.expect, &attempt, "OPTIONS answer");
                run.record(attempt);
            }
            Action::Deliver(d) => run.deliver(d, &step.expect).await,
            Action::Raw(r) => run.raw(r, &step.expect).await,
            Action::Probe(p) => run.probe(p).await,
            Action::Wait(d) => {
                tokio::select! {
                    _ = tokio::time::sleep(*d) => {}
                    _ = ctx.stop.stopped() => run.cut = true,
                }
            }
            Action::Restart(r) => run.restart(r.replica).await,
            Action::Others(o) => run.others(o).await,
        }
    }
    let not_run = run
        .cut
        .then(|| ctx.stop.reason().map(|r| r.to_string()))
        .flatten();
    let mut result = result_of(
        scenario,
        run.checks,
        run.steps,
        run.key_order,
        started.elapsed(),
        not_run,
    );
    result.started = Some(started);
    result
}

impl CaseRun<'_> {
    /// Adds an attempt to the current step's record.
    fn record(&mut self, attempt: Attempt) {
        if let Some(step) = self.steps.last_mut() {
            step.attempts.push(attempt);
        }
    }

    fn push(&mut self, what: impl Into<String>, outcome: CheckResult) {
        self.checks.push(Check {
            step: self.step,
            source: self.scenario.step_source(self.step.saturating_sub(1)),
            what: what.into(),
            outcome,
            state: None,
        });
    }

    /// A failed effect check that says what is wrong with the receiver's
    /// record of handled keys.
    fn fail_state(&mut self, what: &str, expected: String, count: u64, state: StateProblem) {
        let actual = state.actual(count);
        self.push(what, CheckResult::Failed { expected, actual });
        if let Some(check) = self.checks.last_mut() {
            check.state = Some(state);
        }
    }

    fn fail(&mut self, what: &str, expected: impl Into<String>, actual: impl Into<String>) {
        self.push(
            what,
            CheckResult::Failed {
                expected: expected.into(),
                actual: actual.into(),
            },
        );
    }

    /// The builder for (kind, instance): the same ids every time within this case.
    fn builder(&self, kind: EventKind, instance: u32) -> crate::event::EventBuilder {
        let seed = self.seed ^ (u64::from(instance) << 8) ^ kind_tag(kind);
        Event::builder(kind)
            .seed(seed)
            .webhook_id(self.ctx.webhook_id.clone())
    }

    fn key_of(&mut self, kind: EventKind, instance: u32) -> String {
        if let Some(k) = self.keys.get(&(kind, instance)) {
            return k.clone();
        }
        let key = self
            .builder(kind, instance)
            .build()
            .ok()
            .and_then(|e| e.key().map(str::to_owned))
            .unwrap_or_default();
        self.keys.insert((kind, instance), key.clone());
        self.key_order.push(key.clone());
        key
    }

    fn template(&self, text: &str, key: &str) -> String {
        template::render(text, |var| {
            match var {
                Var::Key => key,
                Var::WebhookId => self.ctx.webhook_id.as_str(),
                Var::RunId => self.ctx.run_id.as_str(),
                Var::CaseId => self.case_id,
            }
            .to_owned()
        })
    }

    fn template_json(&self, value: &Value, key: &str) -> Value {
        match value {
            Value::String(s) => Value::String(self.template(s, key)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.template_json(v, key)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.template_json(v, key)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn headers(
        &self,
        base: Vec<(String, String)>,
        edits: &std::collections::BTreeMap<String, Option<HeaderValues>>,
        key: &str,
    ) -> Vec<(String, String)> {
        let mut headers = base;
        for (name, values) in edits {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
            for v in values.iter().flat_map(|v| v.values()) {
                headers.push((name.clone(), self.template(v, key)));
            }
        }
        headers
    }

    async fn deliver(&mut self, d: &DeliverStep, expect: &Expect) {
        self.last = Some((d.event, d.instance));
        let key = self.key_of(d.event, d.instance);
        let mut builder = d.shape(self.builder(d.event, d.instance));
        // Parsed at load time; only the templates in `set` and `add` values
        // are filled in now.
        for edit in &d.edits {
            builder = builder.apply(match edit {
                Override::Set { path, value } => Override::Set {
                    path: path.clone(),
                    value: self.template_json(value, &key),
                },
                Override::Add { path, value } => Override::Add {
                    path: path.clone(),
                    value: self.template_json(value, &key),
                },
                unset @ Override::Unset { .. } => unset.clone(),
            });
        }
        // Made off the async workers (up to 10 MB takes a while), and given
        // up at once when the run is stopped meanwhile.
        let built = tokio::select! {
            built = tokio::task::spawn_blocking(move || builder.build()) => built,
            _ = self.ctx.stop.stopped() => {
                self.cut = true;
                return;
            }
        };
        let event = match built {
            Ok(Ok(e)) => e,
            Ok(Err(e)) => {
                return self.fail("payload", "a payload the overrides apply to", e.to_string());
            }
            Err(e) => {
                return self.fail(
                    "payload",
                    "a payload made",
                    format!("making it failed: {e}"),
                );
            }
        };
        let headers = self.headers(event_headers(&event), &d.headers, &key);
        let body = event.body().clone();
        let ctx = self.ctx;
        let sender = match d.mode {
            DeliveryMode::Sender => ctx.delivery_sender(),
            DeliveryMode::Single => single_attempt(&ctx.sender),
        };
        let copies = d.copies.unwrap_or(1);
        let replicas = self.replicas_for(d.replica, copies);
        let urls: Vec<String> = replicas.iter().map(|r| ctx.urls[*r].clone()).collect();
        let deliveries = if copies == 1 {
            vec![
                sender
                    .deliver_observed(&urls[0], &headers, body, &mut |_| {})
                    .await,
            ]
        } else {
            self.copies(&sender, &urls, Arc::new(headers), body).await
        };
        let handled = deliveries
            .iter()
            .zip(&replicas)
            .filter(|(d, _)| d.delivered())
            .map(|(_, replica)| Handled {
                epoch: self.epoch,
                replica: *replica,
                step: self.step,
            });
        let handled: Vec<Handled> = handled.collect();
        self.answered
            .entry(key.clone())
            .or_default()
            .extend(handled);
        let total = deliveries.len();
        for (i, delivery) in deliveries.into_iter().enumerate() {
            let label = if total > 1 {
                format!("answer to copy {} of {total}", i + 1)
            } else {
                "answer".to_owned()
            };
            self.check_delivery(expect, &delivery, &label);
            for attempt in delivery.attempts {
                self.record(attempt);
            }
        }
    }

    /// Sends `copies` copies released together: readiness first (once), then
    /// every POST waits on one barrier.
    async fn copies(
        &mut self,
        sender: &Sender,
        urls: &[String],
        headers: Arc<Vec<(String, String)>>,
        body: Bytes,
    ) -> Vec<Delivery> {
        let copies = urls.len();
        if sender.config().readiness {
            let ready = sender.readiness(&urls[0]).await;
            if ready.outcome == Outcome::Cancelled {
                self.cut = true;
                return Vec::new();
            }
            let ok = ready.outcome == Outcome::Success;
            let answer = ready.answer();
            self.record(ready);
            if !ok {
                self.fail("readiness check before the copies", "2xx", answer);
                return Vec::new();
            }
        }
        let sender = sender.without_readiness();
        let barrier = Arc::new(tokio::sync::Barrier::new(copies));
        let tasks: Vec<_> = urls
            .iter()
            .map(|url| {
                let (sender, barrier, headers, body, url) = (
                    sender.clone(),
                    barrier.clone(),
                    headers.clone(),
                    body.clone(),
                    url.clone(),
                );
                tokio::spawn(async move {
                    barrier.wait().await;
                    sender
                        .deliver_observed(&url, &headers, body, &mut |_| {})
                        .await
                })
            })
            .collect();
        let mut out = Vec::with_capacity(copies);
        for task in tasks {
            match task.await {
                Ok(d) => out.push(d),
                Err(e) => self.fail(
                    "copy",
                    "every copy sent",
                    format!("a copy's task failed: {e}"),
                ),
            }
        }
        out
    }

    /// Where the copies of a delivery go (replica indexes): the chosen
    /// replica, or each in turn.
    fn replicas_for(&self, choice: Option<ReplicaChoice>, copies: usize) -> Vec<usize> {
        let last = self.ctx.urls.len().saturating_sub(1);
        (0..copies.max(1))
            .map(|copy| match choice {
                Some(ReplicaChoice::One(i)) => i.min(last),
                Some(ReplicaChoice::Each) => copy % (last + 1),
                None => 0,
            })
            .collect()
    }

    /// Restarts the served receiver (one replica, or all), then goes on.
    async fn restart(&mut self, replica: Option<usize>) {
        let Some(fleet) = &self.ctx.fleet else {
            return;
        };
        let restarted = tokio::select! {
            restarted = fleet.restart(replica) => restarted,
            _ = self.ctx.stop.stopped() => {
                self.cut = true;
                return;
            }
        };
        self.epoch += 1;
        if let Err(e) = restarted {
            self.fail(
                "restart",
                "the receiver back, answering, after its restart",
                e.to_string(),
            );
        }
    }

    /// What a restart or another replica did, when a count is wrong for a
    /// key: lost at a restart (0), done again after one, or done again by
    /// another replica (copies sent in different steps; copies sent at once
    /// may have raced in one shared store).
    fn state_problem(&self, key: &str, count: u64) -> Option<StateProblem> {
        let handled = self.answered.get(key)?;
        let first = handled.first()?;
        let before_restart = handled.iter().any(|h| h.epoch < self.epoch);
        let across_restart = handled.iter().any(|h| h.epoch != first.epoch);
        let across_replicas = handled.iter().any(|h| {
            handled
                .iter()
                .any(|o| o.step != h.step && o.replica != h.replica)
        });
        match count {
            0 if before_restart => Some(StateProblem::LostAtRestart),
            n if n > 1 && across_restart => Some(StateProblem::RedoneAfterRestart),
            n if n > 1 && across_replicas => Some(StateProblem::RedoneOnAnotherReplica),
            _ => None,
        }
    }

    async fn probe(&mut self, p: &ProbeStep) {
        let target = match (p.event, p.instance) {
            (Some(kind), instance) => Some((kind, instance.unwrap_or(0))),
            (None, Some(instance)) => self.last.map(|(kind, _)| (kind, instance)),
            (None, None) => self.last,
        };
        let Some((kind, instance)) = target else {
            return self.fail(
                "effects probe",
                "an event to probe",
                "no event was delivered before this probe; name one with `event:`",
            );
        };
        let key = self.key_of(kind, instance);
        let what = format!("effect count for {key}");
        let Some(probe) = &self.ctx.probe else {
            return self.push(
                what,
                CheckResult::Skipped {
                    reason: SkipReason::NoEffectsProbe,
                },
            );
        };
        let within = p.within.map(|w| w.0).unwrap_or(Duration::ZERO);
        let expected = p.effects.resolve(kind);
        let wanted = format!("effect count {expected}");
        // The record is per process (seen before the cases ran): no count
        // of this run can be trusted, whatever this key reads.
        if let Some(answers) = self
            .ctx
            .per_process
            .clone()
            .filter(|_| expected != EffectSpec::Exactly(0))
        {
            let state = StateProblem::PerProcess { answers };
            return self.fail_state(&what, wanted, 0, state);
        }
        match probe.expect(&key, expected, within, &self.ctx.stop).await {
            Ok((Reading::Disagree(answers), attempt)) => {
                self.record(attempt);
                let state = StateProblem::PerProcess { answers };
                self.fail_state(&what, wanted, 0, state);
            }
            Ok((Reading::Count(count), attempt)) => {
                self.record(attempt);
                if expected.matches(count) {
                    self.push(what, CheckResult::Passed);
                } else if let Some(state) = self.state_problem(&key, count) {
                    self.fail_state(&what, wanted, count, state);
                } else {
                    self.fail(&what, wanted, effect_words(count, expected));
                }
            }
            Err(ProbeError::Stopped(attempt)) => {
                if let Some(attempt) = attempt {
                    self.record(attempt);
                }
                self.cut = true;
            }
            Err(ProbeError::Failed(message, attempt)) => {
                if let Some(attempt) = attempt {
                    self.record(attempt);
                }
                if self.ctx.stop.is_stopped() {
                    self.cut = true;
                } else {
                    self.fail(&what, wanted, message);
                }
            }
        }
    }
}

/// A sender that makes exactly one POST.
fn single_attempt(sender: &Sender) -> Sender {
    let mut config = sender.config().clone();
    config.retries = 0;
    config.readiness = false;
    sender.with_config(config)
}

fn kind_tag(kind: EventKind) -> u64 {
    match kind {
        EventKind::GenerationCompleted => 0x1000,
        EventKind::AsyncEmbeddingCompleted => 0x2000,
        EventKind::SlowGroupCompleted => 0x3000,
        EventKind::WebhookTest => 0x4000,
    }
}

/// A JSON object of exactly `size` bytes (at least `{"padding":""}`).
fn filler_json(size: usize) -> Vec<u8> {
    let mut out = br#"{"padding":""#.to_vec();
    let closing = br#""}"#;
    let fill = size.saturating_sub(out.len() + closing.len());
    out.resize(out.len() + fill, b'x');
    out.extend_from_slice(closing);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filler_has_the_size_and_parses() {
        let body = filler_json(1000);
        assert_eq!(body.len(), 1000);
        assert!(serde_json::from_slice::<Value>(&body).is_ok());
    }
}
