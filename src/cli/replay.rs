//! `webhook-harness replay`: recorded deliveries sent again, exactly as
//! recorded or with fresh keys, with copies; `run` on the recordings with
//! these options (one code path).

use clap::Args;

use super::run::{RunArgs, run_with};
use super::usage_error;
use crate::runner::Replay;

/// The most copies of one delivery `--duplicates` sends.
const MAX_DUPLICATES: u32 = 100;

/// `replay` arguments: those of `run`, and how to send recordings again.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Send each recorded delivery N more times (a duplicate, as a retry or
    /// a second sender would); the probe still expects one effect.
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_DUPLICATES)))]
    pub duplicates: u32,
    /// Send each delivery and its duplicates at once rather than one after the other.
    #[arg(long)]
    pub concurrent: bool,
    /// Replace each recorded idempotency key (headers and body) with a fresh
    /// one, so a receiver that remembers keys still does the work.
    #[arg(long)]
    pub fresh_ids: bool,
}

pub(super) async fn run(args: &ReplayArgs) -> i32 {
    if args.run.paths.is_empty() {
        return usage_error(
            "replay needs the folder (or files) of recordings, e.g. `webhook-harness replay recordings/ --url URL`; record them with `proxy --record DIR` or `receive --record DIR`",
        );
    }
    if args.concurrent && args.duplicates == 0 {
        return usage_error(
            "--concurrent sends each delivery's copies at once: give --duplicates N as well",
        );
    }
    let replay = Replay {
        duplicates: args.duplicates,
        concurrent: args.concurrent,
        fresh_ids: args.fresh_ids,
    };
    run_with(&args.run, replay).await
}
