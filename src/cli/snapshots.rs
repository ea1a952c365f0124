//! `webhook-harness snapshots review|accept|reject`: pending snapshot changes,
//! without cargo-insta.

use std::io::{BufRead, Write};

use crate::snapshot::store;

use super::{SnapshotsCommand, exit, usage_error};

pub(super) fn run(command: &SnapshotsCommand) -> i32 {
    let result = match command {
        SnapshotsCommand::Review(args) => review(&args.dir, &mut std::io::stdin().lock()),
        SnapshotsCommand::Accept(args) => all(&args.dir, store::accept, "accepted"),
        SnapshotsCommand::Reject(args) => all(&args.dir, store::reject, "rejected"),
    };
    match result {
        Ok(()) => exit::SUCCESS,
        Err(e) => usage_error(e),
    }
}

fn all(
    dir: &std::path::Path,
    action: fn(&std::path::Path) -> Result<(), String>,
    done: &str,
) -> Result<(), String> {
    let pending = store::pending(dir)?;
    for p in &pending {
        action(p)?;
        crate::output::outln!("{done} {}", store::target_of(p).display());
    }
    crate::output::outln!(
        "{} pending change{} {done} in {}",
        pending.len(),
        if pending.len() == 1 { "" } else { "s" },
        dir.display()
    );
    Ok(())
}

/// What to do with one pending change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Accept,
    Reject,
    Skip,
}

/// Shows each pending change and reads `a`, `r` or `s` (skip) from `input`;
/// `A` and `R` accept or reject this change and all remaining ones. The end
/// of the input skips the rest.
fn review(dir: &std::path::Path, input: &mut dyn BufRead) -> Result<(), String> {
    let pending = store::pending(dir)?;
    if pending.is_empty() {
        crate::output::outln!("no pending snapshot changes in {}", dir.display());
        return Ok(());
    }
    let (mut accepted, mut rejected, mut skipped) = (0, 0, 0);
    let mut for_all_remaining: Option<Decision> = None;
    for (i, p) in pending.iter().enumerate() {
        let decision = match for_all_remaining {
            Some(decision) => decision,
            None => {
                let target = store::target_of(p);
                let kind = if target.exists() { "changed" } else { "new" };
                crate::output::outln!(
                    "[{}/{}] {} ({kind})",
                    i + 1,
                    pending.len(),
                    target.display()
                );
                crate::output::outln!(
                    "{}",
                    crate::report::console::colorize(&store::pending_diff(p)?)
                );
                let (decision, all) = ask(input)?;
                if all {
                    for_all_remaining = Some(decision);
                }
                decision
            }
        };
        match decision {
            Decision::Accept => {
                store::accept(p)?;
                accepted += 1;
            }
            Decision::Reject => {
                store::reject(p)?;
                rejected += 1;
            }
            Decision::Skip => skipped += 1,
        }
    }
    crate::output::outln!("{accepted} accepted, {rejected} rejected, {skipped} skipped");
    Ok(())
}

/// Asks until the answer is one of a, r, s, A, R; the end of the input is
/// `s` for this and every remaining change. Returns the decision and whether
/// it holds for all remaining changes.
fn ask(input: &mut dyn BufRead) -> Result<(Decision, bool), String> {
    loop {
        crate::output::out!(
            "accept (a), reject (r), skip (s), accept all remaining (A), reject all remaining (R)? "
        );
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let read = input
            .read_line(&mut answer)
            .map_err(|e| format!("cannot read the answer: {e}"))?;
        let decision = match (read, answer.trim()) {
            (0, _) => (Decision::Skip, true),
            (_, "s") => (Decision::Skip, false),
            (_, "a") => (Decision::Accept, false),
            (_, "r") => (Decision::Reject, false),
            (_, "A") => (Decision::Accept, true),
            (_, "R") => (Decision::Reject, true),
            _ => {
                crate::output::outln!("answer a, r, s, A or R");
                continue;
            }
        };
        if decision.0 == Decision::Skip {
            crate::output::outln!();
        }
        return Ok(decision);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_one_per_change_and_capitals_hold_for_the_rest() {
        let mut input = std::io::Cursor::new("x\na\nA\n");
        assert_eq!(ask(&mut input).unwrap(), (Decision::Accept, false));
        assert_eq!(ask(&mut input).unwrap(), (Decision::Accept, true));
        assert_eq!(ask(&mut input).unwrap(), (Decision::Skip, true));
        let mut input = std::io::Cursor::new("R\n");
        assert_eq!(ask(&mut input).unwrap(), (Decision::Reject, true));
    }
}
