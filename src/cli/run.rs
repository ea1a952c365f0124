//! `webhook-harness run`: the conformance suite against a receiver.

use std::time::Duration;

use clap::Args;

use super::args::{DeliveryArgs, TargetArgs};
use super::{DEFAULT_SNAPSHOT_DIR, parse_duration};

/// `run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Scenario files or folders (default: the built-in suite).
    pub paths: Vec<std::path::PathBuf>,
    /// Also run the built-in suite when PATHs are given.
    #[arg(long)]
    pub builtin: bool,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Cases run at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Run only cases whose id contains PATTERN (or matches it, with `*`).
    #[arg(long)]
    pub filter: Option<String>,
    /// `should` failures fail the run too.
    #[arg(long)]
    pub strict: bool,
    /// A deadline for the whole run (e.g. 5m): when it passes, what is in
    /// flight is cancelled, the rest is reported as not run, and the exit code is 1.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub max_time: Option<Duration>,
    /// After this many requests in a row got no answer at all, check whether
    /// the receiver is down (a plain delivery, retried for 5 s); if it is, the
    /// remaining cases are not run.
    #[arg(long, value_name = "N", default_value_t = crate::stop::DEFAULT_THRESHOLD,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub down_after: u32,
    #[command(flatten)]
    pub reports: super::args::ReportArgs,
    /// Compare what the receiver answers with snapshots in DIR (default
    /// snapshots/receiver): the first run records, later runs show changes.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = DEFAULT_SNAPSHOT_DIR)]
    pub snapshots: Option<std::path::PathBuf>,
    /// auto: record missing (outside CI), write changes as .snap.new; new: write
    /// every change as .snap.new; compare: write nothing; update: accept all.
    #[arg(long, value_name = "MODE", value_parser = crate::snapshot::store::SnapshotMode::parse)]
    pub snapshots_mode: Option<crate::snapshot::store::SnapshotMode>,
    /// Accept every snapshot change (same as --snapshots-mode update).
    #[arg(long)]
    pub update_snapshots: bool,
    /// Redact the values of this JSON field in snapshots (e.g. a request id your
    /// receiver returns). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub redact_field: Vec<String>,
}

use crate::report::{self, ReportOptions, console::ConsoleReporter};
use crate::runner::{self, RunConfig, RunError};

use super::target::ReceiverUnderTest;
use super::{exit, suite, usage_error};

/// The snapshot settings, when any snapshot option was given.
fn snapshot_config(args: &RunArgs) -> Option<crate::snapshot::SnapshotConfig> {
    use crate::snapshot::store::SnapshotMode as Mode;
    let mode = if args.update_snapshots {
        Some(Mode::Update)
    } else {
        args.snapshots_mode
    };
    if args.snapshots.is_none() && mode.is_none() {
        return None;
    }
    let ci = report::in_ci();
    Some(crate::snapshot::SnapshotConfig {
        dir: args
            .snapshots
            .clone()
            .unwrap_or_else(|| super::DEFAULT_SNAPSHOT_DIR.into()),
        mode: mode.unwrap_or_default(),
        ci,
        webhook_id: args.target.webhook_id.clone(),
        redact_fields: args.redact_field.clone(),
    })
}

pub(super) async fn run(args: &RunArgs) -> i32 {
    run_with(args, crate::runner::Replay::default()).await
}

/// `run`, with recorded deliveries sent again as `replay` says.
pub(super) async fn run_with(args: &RunArgs, replay: crate::runner::Replay) -> i32 {
    report::console_to_stderr(args.reports.json_to_stdout());
    let mut scenarios = match suite::load(&args.paths, args.builtin) {
        Ok(s) => s,
        Err(e) => {
            crate::output::errln!("{e}");
            return exit::USAGE;
        }
    };
    if let Some(pattern) = &args.filter {
        scenarios.retain(|s| runner::matches_filter(&s.case.id, pattern));
        if scenarios.is_empty() {
            return usage_error(format!(
                "--filter `{pattern}` matches no case; `webhook-harness list` shows the ids"
            ));
        }
    }
    let sender = match args.delivery.sender_config(true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // Without --url, the reference receiver stands in, with its probe wired in.
    let target = match ReceiverUnderTest::start(&args.target).await {
        Ok(t) => t,
        Err(e) => return super::target::failed(e),
    };
    let mut options = ReportOptions {
        strict: args.strict,
        secret: Some(args.target.webhook_id.clone()),
        show_secrets: args.target.show_secrets,
        lead: None,
    };
    crate::output::consoleln!(
        "webhook-harness: {} against {}{} ({}){}",
        crate::result::count(scenarios.len(), "case"),
        target.url,
        target.label(),
        target.webhook_id_label(&args.target),
        super::config::banner_note()
    );
    let stop = super::stop_signal(args.max_time);
    let config = RunConfig {
        url: target.url.clone(),
        webhook_id: args.target.webhook_id.clone(),
        effects_url: target.effects_url.clone(),
        sender,
        jobs: usize::from(args.jobs),
        down_after: args.down_after,
        replay,
        stop: stop.clone(),
        fleet: target.fleet(),
        replica_effects_urls: target.replica_effects_urls.clone(),
    };
    let mut console = ConsoleReporter::new(scenarios.len(), options.clone());
    let on_case = |c: &mut crate::result::CaseResult| console.case(c);
    let mut outcome = match runner::run(&config, scenarios, on_case).await {
        Ok(o) => o,
        Err(RunError::Unreachable { url, reason }) => {
            return super::target::unreachable(&url, &reason);
        }
        Err(RunError::Setup(e)) => return usage_error(e),
        Err(e @ RunError::NoProbe) => {
            return usage_error(format!(
                "{e}: give --effects-url (e.g. http://127.0.0.1:3000/test/effects?key={{key}})"
            ));
        }
    };
    target.attach_logs(&mut outcome).await;
    if args.delivery.tls.insecure {
        outcome.notes.push(
            "INSECURE: TLS certificates were not verified (--insecure); this run says nothing about the receiver's certificate".into(),
        );
    }
    if let Some(config) = snapshot_config(args) {
        match crate::snapshot::check_run(&outcome, &config) {
            Ok(report) => outcome.snapshots = Some(report),
            Err(e) => return usage_error(e),
        }
    }
    options.lead = super::advice::lead(
        &outcome,
        args.target.webhook_id == crate::event::DEFAULT_WEBHOOK_ID,
    );
    console.set_lead(options.lead.clone());
    console.finish(&outcome);
    if let Some(snapshots) = outcome.snapshots.as_ref().filter(|s| s.failed()) {
        crate::output::consoleln!(
            "review with `webhook-harness snapshots review {}` (or `cargo insta review`), or accept all with --update-snapshots",
            snapshots.dir.display()
        );
    }
    for hint in tls_hints(&outcome) {
        crate::output::consoleln!("hint: {hint}");
    }
    if outcome.cases.iter().flat_map(|c| &c.checks).any(|c| {
        matches!(
            c.outcome,
            crate::result::CheckResult::Skipped {
                reason: crate::result::SkipReason::NoEffectsProbe
            }
        )
    }) {
        crate::output::consoleln!(
            "hint: pass --effects-url with your receiver's probe (e.g. http://127.0.0.1:3000/test/effects?key={{key}}) so that effect counts are checked"
        );
    }
    for hint in not_applicable_hints(&outcome) {
        crate::output::consoleln!("hint: {hint}");
    }
    let receiver_died = target.shutdown().await;
    if let Err(e) = args
        .reports
        .write(&outcome, &options, "webhook-harness run")
    {
        return usage_error(e);
    }
    if let Some(code) = receiver_died {
        return code;
    }
    if let Some(code) = super::stopped_exit(&stop) {
        return code;
    }
    let summary = outcome.summary(args.strict);
    if args.strict && summary.skipped > 0 {
        crate::output::consoleln!(
            "FAIL (--strict): {} case{} not verified (skipped); see the hints above",
            summary.skipped,
            if summary.skipped == 1 {
                " was"
            } else {
                "s were"
            }
        );
    }
    if !outcome.passed(args.strict) {
        exit::FAILURE
    } else {
        exit::SUCCESS
    }
}

/// What turns on the cases that did not apply to the run, once each.
fn not_applicable_hints(outcome: &runner::RunResult) -> Vec<String> {
    use crate::result::NotApplicable;
    let mut hints: Vec<String> = Vec::new();
    for case in &outcome.cases {
        let hint = match case.not_applicable {
            Some(NotApplicable::NeedsServe) => {
                "durability not checked: pass --serve (the harness restarts a receiver it started)"
                    .to_owned()
            }
            Some(NotApplicable::NeedsReplicas(n)) => format!(
                "replicas not checked: pass --serve and --serve-replicas {n} (with a store the copies share)"
            ),
            None => continue,
        };
        if !hints.contains(&hint) {
            hints.push(hint);
        }
    }
    hints
}

/// Advice naming flags for the TLS failures of a run, once each.
fn tls_hints(outcome: &runner::RunResult) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    for attempt in outcome.cases.iter().flat_map(|c| c.attempts()) {
        if let Some(failure @ crate::sender::Failure::Tls(_)) = &attempt.failure
            && let Some(hint) = super::advice::for_failure(failure)
            && !hints.contains(&hint)
        {
            hints.push(hint);
        }
    }
    hints
}
