//! What the snapshot comparison of a run came to, case by case.

use std::path::PathBuf;

/// What happened to one case's snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotStatus {
    /// Same as the stored snapshot.
    Unchanged,
    /// No snapshot existed; one was written.
    Recorded,
    /// Different from the stored snapshot (pending change written unless comparing only).
    Changed,
    /// No snapshot exists and none was created (CI, or `compare`/`new` mode).
    Missing,
    /// The stored snapshot was overwritten (`update`).
    Updated,
}

impl SnapshotStatus {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            SnapshotStatus::Unchanged => "unchanged",
            SnapshotStatus::Recorded => "recorded",
            SnapshotStatus::Changed => "changed",
            SnapshotStatus::Missing => "missing",
            SnapshotStatus::Updated => "updated",
        }
    }

    /// Whether this fails the run.
    pub fn is_failure(self) -> bool {
        matches!(self, SnapshotStatus::Changed | SnapshotStatus::Missing)
    }
}

/// One case's snapshot outcome.
#[derive(Debug, Clone)]
pub struct SnapshotCase {
    /// The case id (the file is named after it).
    pub id: String,
    /// What happened to the snapshot.
    pub status: SnapshotStatus,
    /// The `.snap` file.
    pub file: PathBuf,
    /// The pending `.snap.new` written, if any.
    pub pending: Option<PathBuf>,
    /// A unified diff (old to new) when changed.
    pub diff: Option<String>,
}

/// All snapshot outcomes of a run.
#[derive(Debug, Clone, Default)]
pub struct SnapshotResults {
    /// The folder the snapshots are kept in.
    pub dir: PathBuf,
    /// One outcome per case, in run order.
    pub cases: Vec<SnapshotCase>,
}

impl SnapshotResults {
    /// Counts by status, in a line: `27 unchanged, 1 changed, 0 recorded, 0 missing, 0 updated`.
    pub fn summary_line(&self) -> String {
        let count = |s: SnapshotStatus| self.cases.iter().filter(|c| c.status == s).count();
        format!(
            "snapshots: {} unchanged, {} changed, {} recorded, {} missing, {} updated",
            count(SnapshotStatus::Unchanged),
            count(SnapshotStatus::Changed),
            count(SnapshotStatus::Recorded),
            count(SnapshotStatus::Missing),
            count(SnapshotStatus::Updated)
        )
    }

    /// Whether any snapshot fails the run.
    pub fn failed(&self) -> bool {
        self.cases.iter().any(|c| c.status.is_failure())
    }
}
