//! What the snapshot comparison of a run came to, case by case.

use std::path::PathBuf;

/// What happened to one case's snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

    /// The failing cases, those with the same change together: one receiver
    /// change (a new answer field) shows in many snapshots, and is shown
    /// once. Each group is its first case and the others with the same
    /// change, in run order. Changes are the same when their added and
    /// removed lines are (line numbers and context may differ).
    pub fn failures_grouped(&self) -> Vec<(&SnapshotCase, Vec<&SnapshotCase>)> {
        let mut groups: Vec<(&SnapshotCase, Vec<&SnapshotCase>)> = Vec::new();
        for case in self.cases.iter().filter(|c| c.status.is_failure()) {
            let same = groups.iter_mut().find(|(first, _)| {
                first.status == case.status && changed_lines(first) == changed_lines(case)
            });
            match same {
                Some((_, others)) => others.push(case),
                None => groups.push((case, Vec::new())),
            }
        }
        groups
    }

    /// Whether any snapshot fails the run.
    pub fn failed(&self) -> bool {
        self.cases.iter().any(|c| c.status.is_failure())
    }
}

/// The added and removed lines of a case's diff (none for a missing snapshot,
/// which has no diff and is grouped with no other).
fn changed_lines(case: &SnapshotCase) -> Option<Vec<&str>> {
    let diff = case.diff.as_deref()?;
    Some(
        diff.lines()
            .filter(|l| l.starts_with('+') || l.starts_with('-'))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(id: &str, diff: &str) -> SnapshotCase {
        SnapshotCase {
            id: id.into(),
            status: SnapshotStatus::Changed,
            file: PathBuf::from(format!("{id}.snap")),
            pending: None,
            diff: Some(diff.into()),
        }
    }

    #[test]
    fn the_same_change_in_many_cases_is_one_group() {
        let results = SnapshotResults {
            dir: PathBuf::from("snapshots"),
            cases: vec![
                changed(
                    "a",
                    "@@ -3,3 +3,3 @@\n ctx a\n-  \"ok\": true\n+  \"ok\": 1\n",
                ),
                changed(
                    "b",
                    "@@ -9,3 +9,3 @@\n ctx b\n-  \"ok\": true\n+  \"ok\": 1\n",
                ),
                changed(
                    "c",
                    "@@ -3,3 +3,3 @@\n ctx a\n-  \"ok\": true\n+  \"ok\": 2\n",
                ),
                SnapshotCase {
                    status: SnapshotStatus::Missing,
                    diff: None,
                    ..changed("d", "")
                },
                SnapshotCase {
                    status: SnapshotStatus::Unchanged,
                    ..changed("e", "")
                },
            ],
        };
        let groups: Vec<(&str, Vec<&str>)> = results
            .failures_grouped()
            .into_iter()
            .map(|(first, others)| {
                (
                    first.id.as_str(),
                    others.iter().map(|c| c.id.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(groups, vec![("a", vec!["b"]), ("c", vec![]), ("d", vec![])]);
    }
}
