//! Running scenarios against a receiver: preflight, cases (in parallel with
//! `jobs`), expectations and verdicts. Reports are made from [`RunResult`].

pub(crate) mod case;
pub mod probe;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use crate::event::IdSource;
use crate::scenario::Scenario;
use crate::sender::{Failure, Outcome, Sender, SenderConfig};
use crate::stop::Stop;
use crate::stop::Watchdog;

pub use crate::result::{
    CaseResult, CaseStatus, Check, CheckResult, RunResult, StepRecord, Summary,
};
pub use case::Replay;
pub use probe::{Probe, ProbeError, Reading};

/// What to run against and how.
#[derive(Debug, Clone, Default)]
pub struct RunConfig {
    /// The receiver's endpoint.
    pub url: String,
    /// The webhook id the receiver expects.
    pub webhook_id: String,
    /// The effects probe template (`...{key}...`), if the receiver has one.
    pub effects_url: Option<String>,
    /// Timeout, retries and backoff of deliveries.
    pub sender: SenderConfig,
    /// Cases run at once (at least 1).
    pub jobs: usize,
    /// Unanswered requests in a row after which the receiver is checked
    /// for being down (see [`Watchdog`]).
    pub down_after: u32,
    /// Fires to stop the run early; cases not run are reported as such.
    pub stop: Stop,
    /// How recorded deliveries are sent again (`replay`'s options).
    pub replay: Replay,
    /// The receiver the harness started (`--serve`), which restart steps
    /// restart; its replicas' URLs, when several, are where `replica:`
    /// steps send (`url` is replica 0's).
    pub fleet: Option<Arc<crate::serve::Fleet>>,
    /// The effects probe's template on each replica, when there are
    /// several (`effects_url` is replica 0's).
    pub replica_effects_urls: Vec<String>,
}

/// Shared by every case of a run.
#[derive(Debug)]
pub(crate) struct RunContext {
    /// The receiver's endpoint.
    pub(crate) url: String,
    /// The webhook id the receiver expects (a secret).
    pub(crate) webhook_id: String,
    /// Distinct per run: goes into `{{run_id}}` and seeds every case's ids.
    pub(crate) run_id: String,
    /// Random per run; each case's ids are seeded from it and the case's index.
    pub(crate) run_seed: u64,
    /// The sender deliveries go through (with the readiness check).
    pub(crate) sender: Sender,
    /// The effects probe, if the receiver has one.
    pub(crate) probe: Option<Probe>,
    /// False when the preflight readiness check failed: deliveries then skip it.
    pub(crate) readiness_ok: bool,
    /// Fires to stop the run early.
    pub(crate) stop: Stop,
    /// How recorded deliveries are sent again.
    pub(crate) replay: Replay,
    /// Where `replica:` steps send: each replica's URL (`url` first).
    pub(crate) urls: Vec<String>,
    /// The receiver the harness started, for restart steps.
    pub(crate) fleet: Option<Arc<crate::serve::Fleet>>,
    /// Set when the probe's answers for one key disagreed before the cases
    /// ran: the receiver keeps its record per process, and no effect count
    /// of this run can be trusted (see [`probe`]).
    pub(crate) per_process: Option<Vec<u64>>,
}

impl RunContext {
    /// The sender for `deliver` steps in sender mode.
    pub fn delivery_sender(&self) -> Sender {
        if self.readiness_ok {
            self.sender.clone()
        } else {
            self.sender.without_readiness()
        }
    }
}

/// Why a run could not take place.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The target refused the connection, no connection could be made, or
    /// its TLS handshake failed ([`Failure::stops_a_run`]).
    #[error("cannot reach {url}: {reason}")]
    Unreachable {
        /// The endpoint that could not be reached.
        url: String,
        /// What failed, e.g. connection refused.
        reason: Failure,
    },
    /// Bad configuration.
    #[error("{0}")]
    Setup(String),
    /// The run checks every key's effect count, and no effects probe was
    /// given (`RunConfig::effects_url`).
    #[error("no effects probe: this run checks each key's effect count")]
    NoProbe,
}

/// What the cases of a run share, made before the first: the sender (with
/// its watchdog), the probe, the readiness preflight (a refusal that stops
/// a run is an error) and, when `reads_effects`, the state preflight; with
/// the notes the report gives about them.
pub(crate) async fn prepare(
    config: &RunConfig,
    reads_effects: bool,
) -> Result<(Arc<RunContext>, Vec<String>), RunError> {
    let stop = config.stop.clone();
    let watchdog = Watchdog::new(
        &config.url,
        &config.webhook_id,
        config.down_after,
        stop.clone(),
    );
    let sender = Sender::new(config.sender.clone())
        .map_err(|e| RunError::Setup(e.to_string()))?
        .with_cancel(stop.token().clone())
        .with_observer(Arc::new(watchdog));
    let probe = Probe::of_run(
        config.effects_url.as_deref(),
        &config.replica_effects_urls,
        &sender,
    )
    .map_err(RunError::Setup)?;
    let mut notes = Vec::new();
    let preflight = sender.readiness(&config.url).await;
    if let Some(reason) = preflight.failure.clone().filter(Failure::stops_a_run) {
        return Err(RunError::Unreachable {
            url: config.url.clone(),
            reason,
        });
    }
    let readiness_ok = preflight.outcome == Outcome::Success;
    if !readiness_ok {
        notes.push(format!(
            "The readiness check (OPTIONS) failed: {}. The real sender would deliver nothing; the other cases ran without the check so that they still tell you something.",
            preflight.answer()
        ));
    }
    if probe.is_none() && reads_effects {
        notes.push(
            "No effects probe was given: the cases that read effect counts are skipped, not passed.".into(),
        );
    }
    let mut ids = IdSource::unique();
    let per_process = match (&probe, reads_effects) {
        (Some(probe), true) => {
            state_preflight(&sender, probe, &config.url, &config.webhook_id, &mut ids).await
        }
        _ => None,
    };
    let urls = match &config.fleet {
        Some(fleet) if fleet.urls().len() > 1 => fleet.urls().to_vec(),
        _ => vec![config.url.clone()],
    };
    let ctx = Arc::new(RunContext {
        url: config.url.clone(),
        webhook_id: config.webhook_id.clone(),
        run_id: ids.id("run_", 12),
        run_seed: ids.next_u64(),
        sender,
        probe,
        readiness_ok,
        stop: stop.clone(),
        replay: config.replay,
        urls,
        fleet: config.fleet.clone(),
        per_process,
    });
    Ok((ctx, notes))
}

/// Runs `scenarios` against `config.url`; `on_case` sees each result in
/// scenario order as soon as it and every earlier case are done.
pub async fn run(
    config: &RunConfig,
    scenarios: Vec<Scenario>,
    mut on_case: impl FnMut(&mut CaseResult),
) -> Result<RunResult, RunError> {
    let started = Instant::now();
    let stop = config.stop.clone();
    let reads_effects = scenarios.iter().any(|s| {
        s.case
            .steps
            .iter()
            .any(|step| matches!(step.value.action, crate::scenario::Action::Probe(_)))
    });
    let (ctx, notes) = prepare(config, reads_effects).await?;
    let total = scenarios.len();
    let scenarios = Arc::new(scenarios);
    let jobs = config.jobs.max(1);
    let permits = Arc::new(tokio::sync::Semaphore::new(jobs));
    // Cases start in scenario order (a permit is taken before each one is
    // spawned), so with `jobs: 1` they run one after the other, in order.
    // A case that restarts the receiver takes every permit: it runs alone,
    // since the others would meet the receiver down.
    let (results, mut finished) = tokio::sync::mpsc::unbounded_channel();
    let feeder = {
        let (ctx, scenarios) = (ctx.clone(), scenarios.clone());
        tokio::spawn(async move {
            let mut tasks = tokio::task::JoinSet::new();
            for index in 0..total {
                let alone = scenarios[index].case.needs().restart;
                let taken = if alone { jobs } else { 1 };
                let Ok(permit) = permits
                    .clone()
                    .acquire_many_owned(u32::try_from(taken).unwrap_or(u32::MAX))
                    .await
                else {
                    break;
                };
                let (ctx, scenarios, results) = (ctx.clone(), scenarios.clone(), results.clone());
                tasks.spawn(async move {
                    let scenario = &scenarios[index];
                    let result = match (ctx.stop.reason(), case::inapplicable(&ctx, scenario)) {
                        (Some(reason), _) => case::not_run(scenario, reason),
                        (None, Some(why)) => case::not_applicable(scenario, why),
                        (None, None) => case::run(&ctx, scenario, index).await,
                    };
                    drop(permit);
                    let _ = results.send((index, result));
                });
            }
            drop(results);
            let mut failed = None;
            while let Some(joined) = tasks.join_next().await {
                if let Err(e) = joined {
                    failed.get_or_insert(e.to_string());
                }
            }
            failed
        })
    };
    let mut done: BTreeMap<usize, CaseResult> = BTreeMap::new();
    let mut ordered = Vec::with_capacity(total);
    while let Some((index, result)) = finished.recv().await {
        done.insert(index, result);
        while let Some(mut next) = done.remove(&ordered.len()) {
            on_case(&mut next);
            ordered.push(next);
        }
    }
    match feeder.await {
        Ok(None) if ordered.len() == total => {}
        Ok(Some(e)) => return Err(RunError::Setup(format!("a case task failed: {e}"))),
        Ok(None) => return Err(RunError::Setup("a case did not report its result".into())),
        Err(e) => return Err(RunError::Setup(format!("the case scheduler failed: {e}"))),
    }
    Ok(RunResult {
        url: config.url.clone(),
        run_id: ctx.run_id.clone(),
        cases: ordered,
        notes,
        duration: started.elapsed(),
        snapshots: None,
        stopped: stop.reason().cloned(),
    })
}

/// How many deliveries the state preflight makes (distinct keys).
const STATE_PREFLIGHT_KEYS: usize = 4;

/// Before the cases, when they read effect counts: a few deliveries of
/// fresh keys, each read by the probe's rule. Answers that disagree for one
/// key (the answers are returned) mean several processes answer, each with
/// its own record: every effect count of the run would then depend on which
/// process a request reached, so every case that reads one is judged by this
/// instead, the same way on every run. A delivery that is not answered 2xx,
/// or a probe that fails, says nothing here (the cases say it).
pub(crate) async fn state_preflight(
    sender: &Sender,
    probe: &Probe,
    url: &str,
    webhook_id: &str,
    ids: &mut IdSource,
) -> Option<Vec<u64>> {
    let mut once = sender.config().clone();
    once.retries = 0;
    once.readiness = false;
    let single = sender.with_config(once);
    for _ in 0..STATE_PREFLIGHT_KEYS {
        let seed = ids.next_u64();
        let event = crate::event::Event::builder(crate::event::EventKind::GenerationCompleted)
            .seed(seed)
            .webhook_id(webhook_id)
            .build()
            .ok()?;
        let key = event.key()?.to_owned();
        let delivery = single.deliver(url, &event).await;
        if !delivery.delivered() {
            return None;
        }
        if let Ok((probe::Reading::Disagree(answers), _)) = probe.read_thoroughly(&key).await {
            return Some(answers);
        }
    }
    None
}

/// Whether a case id matches `--filter`: a substring, or a glob with `*`.
pub fn matches_filter(id: &str, pattern: &str) -> bool {
    if !pattern.contains('*') {
        return id.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = id;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        assert!(matches_filter(
            "idempotency.concurrent-copies",
            "concurrent"
        ));
        assert!(matches_filter(
            "idempotency.concurrent-copies",
            "idempotency.*"
        ));
        assert!(matches_filter("idempotency.concurrent-copies", "*copies"));
        assert!(matches_filter("idempotency.concurrent-copies", "i*c*s"));
        assert!(!matches_filter("events.unicode", "idempotency.*"));
        assert!(!matches_filter("events.unicode", "*copies"));
    }
}
