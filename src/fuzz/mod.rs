//! Property-based fuzzing of receivers: generate inputs with proptest, send
//! them like the sender, shrink a failing one to a minimal reproducer.
//!
//! Generation is sequential and seeded (deterministic for `--seed`); sending
//! runs `jobs` requests at once over a shared connection pool. A failing
//! input is shrunk with proptest's value trees; each candidate that fails is
//! sent once more before it is accepted, so a flaky receiver cannot steer the
//! shrinking to an input that does not really fail.

pub mod reproducer;
mod result;
pub mod sequences;
pub mod strategies;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::event::IdSource;
use crate::runner::Probe;
use crate::sender::{Attempt, Outcome, Phase, Request, Sender, SenderConfig};
use crate::stop::Watchdog;
use crate::stop::{ReceiverDown, Stop, StopReason};

pub use strategies::{Category, FuzzInput, Recipe};

/// How a fuzz run goes.
#[derive(Debug, Clone, Default)]
pub struct FuzzConfig {
    /// The receiver's endpoint (replica 0's when there are several).
    pub url: String,
    /// Every replica's endpoint, when the harness serves several
    /// (`--serve-replicas`): the cases go to each in turn.
    pub replicas: Vec<String>,
    /// The effects probe's template on each replica, when there are several.
    pub replica_effects_urls: Vec<String>,
    /// The webhook identifier sent with every input (a secret).
    pub webhook_id: String,
    /// The effects probe's URL template (`{key}` marks the key), if any.
    pub effects_url: Option<String>,
    /// Number of generated cases.
    pub cases: u64,
    /// The generator's seed: the same seed generates the same cases.
    pub seed: u64,
    /// Time allowed per request.
    pub timeout: Duration,
    /// Requests in flight at once.
    pub jobs: usize,
    /// Only this kind of input; all three when `None`.
    pub only: Option<Category>,
    /// Stop after this many findings.
    pub max_findings: usize,
    /// Most shrink steps per finding.
    pub max_shrink_steps: usize,
    /// Most time spent shrinking one finding; the smallest failing input
    /// found by then is the finding.
    pub max_shrink_time: Duration,
    /// Certificate checks for `https://` targets.
    pub tls: crate::sender::TlsOptions,
    /// Fires to stop the run early; what was found so far is reported.
    pub stop: Stop,
}

/// The default of [`FuzzConfig::max_shrink_time`].
pub const DEFAULT_MAX_SHRINK_TIME: Duration = Duration::from_secs(60);

/// A minimal failing input and why it fails.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Finding {
    /// The number of the generated case that first failed (0-based).
    pub case: u64,
    /// The minimal failing input.
    pub input: FuzzInput,
    /// Why it is a finding, in words.
    pub reason: String,
    /// The last request made with the minimal input.
    pub attempt: Option<Attempt>,
    /// Shrink steps that were accepted.
    pub shrink_steps: usize,
    /// The failing input before shrinking: its size in bytes.
    pub original_size: usize,
    /// Whether shrinking ended at its time limit (or the run was stopped)
    /// rather than at a minimal input.
    pub shrink_cut: bool,
    /// Whether the failing input failed again when sent once more (with a
    /// fresh key). When it did not, the receiver fails now and then: the
    /// input is kept as it first failed, not shrunk.
    pub reproduced: bool,
}

/// Progress, reported while running.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Cases sent and judged so far.
    pub done: u64,
    /// Findings so far.
    pub findings: usize,
    /// Cases per second so far, shrinking excluded (0 while shrinking).
    pub per_second: f64,
    /// Whether a finding is being shrunk now.
    pub shrinking: bool,
}

/// The result of a fuzz run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FuzzResult {
    /// The generator's seed, to replay the run.
    pub seed: u64,
    /// Cases sent and judged.
    pub cases_run: u64,
    /// The findings, shrunk, in case order.
    pub findings: Vec<Finding>,
    /// Wall time of the whole run, shrinking included.
    pub duration: Duration,
    /// Time spent shrinking findings (not counted in the case rate).
    pub shrinking: Duration,
    /// Cases per category, for the summary.
    pub per_category: Vec<(Category, u64)>,
    /// Why the run ended early, if it did.
    pub stopped: Option<StopReason>,
}

impl FuzzResult {
    /// Generated cases per second (shrinking excluded).
    pub fn cases_per_second(&self) -> f64 {
        let generating = self.duration.saturating_sub(self.shrinking);
        self.cases_run as f64 / generating.as_secs_f64().max(1e-9)
    }
}

/// Why an input is a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// In words.
    pub reason: String,
    /// Whether it comes from where the receiver keeps its record of handled
    /// keys (per process), not from the input: such a finding is not shrunk.
    pub whatever_the_input: bool,
}

impl Problem {
    fn of_input(reason: String) -> Problem {
        Problem {
            reason,
            whatever_the_input: false,
        }
    }
}

/// Sends inputs and judges the answers.
#[derive(Debug, Clone)]
pub struct Checker {
    /// Every replica's endpoint (one when the receiver is not replicated).
    urls: Vec<String>,
    /// The next replica to send to.
    next: Arc<std::sync::atomic::AtomicUsize>,
    sender: Sender,
    title_case: Sender,
    probe: Option<Probe>,
    /// What the probe answered for one key when the state preflight found
    /// the record of handled keys kept per process: every valid case is
    /// then judged by that, whatever its input (as `run` does).
    per_process: Option<Vec<u64>>,
}

impl Checker {
    /// A checker for `config`'s target.
    pub fn new(config: &FuzzConfig) -> Result<Checker, String> {
        let sender_config = SenderConfig {
            timeout: config.timeout,
            retries: 0,
            backoff: Duration::ZERO,
            readiness: false,
            title_case_headers: false,
            tls: config.tls.clone(),
        };
        // The watchdog only answers "does the receiver answer a plain
        // delivery?" here: findings decide when to ask.
        let watchdog = Arc::new(Watchdog::new(
            &config.url,
            &config.webhook_id,
            u32::MAX,
            config.stop.clone(),
        ));
        let sender = Sender::new(sender_config.clone())
            .map_err(|e| e.to_string())?
            .with_cancel(config.stop.token().clone())
            .with_observer(watchdog);
        let title_case = Sender::new(SenderConfig {
            title_case_headers: true,
            ..sender_config
        })
        .map_err(|e| e.to_string())?
        .with_cancel(config.stop.token().clone());
        let probe = Probe::of_run(
            config.effects_url.as_deref(),
            &config.replica_effects_urls,
            &sender,
        )?;
        let urls = match config.replicas.len() {
            0 | 1 => vec![config.url.clone()],
            _ => config.replicas.clone(),
        };
        Ok(Checker {
            urls,
            next: Default::default(),
            sender,
            title_case,
            probe,
            per_process: None,
        })
    }

    /// Reads a few fresh keys by the probe's rule before the cases (see
    /// `runner::state_preflight`): answers that disagree mean the
    /// record is kept per process.
    pub async fn state_preflight(&mut self, url: &str, webhook_id: &str, ids: &mut IdSource) {
        if let Some(probe) = &self.probe {
            self.per_process =
                crate::runner::state_preflight(&self.sender, probe, url, webhook_id, ids).await;
        }
    }

    /// Whether inputs go to several replicas in turn.
    pub fn replicated(&self) -> bool {
        self.urls.len() > 1
    }

    /// Sends `input` once (to the next replica in turn); `Err` says why it
    /// is a finding.
    pub async fn check(&self, input: &FuzzInput) -> (Result<(), Problem>, Attempt) {
        let sender = if input.title_case_headers {
            &self.title_case
        } else {
            &self.sender
        };
        let turn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let attempt = sender
            .send(Request {
                phase: Phase::Delivery,
                method: "POST",
                url: &self.urls[turn % self.urls.len()],
                headers: &input.headers,
                body: input.body.clone().into(),
            })
            .await;
        let verdict = self.judge(input, &attempt).await;
        (verdict, attempt)
    }

    async fn judge(&self, input: &FuzzInput, attempt: &Attempt) -> Result<(), Problem> {
        let answer = attempt.answer();
        let input_problem = |reason: String| Err(Problem::of_input(reason));
        let must_succeed = input.category == Category::Valid || input.title_case_headers;
        match attempt.outcome {
            Outcome::Success => {}
            // Stopped while waiting: says nothing about the receiver.
            Outcome::Cancelled => return Ok(()),
            Outcome::Timeout | Outcome::ConnectionError => {
                return input_problem(format!("no usable answer: {answer}"));
            }
            Outcome::ServerError => {
                return input_problem(format!(
                    "answered {answer}: a 5xx makes the sender retry in vain"
                ));
            }
            _ if must_succeed => {
                return input_problem(format!("a valid payload was answered {answer}, not 2xx"));
            }
            _ => return Ok(()),
        }
        if let (Some(probe), Some(key), Category::Valid, Some(event)) =
            (&self.probe, &input.key, input.category, input.event)
        {
            if let Some(answers) = &self.per_process {
                let state = crate::result::StateProblem::PerProcess {
                    answers: answers.clone(),
                };
                return Err(Problem {
                    reason: state.actual(0),
                    whatever_the_input: true,
                });
            }
            let rule = event.effect_rule();
            match probe.read(key).await {
                Ok((crate::runner::probe::Reading::Count(n), _)) if rule.allows(n) => {}
                Ok((crate::runner::probe::Reading::Count(n), _)) => {
                    return input_problem(format!(
                        "answered 2xx but the effect count for {key} is {n}, not {rule}"
                    ));
                }
                Ok((crate::runner::probe::Reading::Disagree(answers), _)) => {
                    let state = crate::result::StateProblem::PerProcess { answers };
                    return Err(Problem {
                        reason: state.actual(0),
                        whatever_the_input: true,
                    });
                }
                Err(crate::runner::probe::ProbeError::Stopped(_)) => {}
                Err(crate::runner::probe::ProbeError::Failed(e, _)) => return input_problem(e),
            }
        }
        Ok(())
    }

    /// Whether the receiver answers a plain valid delivery at all.
    pub async fn receiver_answers(&self) -> bool {
        self.sender.receiver_answers().await
    }
}

/// What an attempt came to when it got no answer at all (a timeout or a
/// connection failure).
fn unanswered(attempt: &Attempt) -> Option<crate::sender::Failure> {
    match attempt.outcome {
        Outcome::Timeout | Outcome::ConnectionError => attempt.failure.clone(),
        _ => None,
    }
}

/// A seeded proptest runner: the same seed generates the same cases.
pub fn seeded_runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(
            &(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes(),
        );
    }
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Runs the fuzzer; `progress` is called now and then from this task.
pub async fn run(
    config: &FuzzConfig,
    mut progress: impl FnMut(Progress),
) -> Result<FuzzResult, String> {
    let started = Instant::now();
    let mut checker = Checker::new(config)?;
    let strategy = strategies::recipe(config.only);
    let mut runner = seeded_runner(config.seed);
    let mut ids = IdSource::unique();
    checker
        .state_preflight(&config.url, &config.webhook_id, &mut ids)
        .await;
    let run_tag = ids.id("", 6);
    let key_for = |case: u64, step: usize| format!("fuzz_{run_tag}_{case}_{step}");
    let mut trees: HashMap<u64, Box<dyn ValueTree<Value = Recipe>>> = HashMap::new();
    let mut in_flight = tokio::task::JoinSet::new();
    let mut findings = Vec::new();
    let mut per_category: HashMap<Category, u64> = HashMap::new();
    let mut next = 0u64;
    let mut done = 0u64;
    let mut failed: Vec<(u64, (Problem, Option<crate::sender::Failure>))> = Vec::new();
    let mut last_report = Instant::now();
    let mut shrinking = Duration::ZERO;
    let jobs = config.jobs.max(1);
    loop {
        while in_flight.len() < jobs && next < config.cases && failed.is_empty() {
            let tree = strategy
                .new_tree(&mut runner)
                .map_err(|e| format!("could not generate a case: {e}"))?;
            let input = tree.current().input(&key_for(next, 0), &config.webhook_id);
            *per_category.entry(input.category).or_default() += 1;
            trees.insert(next, tree);
            let checker = checker.clone();
            let index = next;
            in_flight.spawn(async move {
                let (verdict, attempt) = checker.check(&input).await;
                (
                    index,
                    verdict.map_err(|reason| (reason, unanswered(&attempt))),
                )
            });
            next += 1;
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        let (index, verdict) = joined.map_err(|e| format!("a fuzz task failed: {e}"))?;
        done += 1;
        match verdict {
            Ok(()) => {
                trees.remove(&index);
            }
            Err(failure) => failed.push((index, failure)),
        }
        if config.stop.is_stopped() {
            in_flight.abort_all();
            while in_flight.join_next().await.is_some() {}
            break;
        }
        if last_report.elapsed() > Duration::from_millis(200) {
            last_report = Instant::now();
            progress(Progress {
                done,
                findings: findings.len(),
                per_second: done as f64
                    / started
                        .elapsed()
                        .saturating_sub(shrinking)
                        .as_secs_f64()
                        .max(1e-9),
                shrinking: false,
            });
        }
        // Every case that failed is shrunk in turn, in case order, so the
        // findings do not depend on timing or on how many ran at once.
        failed.sort_by_key(|(i, _)| *i);
        let mut enough = false;
        while in_flight.is_empty() && !failed.is_empty() && !enough && !config.stop.is_stopped() {
            let (index, (problem, no_answer)) = failed.remove(0);
            let answered = no_answer.is_none();
            // No answer at all: first, is the receiver answering anything?
            // If not, there is nothing to shrink: it stopped answering.
            if let Some(failure) = no_answer
                && !checker.receiver_answers().await
            {
                stop_as_down(&config.stop, failure, config.timeout);
                break;
            }
            if let Some(tree) = trees.remove(&index) {
                progress(Progress {
                    done,
                    findings: findings.len(),
                    per_second: 0.0,
                    shrinking: true,
                });
                let shrink_started = Instant::now();
                let finding = if problem.whatever_the_input {
                    // Nothing of the input is to blame: not shrunk.
                    unshrunk(config, tree.as_ref(), index, problem.reason, &key_for)
                } else {
                    shrink(
                        &checker,
                        config,
                        tree,
                        index,
                        problem.reason,
                        answered,
                        &key_for,
                    )
                    .await
                };
                shrinking += shrink_started.elapsed();
                findings.push(finding);
            }
            enough = findings.len() >= config.max_findings.max(1);
        }
        if enough || config.stop.is_stopped() {
            break;
        }
        if next >= config.cases && in_flight.is_empty() && failed.is_empty() {
            break;
        }
    }
    let mut per_category: Vec<(Category, u64)> = per_category.into_iter().collect();
    per_category.sort_by_key(|(c, _)| c.name());
    Ok(FuzzResult {
        seed: config.seed,
        cases_run: done,
        findings,
        duration: started.elapsed(),
        shrinking,
        per_category,
        stopped: config.stop.reason().cloned(),
    })
}

/// Stops the run: the receiver answers neither the input nor a plain delivery.
fn stop_as_down(stop: &Stop, last: crate::sender::Failure, timeout: Duration) {
    stop.stop(StopReason::ReceiverDown(ReceiverDown::Unanswered {
        requests: 1,
        last,
        confirmed_for: crate::stop::confirm_window(timeout),
    }));
}

/// A finding as it first failed, not shrunk (its input is not to blame).
fn unshrunk(
    config: &FuzzConfig,
    tree: &dyn ValueTree<Value = Recipe>,
    case: u64,
    reason: String,
    key_for: &impl Fn(u64, usize) -> String,
) -> Finding {
    let input = tree.current().input(&key_for(case, 0), &config.webhook_id);
    Finding {
        case,
        original_size: input.body.len(),
        input,
        reason,
        attempt: None,
        shrink_steps: 0,
        shrink_cut: false,
        reproduced: true,
    }
}

/// Shrinks a failing case: first the input is sent once more, and when it
/// passes then (a receiver that fails now and then) it is kept as it failed,
/// not shrunk: shrinking a failure that does not repeat would steer towards
/// an input that does not fail. `answered`: whether the failure had an
/// answer (one that had none is not sent again: it would cost another full
/// timeout). Then proptest proposes simpler recipes; a candidate is
/// accepted only if it fails twice in a row. A candidate that gets no answer
/// is not sent a second time (that would cost another full timeout): it is
/// accepted when a plain delivery right after it is answered, and when that
/// gets no answer either the receiver has stopped answering and the run
/// stops. Shrinking ends after `max_shrink_steps` or `max_shrink_time`.
async fn shrink(
    checker: &Checker,
    config: &FuzzConfig,
    mut tree: Box<dyn ValueTree<Value = Recipe>>,
    case: u64,
    reason: String,
    answered: bool,
    key_for: &impl Fn(u64, usize) -> String,
) -> Finding {
    let original = tree.current().input(&key_for(case, 0), &config.webhook_id);
    let original_size = original.body.len();
    let mut step_key = 1;
    // Sent to the next replica, a pass could be another replica's: only
    // one receiver process is asked again.
    if answered && !checker.replicated() {
        let again = tree
            .current()
            .input(&key_for(case, step_key), &config.webhook_id);
        step_key += 1;
        let passed = checker.check(&again).await.0.is_ok();
        // A pass while the run was being stopped is no pass.
        if passed && !config.stop.is_stopped() {
            return Finding {
                case,
                input: original,
                reason,
                attempt: None,
                shrink_steps: 0,
                original_size,
                shrink_cut: false,
                reproduced: false,
            };
        }
    }
    let mut best = (original, reason, None);
    let mut accepted = 0;
    let mut steps = 0;
    let until = Instant::now() + config.max_shrink_time;
    let mut cut = false;
    if tree.simplify() {
        while steps < config.max_shrink_steps {
            if Instant::now() >= until || config.stop.is_stopped() {
                cut = true;
                break;
            }
            steps += 1;
            let candidate = tree
                .current()
                .input(&key_for(case, step_key), &config.webhook_id);
            step_key += 1;
            let (first, attempt) = checker.check(&candidate).await;
            let no_answer = unanswered(&attempt);
            let confirmed = match (first, no_answer) {
                (Err(problem), Some(failure)) => {
                    if checker.receiver_answers().await {
                        Some((problem.reason, attempt))
                    } else {
                        stop_as_down(&config.stop, failure, config.timeout);
                        cut = true;
                        break;
                    }
                }
                (Err(problem), None) => {
                    let recheck = tree
                        .current()
                        .input(&key_for(case, step_key), &config.webhook_id);
                    step_key += 1;
                    match checker.check(&recheck).await {
                        (Err(_), _) => Some((problem.reason, attempt)),
                        (Ok(()), _) => None,
                    }
                }
                (Ok(()), _) => None,
            };
            let more = match confirmed {
                Some((reason, attempt)) => {
                    best = (candidate, reason, Some(attempt));
                    accepted += 1;
                    tree.simplify()
                }
                None => tree.complicate(),
            };
            if !more {
                break;
            }
        }
    }
    let (input, reason, attempt) = best;
    Finding {
        case,
        input,
        reason,
        attempt,
        shrink_steps: accepted,
        original_size,
        shrink_cut: cut,
        reproduced: true,
    }
}
