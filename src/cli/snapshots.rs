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
        println!("{done} {}", store::target_of(p).display());
    }
    println!(
        "{} pending change{} {done} in {}",
        pending.len(),
        if pending.len() == 1 { "" } else { "s" },
        dir.display()
    );
    Ok(())
}

/// Shows each pending change and reads `a`, `r` or `s` (skip) from `input`.
fn review(dir: &std::path::Path, input: &mut dyn BufRead) -> Result<(), String> {
    let pending = store::pending(dir)?;
    if pending.is_empty() {
        println!("no pending snapshot changes in {}", dir.display());
        return Ok(());
    }
    let (mut accepted, mut rejected, mut skipped) = (0, 0, 0);
    for (i, p) in pending.iter().enumerate() {
        let target = store::target_of(p);
        let kind = if target.exists() { "changed" } else { "new" };
        println!(
            "[{}/{}] {} ({kind})",
            i + 1,
            pending.len(),
            target.display()
        );
        println!(
            "{}",
            crate::report::console::colorize(&store::pending_diff(p)?)
        );
        loop {
            print!("accept (a), reject (r), skip (s)? ");
            let _ = std::io::stdout().flush();
            let mut answer = String::new();
            let read = input
                .read_line(&mut answer)
                .map_err(|e| format!("cannot read the answer: {e}"))?;
            match (read, answer.trim()) {
                (0, _) | (_, "s") => {
                    skipped += 1;
                    println!();
                    break;
                }
                (_, "a") => {
                    store::accept(p)?;
                    accepted += 1;
                    break;
                }
                (_, "r") => {
                    store::reject(p)?;
                    rejected += 1;
                    break;
                }
                _ => println!("answer a, r or s"),
            }
        }
    }
    println!("{accepted} accepted, {rejected} rejected, {skipped} skipped");
    Ok(())
}
