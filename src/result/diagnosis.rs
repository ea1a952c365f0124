//! One mistake, one diagnosis: when most deliveries of a run got the same
//! telling answer (401, 404, a TLS failure…), the cases failed for one reason,
//! and the passes among them say little. The reports lead with it.

use std::fmt;

use super::CaseResult;
use crate::contract::{self, Dialect, EventKind};
use crate::sender::{Attempt, Failure, Phase, TlsReason};

/// A run's deliveries at least this many, and more than half of them with
/// the same cause, before the run is diagnosed.
const MIN_DELIVERIES: usize = 3;

/// What most deliveries had in common.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnosis {
    /// The answer they got.
    pub cause: Cause,
    /// How many deliveries got it.
    pub count: usize,
    /// How many deliveries the run made (retries not counted).
    pub deliveries: usize,
}

/// An answer that points at one mistake of the set-up rather than of the
/// receiver's logic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// 401 or 403 (the status): the webhook id sent is not the receiver's.
    Rejected(u16),
    /// 404: nothing answers POST at that path.
    NotFound,
    /// 405: the path does not take POST.
    MethodNotAllowed,
    /// 413: the receiver's body limit is below ordinary payloads.
    TooLarge,
    /// The TLS handshake failed.
    Tls(TlsReason),
    /// No connection could be made or kept.
    Connection,
    /// The effects probe answered every question with this status (or,
    /// `None`, not at all): the effect counts were never read.
    ProbeFailed(Option<u16>),
    /// The effects probe's answers for one key disagreed (these): several
    /// processes answer, each with its own record of handled keys.
    PerProcess(Vec<u64>),
    /// The receiver's record of handled keys lives in process memory: lost
    /// or redone across a restart (`restart`), done again by another
    /// replica (`replicas`).
    InMemory {
        /// Seen across a restart.
        restart: bool,
        /// Seen across replicas.
        replicas: bool,
    },
    /// The deliveries answered `status` in failing cases are exactly those
    /// with a trait that the deliveries answered 2xx lack (the receiver
    /// reads the webhook id from the body, refuses the legacy dialect, one
    /// event, large bodies).
    Pattern {
        /// The answer they got.
        status: u16,
        /// What they had in common, and the accepted ones had not.
        trait_: Trait,
        /// How many deliveries were answered 2xx (none of them with it).
        accepted: usize,
    },
}

/// Something a delivery's request has that a receiver may act on by
/// mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trait {
    /// The event it carries (`X-Inference-Event`).
    Event(EventKind),
    /// Its payload's dialect.
    Dialect(Dialect),
    /// A body over 1 MiB (a common default body limit).
    LargeBody,
    /// A top-level field of the body, present or absent.
    Field {
        /// The field's name.
        name: String,
        /// Whether the deliveries with the trait have it.
        present: bool,
    },
}

/// A body larger than this is over many frameworks' default body limit
/// (Go's `MaxBytesReader` examples, Fastify, FastAPI behind many proxies).
pub const LARGE_BODY: usize = 1 << 20;

impl Trait {
    /// The deliveries with the trait, in words: `deliveries without
    /// webhookId in the body`.
    fn deliveries(&self) -> String {
        match self {
            Trait::Event(kind) => format!("{kind} deliveries"),
            Trait::Dialect(dialect) => format!("deliveries in the {dialect} dialect"),
            Trait::LargeBody => "deliveries with a body over 1 MiB".to_owned(),
            Trait::Field {
                name,
                present: true,
            } => format!("deliveries with {name} in the body"),
            Trait::Field {
                name,
                present: false,
            } => format!("deliveries without {name} in the body"),
        }
    }

    /// What the accepted deliveries had instead, in words.
    fn instead(&self) -> String {
        match self {
            Trait::Event(_) => "were of other events".to_owned(),
            Trait::Dialect(Dialect::Legacy) => "were in the current dialect".to_owned(),
            Trait::Dialect(Dialect::Current) => "were in the legacy dialect".to_owned(),
            Trait::LargeBody => "had smaller bodies".to_owned(),
            Trait::Field { present: true, .. } => "had no such field".to_owned(),
            Trait::Field { present: false, .. } => "had it".to_owned(),
        }
    }

    /// The likely mistake and its fix, in flag-free words.
    pub fn fix(&self, status: u16) -> String {
        match self {
            Trait::Field {
                name,
                present: false,
            } if name == "webhookId" && matches!(status, 401 | 403) => {
                "the receiver reads the id from the body, which group events, webhook.test and the legacy dialect do not carry there; read X-Inference-Webhook-ID".to_owned()
            }
            Trait::Field {
                name,
                present: false,
            } => format!(
                "the receiver requires {name} in the body, which not every payload has; read only what the contract says each event carries"
            ),
            Trait::Field {
                name,
                present: true,
            } => format!("the receiver refuses payloads that carry {name}; accept unknown and optional fields"),
            Trait::Dialect(Dialect::Legacy) => {
                "the receiver does not accept the legacy dialect; read the key at the top level (generation_id, group_id) too".to_owned()
            }
            Trait::Dialect(Dialect::Current) => {
                "the receiver accepts only the legacy dialect; read data.id and groupId too".to_owned()
            }
            Trait::Event(kind) => {
                format!("the receiver does not handle {kind}; answer every event of the contract 2xx")
            }
            Trait::LargeBody => format!(
                "the receiver's body limit is below the contract's {} MB; raise it",
                contract::MAX_PAYLOAD / 1_000_000
            ),
        }
    }

    /// Which of two traits that fit the same deliveries to name: the
    /// event, the dialect, the size, then a field.
    fn precedence(&self) -> u8 {
        match self {
            Trait::Event(_) => 0,
            Trait::Dialect(_) => 1,
            Trait::LargeBody => 2,
            Trait::Field { present: false, .. } => 3,
            Trait::Field { present: true, .. } => 4,
        }
    }
}

/// What can be told of one delivery's request from what its attempt kept
/// (the event header, the body's length and its top-level fields).
struct Seen {
    /// The event, the dialect, a large body, and the fields present.
    traits: Vec<Trait>,
    /// Whether the body was a JSON object, so that a field not among
    /// `traits` is known to be absent.
    whole: bool,
}

impl Seen {
    fn of(attempt: &Attempt) -> Seen {
        let mut traits = Vec::new();
        let event = attempt
            .request_headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(contract::EVENT_HEADER))
            .and_then(|(_, value)| EventKind::from_wire(value));
        if let Some(kind) = event {
            traits.push(Trait::Event(kind));
        }
        if attempt.request_body_len > LARGE_BODY {
            traits.push(Trait::LargeBody);
        }
        let fields = attempt.request_fields.as_deref().unwrap_or_default();
        let whole = attempt.request_fields.is_some();
        if let Some(dialect) = contract::dialect_of_fields(fields, whole) {
            traits.push(Trait::Dialect(dialect));
        }
        traits.extend(fields.iter().map(|name| Trait::Field {
            name: name.clone(),
            present: true,
        }));
        Seen { traits, whole }
    }

    /// Whether the request is known to have `t`.
    fn has(&self, t: &Trait) -> bool {
        match t {
            Trait::Field {
                name,
                present: false,
            } => {
                self.whole
                    && !self
                        .traits
                        .iter()
                        .any(|x| matches!(x, Trait::Field { name: n, present: true } if n == name))
            }
            _ => self.traits.contains(t),
        }
    }
}

impl Cause {
    /// A stable name for machine-readable reports.
    pub fn name(&self) -> &'static str {
        match self {
            Cause::Rejected(_) => "webhook-id-rejected",
            Cause::NotFound => "wrong-path",
            Cause::MethodNotAllowed => "post-not-allowed",
            Cause::TooLarge => "body-limit-too-low",
            Cause::Tls(_) => "tls",
            Cause::Connection => "connection",
            Cause::Pattern { .. } => "pattern",
            Cause::ProbeFailed(_) => "effects-probe-failed",
            Cause::PerProcess(_) => "state-per-process",
            Cause::InMemory { .. } => "state-in-process-memory",
        }
    }

    /// The status code behind the cause, when there is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Cause::Rejected(status) => Some(*status),
            Cause::NotFound => Some(404),
            Cause::MethodNotAllowed => Some(405),
            Cause::TooLarge => Some(413),
            Cause::Pattern { status, .. } => Some(*status),
            Cause::ProbeFailed(status) => *status,
            Cause::Tls(_) | Cause::Connection | Cause::PerProcess(_) | Cause::InMemory { .. } => {
                None
            }
        }
    }

    /// The cause of one delivery's answer, if it is a telling one.
    fn of(attempt: &Attempt) -> Option<Cause> {
        match (attempt.status, &attempt.failure) {
            (Some(status @ (401 | 403)), _) => Some(Cause::Rejected(status)),
            (Some(404), _) => Some(Cause::NotFound),
            (Some(405), _) => Some(Cause::MethodNotAllowed),
            (Some(413), _) => Some(Cause::TooLarge),
            (Some(_), _) | (None, None) => None,
            (None, Some(Failure::Tls(reason))) => Some(Cause::Tls(reason.clone())),
            (None, Some(Failure::Cancelled | Failure::InvalidRequest(_))) => None,
            (None, Some(Failure::Timeout(_))) => None,
            (None, Some(_)) => Some(Cause::Connection),
        }
    }
}

/// A pattern needs at least this many deliveries answered the same, and
/// at least [`MIN_ACCEPTED`] answered 2xx to set them against.
const MIN_PATTERN: usize = 3;
/// See [`MIN_PATTERN`].
const MIN_ACCEPTED: usize = 2;

/// A delivery (the first attempt of a POST) and whether its step failed.
struct Delivered<'a> {
    attempt: &'a Attempt,
    failed_step: bool,
}

/// The first attempts of the deliveries among `attempts` (in order, a
/// step's or a run's): a POST's retries, the attempts after a backoff, are
/// not deliveries of their own, and a request the stop cut off says
/// nothing.
fn first_attempts<'a>(attempts: impl IntoIterator<Item = &'a Attempt>) -> Vec<&'a Attempt> {
    let mut retrying = false;
    attempts
        .into_iter()
        .filter(|a| a.phase == Phase::Delivery && a.failure != Some(Failure::Cancelled))
        .filter(|a| {
            let is_retry = retrying;
            retrying = a.retry_in.is_some();
            !is_retry
        })
        .collect()
}

/// The deliveries of `cases`, with whether a check of their step failed.
fn deliveries(cases: &[CaseResult]) -> Vec<Delivered<'_>> {
    cases
        .iter()
        .flat_map(|case| {
            case.steps.iter().flat_map(move |step| {
                let failed_step = step_failed(case, step.step);
                first_attempts(&step.attempts)
                    .into_iter()
                    .map(move |attempt| Delivered {
                        attempt,
                        failed_step,
                    })
            })
        })
        .collect()
}

/// Whether a check of step `step` of `case` failed.
fn step_failed(case: &CaseResult, step: usize) -> bool {
    case.checks
        .iter()
        .any(|c| c.step == step && matches!(c.outcome, super::CheckResult::Failed { .. }))
}

impl Diagnosis {
    /// The diagnosis of a run's cases: a pattern (the deliveries refused
    /// with one status in failing cases share a trait the accepted ones
    /// lack), else the answer most deliveries got when it is a telling one.
    pub fn of_cases(cases: &[CaseResult]) -> Option<Diagnosis> {
        let delivered = deliveries(cases);
        // Of the diagnoses that hold, the one that explains the most failing
        // cases; on a tie, the first: a pattern (more precise than the
        // answer most deliveries got, whose advice it may contradict), the
        // set-up, where the record of handled keys lives, the probe.
        let candidates = [
            Diagnosis::pattern(&delivered),
            Diagnosis::most(delivered.iter().map(|d| d.attempt).collect()),
            Diagnosis::state(cases),
            Diagnosis::probe(cases),
        ];
        let explained = |d: &Diagnosis| cases.iter().filter(|c| d.explains(c)).count();
        let mut best: Option<(Diagnosis, usize)> = None;
        for candidate in candidates.into_iter().flatten() {
            let n = explained(&candidate);
            if best.as_ref().is_none_or(|(_, most)| n > *most) {
                best = Some((candidate, n));
            }
        }
        best.map(|(d, _)| d)
    }

    /// The effect checks found the record of handled keys per process (the
    /// probe's answers disagreed), or lost or redone across a restart or a
    /// replica.
    fn state(cases: &[CaseResult]) -> Option<Diagnosis> {
        let problems: Vec<&super::StateProblem> = cases
            .iter()
            .flat_map(|c| &c.checks)
            .filter(|c| matches!(c.outcome, super::CheckResult::Failed { .. }))
            .filter_map(|c| c.state.as_ref())
            .collect();
        let per_process = problems.iter().find_map(|p| match p {
            super::StateProblem::PerProcess { answers } => Some(answers.clone()),
            _ => None,
        });
        let cause = match per_process {
            Some(answers) => Cause::PerProcess(answers),
            None if problems.is_empty() => return None,
            None => Cause::InMemory {
                restart: problems.iter().any(|p| p.at_restart()),
                replicas: problems.iter().any(|p| !p.at_restart()),
            },
        };
        let affected = cases
            .iter()
            .filter(|c| c.checks.iter().any(|k| k.state.is_some()))
            .count();
        Some(Diagnosis {
            cause,
            count: affected,
            deliveries: cases.len(),
        })
    }

    /// The effects probe answered the same failure to every question.
    fn probe(cases: &[CaseResult]) -> Option<Diagnosis> {
        let asked: Vec<&Attempt> = cases
            .iter()
            .flat_map(|c| c.attempts())
            .filter(|a| a.phase == Phase::Probe && a.failure != Some(Failure::Cancelled))
            .collect();
        let first = asked.first()?;
        let answer = first.status;
        let same = asked.iter().all(|a| a.status == answer);
        let failing = answer.is_none_or(|s| !(200..300).contains(&s));
        (asked.len() >= MIN_DELIVERIES && same && failing).then_some(Diagnosis {
            cause: Cause::ProbeFailed(answer),
            count: asked.len(),
            deliveries: asked.len(),
        })
    }

    /// Whether this diagnosis explains why `case` failed: a failing step of
    /// it got the answer the diagnosis names.
    pub fn explains(&self, case: &CaseResult) -> bool {
        if matches!(self.cause, Cause::PerProcess(_) | Cause::InMemory { .. }) {
            return case.checks.iter().any(|c| {
                c.state.is_some() && matches!(c.outcome, super::CheckResult::Failed { .. })
            });
        }
        case.steps
            .iter()
            .filter(|step| step_failed(case, step.step))
            .flat_map(|step| &step.attempts)
            .any(|attempt| match &self.cause {
                Cause::ProbeFailed(status) => {
                    attempt.phase == Phase::Probe && attempt.status == *status
                }
                Cause::Pattern { status, trait_, .. } => {
                    attempt.phase == Phase::Delivery
                        && attempt.status == Some(*status)
                        && Seen::of(attempt).has(trait_)
                }
                cause => {
                    attempt.phase == Phase::Delivery && Cause::of(attempt).as_ref() == Some(cause)
                }
            })
    }

    /// The trait that tells the deliveries refused with one status (in
    /// failing steps) from those answered 2xx, when one does.
    fn pattern(delivered: &[Delivered<'_>]) -> Option<Diagnosis> {
        let seen: Vec<Seen> = delivered.iter().map(|d| Seen::of(d.attempt)).collect();
        // Every field met, for the traits "without FIELD".
        let mut fields: Vec<&str> = seen
            .iter()
            .flat_map(|s| &s.traits)
            .filter_map(|t| match t {
                Trait::Field {
                    name,
                    present: true,
                } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        fields.sort_unstable();
        fields.dedup();
        let has = |i: usize, t: &Trait| seen[i].has(t);
        let accepted: Vec<usize> = (0..delivered.len())
            .filter(|i| {
                delivered[*i]
                    .attempt
                    .status
                    .is_some_and(|s| (200..300).contains(&s))
            })
            .collect();
        if accepted.len() < MIN_ACCEPTED {
            return None;
        }
        let mut statuses: Vec<u16> = delivered
            .iter()
            .filter(|d| d.failed_step)
            .filter_map(|d| d.attempt.status)
            .filter(|s| *s >= 400)
            .collect();
        statuses.sort_unstable();
        statuses.dedup();
        let mut best: Option<(Diagnosis, (usize, usize))> = None;
        for status in statuses {
            let refused: Vec<usize> = (0..delivered.len())
                .filter(|i| {
                    delivered[*i].failed_step && delivered[*i].attempt.status == Some(status)
                })
                .collect();
            if refused.len() < MIN_PATTERN {
                continue;
            }
            let mut candidates: Vec<Trait> = seen[refused[0]].traits.clone();
            candidates.extend(fields.iter().map(|name| Trait::Field {
                name: (*name).to_owned(),
                present: false,
            }));
            for candidate in candidates {
                if !refused.iter().all(|i| has(*i, &candidate))
                    || accepted.iter().any(|i| has(*i, &candidate))
                {
                    continue;
                }
                let with = (0..delivered.len()).filter(|i| has(*i, &candidate)).count();
                // Those answered the same in passing steps too (a status
                // the step did not check): said in the count.
                let answered = (0..delivered.len())
                    .filter(|i| has(*i, &candidate) && delivered[*i].attempt.status == Some(status))
                    .count();
                // The most refused; then the trait that fits them closest.
                let rank = (refused.len(), usize::MAX - (with - refused.len()));
                let better = best.as_ref().is_none_or(|(b, r)| {
                    rank > *r
                        || (rank == *r
                            && matches!(&b.cause, Cause::Pattern { trait_, .. }
                                if candidate.precedence() < trait_.precedence()))
                });
                if better {
                    best = Some((
                        Diagnosis {
                            cause: Cause::Pattern {
                                status,
                                trait_: candidate,
                                accepted: accepted.len(),
                            },
                            count: answered,
                            deliveries: with,
                        },
                        rank,
                    ));
                }
            }
        }
        best.map(|(d, _)| d)
    }

    /// The diagnosis of a run's requests, if most deliveries (first attempts
    /// of a POST, retries not counted) got the same telling answer.
    pub fn of<'a>(attempts: impl IntoIterator<Item = &'a Attempt>) -> Option<Diagnosis> {
        Diagnosis::most(first_attempts(attempts))
    }

    /// The answer most of `delivered` got, when it is a telling one.
    fn most(delivered: Vec<&Attempt>) -> Option<Diagnosis> {
        let deliveries = delivered.len();
        let mut counts: Vec<(Cause, usize)> = Vec::new();
        for attempt in delivered {
            if let Some(cause) = Cause::of(attempt) {
                match counts.iter_mut().find(|(c, _)| *c == cause) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((cause, 1)),
                }
            }
        }
        let (cause, count) = counts.into_iter().max_by_key(|(_, n)| *n)?;
        (deliveries >= MIN_DELIVERIES && count * 2 > deliveries).then_some(Diagnosis {
            cause,
            count,
            deliveries,
        })
    }
}

impl fmt::Display for Diagnosis {
    /// What happened, without the fix (which names flags: the command line adds it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Diagnosis {
            cause,
            count,
            deliveries,
        } = self;
        let most = format!("{count} of {deliveries} deliveries");
        match cause {
            Cause::Rejected(status) => write!(
                f,
                "{most} were answered {status}: the receiver does not accept the webhook id it was sent"
            ),
            Cause::NotFound => write!(
                f,
                "{most} were answered 404: nothing answers POST at this URL's path"
            ),
            Cause::MethodNotAllowed => write!(
                f,
                "{most} were answered 405: this URL's path does not take POST"
            ),
            Cause::TooLarge => write!(
                f,
                "{most} were answered 413: the receiver's body limit is below the size of ordinary payloads"
            ),
            Cause::Tls(reason) => write!(f, "{most} failed the TLS handshake: {reason}"),
            Cause::Connection => write!(f, "{most} got no connection, or lost it"),
            Cause::PerProcess(answers) => write!(
                f,
                "{}: in {} the effect counts depend on which process answers",
                super::StateProblem::PerProcess {
                    answers: answers.clone()
                }
                .actual(0),
                super::count(*count, "case")
            ),
            Cause::InMemory { restart, replicas } => {
                let (lost, redone) = match (restart, replicas) {
                    (true, true) => (
                        "does not survive a restart and is not shared between replicas",
                        "after a deploy or a crash, or that reaches another replica,",
                    ),
                    (true, false) => ("does not survive a restart", "after a deploy or a crash"),
                    _ => (
                        "is not shared between replicas",
                        "that reaches another replica",
                    ),
                };
                write!(
                    f,
                    "the receiver's record of handled keys {lost} ({}): it lives in process memory, and every retry {redone} is done again",
                    super::count(*count, "case")
                )
            }
            Cause::ProbeFailed(Some(status)) => write!(
                f,
                "the effects probe answered {status} every time ({count} questions): no effect count was read"
            ),
            Cause::ProbeFailed(None) => write!(
                f,
                "the effects probe did not answer any of {count} questions: no effect count was read"
            ),
            Cause::Pattern {
                status,
                trait_,
                accepted,
            } => write!(
                f,
                "{count} of {deliveries} {} were answered {status}, and all {accepted} deliveries answered 2xx {}",
                trait_.deliveries(),
                trait_.instead()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sender::Outcome;

    fn post(status: Option<u16>, failure: Option<Failure>) -> Attempt {
        Attempt {
            phase: Phase::Delivery,
            method: "POST".into(),
            url: "http://127.0.0.1:1/webhook".into(),
            status,
            headers: Vec::new(),
            body: bytes::Bytes::new(),
            body_truncated: false,
            latency: std::time::Duration::ZERO,
            outcome: status.map_or(Outcome::ConnectionError, Outcome::of_status),
            failure,
            retry_in: None,
            request_headers: Vec::new(),
            request_body: bytes::Bytes::new(),
            request_body_len: 0,
            request_fields: None,
        }
    }

    /// A POST of `event` with these top-level fields, answered `status`.
    fn sent(event: EventKind, fields: &[&str], status: u16) -> Attempt {
        let mut a = post(Some(status), None);
        a.request_headers = vec![(contract::EVENT_HEADER.into(), event.name().into())];
        a.request_fields = Some(fields.iter().map(|f| f.to_string()).collect());
        a
    }

    /// A one-step case whose step failed when `failed`.
    fn case(id: &str, attempts: Vec<Attempt>, failed: bool) -> CaseResult {
        use super::super::{Check, CheckResult, StepRecord};
        CaseResult {
            id: id.into(),
            title: String::new(),
            severity: crate::scenario::Severity::Must,
            requirement: None,
            fix: None,
            finding: false,
            rules: Vec::new(),
            source: None,
            checks: vec![Check {
                state: None,
                step: 1,
                source: None,
                what: "status".into(),
                outcome: if failed {
                    CheckResult::Failed {
                        expected: "2xx".into(),
                        actual: "401".into(),
                    }
                } else {
                    CheckResult::Passed
                },
            }],
            steps: vec![StepRecord {
                step: 1,
                action: String::new(),
                concurrent: false,
                attempts,
            }],
            keys: Vec::new(),
            duration: std::time::Duration::ZERO,
            not_run: None,
            not_applicable: None,
            started: None,
            receiver_log: Vec::new(),
        }
    }

    const CURRENT: &[&str] = &["event", "timestamp", "webhookId", "data"];
    const GROUP: &[&str] = &["event", "timestamp", "groupId", "data"];
    const LEGACY: &[&str] = &["event", "timestamp", "webhook_id", "generation_id", "data"];

    #[test]
    fn refusals_that_share_a_trait_the_accepted_lack_are_a_pattern() {
        use EventKind::*;
        let mut cases = vec![
            case("a", vec![sent(GenerationCompleted, CURRENT, 200)], false),
            case(
                "b",
                vec![sent(AsyncEmbeddingCompleted, CURRENT, 200)],
                false,
            ),
            case("c", vec![sent(SlowGroupCompleted, GROUP, 401)], true),
            case("d", vec![sent(SlowGroupCompleted, GROUP, 401)], true),
            case("e", vec![sent(GenerationCompleted, LEGACY, 401)], true),
        ];
        let d = Diagnosis::of_cases(&cases).expect("a pattern");
        assert_eq!(
            d.cause,
            Cause::Pattern {
                status: 401,
                trait_: Trait::Field {
                    name: "webhookId".into(),
                    present: false
                },
                accepted: 2
            }
        );
        assert_eq!((d.count, d.deliveries), (3, 3));
        assert!(d.explains(&cases[2]) && !d.explains(&cases[0]));
        // One accepted delivery without webhookId: no longer a pattern of
        // that field (nor of anything else these deliveries share).
        cases.push(case("f", vec![sent(SlowGroupCompleted, GROUP, 200)], false));
        assert_eq!(Diagnosis::of_cases(&cases), None);
    }

    #[test]
    fn too_few_refusals_or_acceptances_are_no_pattern() {
        use EventKind::*;
        let two_refused = [
            case("a", vec![sent(GenerationCompleted, CURRENT, 200)], false),
            case("b", vec![sent(GenerationCompleted, CURRENT, 200)], false),
            case("c", vec![sent(SlowGroupCompleted, GROUP, 400)], true),
            case("d", vec![sent(SlowGroupCompleted, GROUP, 400)], true),
        ];
        assert_eq!(Diagnosis::of_cases(&two_refused), None);
        // Refusals in steps that expected them (a wrong id refused) are not
        // failures to explain.
        let expected = [
            case("a", vec![sent(GenerationCompleted, CURRENT, 200)], false),
            case("b", vec![sent(GenerationCompleted, CURRENT, 200)], false),
            case("c", vec![sent(SlowGroupCompleted, GROUP, 401)], false),
            case("d", vec![sent(SlowGroupCompleted, GROUP, 401)], false),
            case("e", vec![sent(SlowGroupCompleted, GROUP, 401)], false),
        ];
        let d = Diagnosis::of_cases(&expected);
        assert!(
            !matches!(
                d,
                Some(Diagnosis {
                    cause: Cause::Pattern { .. },
                    ..
                })
            ),
            "{d:?}"
        );
    }

    #[test]
    fn a_legacy_dialect_refused_is_named_as_such() {
        use EventKind::*;
        let legacy_group = &["event", "timestamp", "group_id", "data"][..];
        let cases = [
            case("a", vec![sent(GenerationCompleted, CURRENT, 200)], false),
            case("b", vec![sent(SlowGroupCompleted, GROUP, 200)], false),
            case("c", vec![sent(GenerationCompleted, LEGACY, 400)], true),
            case("d", vec![sent(AsyncEmbeddingCompleted, LEGACY, 400)], true),
            case("e", vec![sent(SlowGroupCompleted, legacy_group, 400)], true),
        ];
        let d = Diagnosis::of_cases(&cases).expect("a pattern");
        assert!(
            matches!(
                d.cause,
                Cause::Pattern {
                    status: 400,
                    trait_: Trait::Dialect(Dialect::Legacy),
                    ..
                }
            ),
            "{d:?}"
        );
        assert!(
            d.to_string()
                .starts_with("3 of 3 deliveries in the legacy dialect were answered 400"),
            "{d}"
        );
    }

    #[test]
    fn a_probe_that_fails_every_time_is_one_diagnosis() {
        let mut asked = post(Some(404), None);
        asked.phase = Phase::Probe;
        let mut cases: Vec<CaseResult> = (0..3)
            .map(|i| {
                case(
                    &i.to_string(),
                    vec![post(Some(200), None), asked.clone()],
                    true,
                )
            })
            .collect();
        let d = Diagnosis::of_cases(&cases).expect("diagnosed");
        assert_eq!(d.cause, Cause::ProbeFailed(Some(404)));
        assert!(d.explains(&cases[0]));
        assert_eq!(
            d.to_string(),
            "the effects probe answered 404 every time (3 questions): no effect count was read"
        );
        // One answer: not every time.
        let mut answered = asked.clone();
        answered.status = Some(200);
        cases[0].steps[0].attempts[1] = answered;
        assert_eq!(Diagnosis::of_cases(&cases), None);
    }

    #[test]
    fn most_deliveries_answered_401_is_one_diagnosis() {
        let mut attempts: Vec<Attempt> = (0..14).map(|_| post(Some(401), None)).collect();
        attempts.push(post(Some(200), None));
        attempts.push(post(Some(400), None));
        let d = Diagnosis::of(&attempts).expect("diagnosed");
        assert_eq!(d.cause, Cause::Rejected(401));
        assert_eq!((d.count, d.deliveries), (14, 16));
        assert!(
            d.to_string()
                .starts_with("14 of 16 deliveries were answered 401")
        );
    }

    #[test]
    fn a_minority_or_a_handful_is_no_diagnosis() {
        // A correct receiver answers 401 to the one wrong-id case, 413 to the large one.
        let mut attempts: Vec<Attempt> = (0..10).map(|_| post(Some(200), None)).collect();
        attempts.push(post(Some(401), None));
        attempts.push(post(Some(413), None));
        assert_eq!(Diagnosis::of(&attempts), None);
        let two = [post(Some(404), None), post(Some(404), None)];
        assert_eq!(Diagnosis::of(&two), None);
        // Half is not most.
        let half = [
            post(Some(404), None),
            post(Some(404), None),
            post(Some(200), None),
            post(Some(200), None),
        ];
        assert_eq!(Diagnosis::of(&half), None);
    }

    #[test]
    fn retries_and_other_phases_are_not_deliveries() {
        let mut first = post(None, Some(Failure::Refused));
        first.retry_in = Some(std::time::Duration::from_secs(1));
        let retry = post(None, Some(Failure::Refused));
        let mut probe = post(Some(404), None);
        probe.phase = Phase::Probe;
        let attempts = [
            first,
            retry,
            probe.clone(),
            probe,
            post(Some(200), None),
            post(Some(200), None),
        ];
        assert_eq!(Diagnosis::of(&attempts), None);
    }

    #[test]
    fn tls_and_connection_failures_are_diagnosed_timeouts_are_not() {
        let tls: Vec<Attempt> = (0..3)
            .map(|_| post(None, Some(Failure::Tls(TlsReason::Expired))))
            .collect();
        assert_eq!(
            Diagnosis::of(&tls).map(|d| d.cause),
            Some(Cause::Tls(TlsReason::Expired))
        );
        let reset: Vec<Attempt> = (0..3).map(|_| post(None, Some(Failure::Reset))).collect();
        assert_eq!(
            Diagnosis::of(&reset).map(|d| d.cause),
            Some(Cause::Connection)
        );
        let slow: Vec<Attempt> = (0..3)
            .map(|_| {
                post(
                    None,
                    Some(Failure::Timeout(std::time::Duration::from_secs(30))),
                )
            })
            .collect();
        assert_eq!(Diagnosis::of(&slow), None);
    }
}
