//! What a case came to: checks, their outcomes, and the case verdict.

use std::time::Duration;

use crate::scenario::{Severity, Source};
use crate::sender::Attempt;

/// The outcome of one expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckResult {
    /// The expectation held.
    Passed,
    /// The expectation did not hold.
    Failed {
        /// What was expected, e.g. `2xx`.
        expected: String,
        /// What came back instead.
        actual: String,
    },
    /// Not checked, and why (never counted as passed).
    Skipped {
        /// Why the check could not be made.
        reason: SkipReason,
    },
}

/// Why a check could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The run has no effects probe, so an effect count cannot be read.
    NoEffectsProbe,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::NoEffectsProbe => f.write_str(
                "no effects probe was given, so the effect count could not be read (see docs/effects-probe.md)",
            ),
        }
    }
}

/// One expectation checked in a step.
#[derive(Debug, Clone)]
pub struct Check {
    /// 1-based step number.
    pub step: usize,
    /// Where the step was written (none for generated cases).
    pub source: Option<Source>,
    /// What was checked, e.g. `status of POST`.
    pub what: String,
    /// Whether it passed, failed or was skipped.
    pub outcome: CheckResult,
    /// What a failed effect check says about the receiver's record of
    /// handled keys, when it says more than a count.
    pub state: Option<StateProblem>,
}

/// What an effect check found wrong with where a receiver keeps its record
/// of handled keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateProblem {
    /// The probe's answers for one key disagree (in the order asked):
    /// several processes answer, each with its own record, so a retry or
    /// duplicate that reaches another process is done again.
    PerProcess {
        /// The answers.
        answers: Vec<u64>,
    },
    /// A key handled before a restart reads 0 after it: the record lived in
    /// the process's memory.
    LostAtRestart,
    /// The same delivery after a restart was done again.
    RedoneAfterRestart,
    /// A delivery one replica handled was done again by another.
    RedoneOnAnotherReplica,
}

impl StateProblem {
    /// What happened, in words (the `actual` of the check).
    pub fn actual(&self, count: u64) -> String {
        match self {
            StateProblem::PerProcess { answers } => {
                let answers: Vec<String> = answers.iter().map(u64::to_string).collect();
                format!(
                    "the effects probe answered {} for one key: the processes answering (workers behind one URL, or replicas) each keep their own record of handled keys, so a retry or duplicate that reaches another process is done again",
                    answers.join(", ")
                )
            }
            StateProblem::LostAtRestart => format!(
                "effect count {count} after the restart: the receiver's record of handled work did not survive a restart (it lives in process memory)"
            ),
            StateProblem::RedoneAfterRestart => format!(
                "effect count {count}: the same delivery after a restart was done again: the receiver's record of handled keys did not survive the restart"
            ),
            StateProblem::RedoneOnAnotherReplica => format!(
                "effect count {count}: a delivery one replica had handled was done again by another: the replicas do not share their record of handled keys"
            ),
        }
    }

    /// Whether it is about a restart (not about replicas or processes).
    pub fn at_restart(&self) -> bool {
        matches!(
            self,
            StateProblem::LostAtRestart | StateProblem::RedoneAfterRestart
        )
    }

    /// The fix, in flag-free words (one for every problem: they are one
    /// mistake).
    pub const FIX: &'static str = "keep handled keys in a store every process and every restart shares, claimed with a unique key before the work (a database table with a unique constraint, Redis SET NX), not in process memory";
}

/// A case's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaseStatus {
    /// Every check passed.
    Passed,
    /// A check failed.
    Failed,
    /// A check could not be made, and none failed.
    Skipped,
    /// Not run, or cut short before it could say anything: the run was
    /// stopped (interrupted, out of time, receiver down). Never a pass.
    NotRun,
    /// Not run because it cannot apply to this run: it restarts the
    /// receiver, which only one the harness started can be, or sends to
    /// more replicas than there are. Never a pass, never a failure (not
    /// even under `--strict`): the run's hints say what makes it apply.
    NotApplicable,
}

/// Why a case does not apply to a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotApplicable {
    /// It restarts the receiver: only a receiver the harness started can be.
    NeedsServe,
    /// It sends to replica `n - 1`: the run has fewer than `n` replicas.
    NeedsReplicas(usize),
}

impl std::fmt::Display for NotApplicable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotApplicable::NeedsServe => f.write_str(
                "durability not checked: the case restarts the receiver, which only a receiver the harness started can be",
            ),
            NotApplicable::NeedsReplicas(n) => write!(
                f,
                "replicas not checked: the case needs {n} replicas of the receiver, each with its own port, sharing its store"
            ),
        }
    }
}

impl CaseStatus {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            CaseStatus::Passed => "passed",
            CaseStatus::Failed => "failed",
            CaseStatus::Skipped => "skipped",
            CaseStatus::NotRun => "not run",
            CaseStatus::NotApplicable => "not applicable",
        }
    }
}

/// Everything known about one case after it ran.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CaseResult {
    /// The case id, e.g. `idempotency.concurrent-copies`.
    pub id: String,
    /// One line saying what the case checks.
    pub title: String,
    /// How much a failure matters: `must`, `should` or `info`.
    pub severity: Severity,
    /// The requirement the case checks, if written; shown when it fails.
    pub requirement: Option<String>,
    /// The fix in one line, if the case gives one.
    pub fix: Option<String>,
    /// A fuzz reproducer: reported as fixed / still failing.
    pub finding: bool,
    /// The rules of the sender's contract the case verifies.
    pub rules: Vec<&'static crate::contract::Rule>,
    /// Where the case was written (none for generated cases, e.g. fuzz's).
    pub source: Option<Source>,
    /// Every expectation checked, in order.
    pub checks: Vec<Check>,
    /// What each step did and every request it made (copies in completion order).
    pub steps: Vec<StepRecord>,
    /// The idempotency keys made for this case, in order of first use.
    pub keys: Vec<String>,
    /// How long the case took.
    pub duration: Duration,
    /// Why the case did not run to its end, when the run was stopped.
    pub not_run: Option<String>,
    /// Why the case was not run at all: it cannot apply to this run.
    pub not_applicable: Option<NotApplicable>,
    /// When it started (for the receiver's log lines written meanwhile).
    pub started: Option<std::time::Instant>,
    /// What the receiver wrote while the case ran, when the harness started
    /// it (`--serve`); kept for failing cases.
    pub receiver_log: Vec<String>,
}

/// One step of a case as it ran.
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// 1-based step number.
    pub step: usize,
    /// What the step did, in a few words.
    pub action: String,
    /// Whether its requests were sent at once (their order is not meaningful).
    pub concurrent: bool,
    /// Every request the step made.
    pub attempts: Vec<Attempt>,
}

impl CaseResult {
    /// A generated case (fuzz's, a sequence run's): `must`, no source, no
    /// steps or checks yet, verifying `rules`.
    pub fn generated(id: String, title: String, rules: &[&str], duration: Duration) -> CaseResult {
        CaseResult {
            id,
            title,
            severity: crate::scenario::Severity::Must,
            requirement: None,
            fix: None,
            finding: false,
            rules: crate::contract::rules(rules),
            source: None,
            checks: Vec::new(),
            steps: Vec::new(),
            keys: Vec::new(),
            duration,
            not_run: None,
            not_applicable: None,
            started: None,
            receiver_log: Vec::new(),
        }
    }

    /// Every request made, in order.
    pub fn attempts(&self) -> impl Iterator<Item = &Attempt> {
        self.steps.iter().flat_map(|s| s.attempts.iter())
    }

    /// Failed if any check failed; else not run if the run was stopped
    /// before it ended; else skipped if any was skipped; else passed.
    pub fn status(&self) -> CaseStatus {
        if self.not_applicable.is_some() {
            return CaseStatus::NotApplicable;
        }
        if self
            .checks
            .iter()
            .any(|c| matches!(c.outcome, CheckResult::Failed { .. }))
        {
            CaseStatus::Failed
        } else if self.not_run.is_some() {
            CaseStatus::NotRun
        } else if self
            .checks
            .iter()
            .any(|c| matches!(c.outcome, CheckResult::Skipped { .. }))
        {
            CaseStatus::Skipped
        } else {
            CaseStatus::Passed
        }
    }

    /// Whether this case fails the run: a failure of a `must` case (and of
    /// a `should` case under `--strict`), and under `--strict` a case that
    /// could not be verified (skipped).
    pub fn fails_run(&self, strict: bool) -> bool {
        match self.status() {
            CaseStatus::Failed => match self.severity {
                Severity::Must => true,
                Severity::Should => strict,
                Severity::Info => false,
            },
            CaseStatus::Skipped => strict,
            CaseStatus::Passed | CaseStatus::NotRun | CaseStatus::NotApplicable => false,
        }
    }

    /// The first failed check, if any.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks
            .iter()
            .find(|c| matches!(c.outcome, CheckResult::Failed { .. }))
    }

    /// One-paragraph explanation: the failure (expected / actual) or the skip reason.
    pub fn message(&self) -> String {
        if let Some(check) = self.first_failure()
            && let CheckResult::Failed { expected, actual } = &check.outcome
        {
            let mut text = String::new();
            if let Some(req) = &self.requirement {
                text.push_str(req.trim());
                text.push('\n');
            }
            text.push_str(&format!(
                "Expected: {expected} (step {}, {})\n  Actual: {actual}",
                check.step, check.what
            ));
            return text;
        }
        if let Some(Check {
            outcome: CheckResult::Skipped { reason },
            ..
        }) = self
            .checks
            .iter()
            .find(|c| matches!(c.outcome, CheckResult::Skipped { .. }))
        {
            return format!("skipped: {reason}");
        }
        if let Some(reason) = &self.not_run {
            return format!("not run: {reason}");
        }
        if let Some(why) = &self.not_applicable {
            return format!("not applicable: {why}");
        }
        String::new()
    }
}

/// Counts over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Cases that passed.
    pub passed: usize,
    /// Failures that fail the run (`must`, and `should` under `--strict`).
    pub failed: usize,
    /// Failures that do not (`should` without `--strict`, `info`).
    pub warnings: usize,
    /// Cases with a check that could not be made.
    pub skipped: usize,
    /// Cases the run was stopped before (or during): never passed.
    pub not_run: usize,
    /// Cases that cannot apply to the run (no `--serve`, too few replicas).
    pub not_applicable: usize,
    /// All cases.
    pub total: usize,
}

impl Summary {
    /// Counts `cases` with `strict` deciding what a `should` failure is.
    pub fn of(cases: &[CaseResult], strict: bool) -> Summary {
        let mut s = Summary {
            total: cases.len(),
            ..Summary::default()
        };
        for c in cases {
            match c.status() {
                CaseStatus::Passed => s.passed += 1,
                CaseStatus::Skipped => s.skipped += 1,
                CaseStatus::NotRun => s.not_run += 1,
                CaseStatus::NotApplicable => s.not_applicable += 1,
                CaseStatus::Failed if c.fails_run(strict) => s.failed += 1,
                CaseStatus::Failed => s.warnings += 1,
            }
        }
        s
    }

    /// `N passed, N failed, N warnings, N skipped` (and `, N not run` when any).
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} passed, {} failed, {}, {} skipped",
            self.passed,
            self.failed,
            count(self.warnings, "warning"),
            self.skipped
        );
        if self.not_run > 0 {
            line.push_str(&format!(", {} not run", self.not_run));
        }
        if self.not_applicable > 0 {
            line.push_str(&format!(", {} not applicable", self.not_applicable));
        }
        line
    }
}

/// `1 warning`, `2 warnings`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
