//! The one result model: what a run (of scenarios, fuzz cases or snapshot
//! comparisons) came to, suite -> case -> steps -> checks and exchanges.
//! `runner`, `fuzz` and `snapshot` fill it; the reports read it.

mod case;
mod diagnosis;
mod logs;
mod snapshots;

use std::time::Duration;

pub(crate) use case::count;
pub use case::{
    CaseResult, CaseStatus, Check, CheckResult, NotApplicable, SkipReason, StateProblem,
    StepRecord, Summary,
};
pub use diagnosis::{Cause, Diagnosis, Trait};
pub use logs::{LOG_SLACK, MAX_CASE_LOG};
pub use snapshots::{SnapshotCase, SnapshotResults, SnapshotStatus};

use crate::stop::StopReason;

/// A finished run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunResult {
    /// The receiver's endpoint.
    pub url: String,
    /// The run's id (`{{run_id}}`), redacted from snapshots.
    pub run_id: String,
    /// In the order the scenarios were given.
    pub cases: Vec<CaseResult>,
    /// Things the reader must know about the whole run.
    pub notes: Vec<String>,
    /// How long the run took.
    pub duration: Duration,
    /// Snapshot outcomes, when the run compared snapshots.
    pub snapshots: Option<SnapshotResults>,
    /// Why the run ended before its last case, if it did.
    pub stopped: Option<StopReason>,
}

impl RunResult {
    /// Counts of the run.
    pub fn summary(&self, strict: bool) -> Summary {
        Summary::of(&self.cases, strict)
    }

    /// What most deliveries had in common, when that points at one mistake.
    pub fn diagnosis(&self) -> Option<Diagnosis> {
        Diagnosis::of_cases(&self.cases)
    }

    /// Whether the run passed: it ran to its end (not stopped, no case
    /// left not run), no failure that fails it, no snapshot that changed,
    /// and under `strict` no case left unverified (skipped): a CI job must
    /// not pass on checks it never made. The one rule the exit code and
    /// library callers read.
    pub fn passed(&self, strict: bool) -> bool {
        let summary = self.summary(strict);
        let snapshots_failed = self.snapshots.as_ref().is_some_and(|s| s.failed());
        self.stopped.is_none()
            && summary.not_run == 0
            && summary.failed == 0
            && !snapshots_failed
            && !(strict && summary.skipped > 0)
    }
}
