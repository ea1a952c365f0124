//! Snapshot files in insta's `.snap` format: compare, record, and pending
//! `.snap.new` changes that `cargo insta review` or `webhook-harness snapshots
//! review` accept or reject.

use std::path::{Path, PathBuf};

use crate::result::{SnapshotCase as Outcome, SnapshotStatus as Status};

use similar::{ChangeTag, TextDiff};

/// How a run treats snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotMode {
    /// Record missing snapshots (outside CI), compare the rest, write changes as `.snap.new`.
    #[default]
    Auto,
    /// Write every new or changed picture as `.snap.new`; never touch `.snap`.
    New,
    /// Compare only; write nothing.
    Compare,
    /// Accept every picture: write `.snap` files.
    Update,
}

impl SnapshotMode {
    /// Parses `auto`, `new`, `compare`, `update`.
    pub fn parse(s: &str) -> Result<SnapshotMode, String> {
        match s {
            "auto" => Ok(SnapshotMode::Auto),
            "new" => Ok(SnapshotMode::New),
            "compare" => Ok(SnapshotMode::Compare),
            "update" => Ok(SnapshotMode::Update),
            _ => Err(format!(
                "unknown snapshot mode `{s}`: expected auto, new, compare or update"
            )),
        }
    }
}

/// The `.snap` path of case `id` in `dir`.
pub fn snap_path(dir: &Path, id: &str) -> PathBuf {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}.snap"))
}

/// The pending path beside a `.snap` file.
pub fn pending_path(snap: &Path) -> PathBuf {
    let mut name = snap.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// A snapshot file's text: insta's header, then the picture.
pub fn file_text(id: &str, contents: &str) -> String {
    let expression = serde_json::to_string(id).unwrap_or_default();
    format!(
        "---\nsource: webhook-harness run\nexpression: {expression}\n---\n{}\n",
        contents.trim_end()
    )
}

/// The contents of a snapshot file (what follows insta's header).
pub fn read_contents(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(contents_of(&text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read snapshot {}: {e}", path.display())),
    }
}

fn contents_of(text: &str) -> String {
    let body = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n").map(|(_, body)| body))
        .unwrap_or(text);
    body.trim_end().to_owned()
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create snapshot folder {}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write snapshot {}: {e}", path.display()))
}

fn remove_pending(snap: &Path) -> Result<(), String> {
    let pending = pending_path(snap);
    match std::fs::remove_file(&pending) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", pending.display())),
    }
}

/// Compares case `id`'s new `contents` with its snapshot in `dir` and
/// writes what `mode` says. `ci`: never create a missing `.snap`.
pub fn check(
    dir: &Path,
    id: &str,
    contents: &str,
    mode: SnapshotMode,
    ci: bool,
) -> Result<Outcome, String> {
    let file = snap_path(dir, id);
    let new = contents.trim_end();
    let old = read_contents(&file)?;
    let text = file_text(id, new);
    let mut outcome = Outcome {
        id: id.to_owned(),
        status: Status::Unchanged,
        file: file.clone(),
        pending: None,
        diff: None,
    };
    match (old, mode) {
        (Some(old), _) if old == new => {
            if mode != SnapshotMode::Compare {
                remove_pending(&file)?;
            }
        }
        (old, SnapshotMode::Update) => {
            write(&file, &text)?;
            remove_pending(&file)?;
            outcome.status = if old.is_some() {
                Status::Updated
            } else {
                Status::Recorded
            };
        }
        (None, SnapshotMode::Auto) if !ci => {
            write(&file, &text)?;
            outcome.status = Status::Recorded;
        }
        (old, mode) => {
            outcome.status = if old.is_some() {
                Status::Changed
            } else {
                Status::Missing
            };
            outcome.diff = Some(unified_diff(old.as_deref().unwrap_or(""), new));
            if mode != SnapshotMode::Compare {
                let pending = pending_path(&file);
                write(&pending, &text)?;
                outcome.pending = Some(pending);
            }
        }
    }
    Ok(outcome)
}

/// A unified diff from `old` to `new`, three lines of context.
pub fn unified_diff(old: &str, new: &str) -> String {
    // Both end with a newline, so an unchanged last line is not shown as changed.
    let with_newline = |s: &str| {
        if s.is_empty() || s.ends_with('\n') {
            s.to_owned()
        } else {
            format!("{s}\n")
        }
    };
    let (old, new) = (with_newline(old), with_newline(new));
    let diff = TextDiff::from_lines(&old, &new);
    let mut out = String::new();
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old = first.old_range().start..last.old_range().end;
        let new = first.new_range().start..last.new_range().end;
        out.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            old.start + 1,
            old.len(),
            new.start + 1,
            new.len()
        ));
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                out.push(sign);
                out.push_str(change.value().trim_end_matches('\n'));
                out.push('\n');
            }
        }
    }
    out
}

/// Every pending `.snap.new` in `dir`, sorted.
pub fn pending(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(format!(
                "cannot list snapshot folder {}: {e}",
                dir.display()
            ));
        }
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".snap.new"))
        .collect();
    out.sort();
    Ok(out)
}

/// The `.snap` a pending file would replace.
pub fn target_of(pending: &Path) -> PathBuf {
    let text = pending.to_string_lossy();
    PathBuf::from(text.strip_suffix(".new").unwrap_or(&text))
}

/// Accepts a pending change: it becomes the snapshot.
pub fn accept(pending: &Path) -> Result<(), String> {
    std::fs::rename(pending, target_of(pending))
        .map_err(|e| format!("cannot accept {}: {e}", pending.display()))
}

/// Rejects a pending change: it is deleted.
pub fn reject(pending: &Path) -> Result<(), String> {
    std::fs::remove_file(pending).map_err(|e| format!("cannot reject {}: {e}", pending.display()))
}

/// The diff a pending change would make.
pub fn pending_diff(pending: &Path) -> Result<String, String> {
    let new = read_contents(pending)?.unwrap_or_default();
    let old = read_contents(&target_of(pending))?.unwrap_or_default();
    Ok(unified_diff(&old, &new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!(SnapshotMode::parse("compare"), Ok(SnapshotMode::Compare));
        assert!(
            SnapshotMode::parse("always")
                .unwrap_err()
                .contains("expected auto")
        );
    }

    #[test]
    fn contents_round_trip_through_the_file_format() {
        let text = file_text("a.b", "case: a.b\nsteps: []\n");
        assert!(text.starts_with("---\nsource: webhook-harness run\nexpression: \"a.b\"\n---\n"));
        assert_eq!(contents_of(&text), "case: a.b\nsteps: []");
    }

    #[test]
    fn an_unchanged_last_line_is_not_a_change() {
        let d = unified_diff("a\nb", "a\nb\nc");
        assert!(!d.contains("-b"), "{d}");
        assert!(d.contains("+c"), "{d}");
    }

    #[test]
    fn diff_marks_changes() {
        let d = unified_diff("a\nb\nc\n", "a\nB\nc\n");
        assert!(d.contains("-b\n+B\n"), "{d}");
        assert!(d.starts_with("@@ -1,3 +1,3 @@"), "{d}");
    }

    #[test]
    fn ids_become_safe_file_names() {
        assert_eq!(
            snap_path(Path::new("d"), "x/y z.1"),
            Path::new("d/x_y_z.1.snap")
        );
        assert_eq!(
            pending_path(Path::new("d/a.snap")),
            Path::new("d/a.snap.new")
        );
        assert_eq!(target_of(Path::new("d/a.snap.new")), Path::new("d/a.snap"));
    }
}
