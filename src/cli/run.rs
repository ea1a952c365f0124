//! `webhook-harness run`: the conformance suite against a receiver.

use crate::report::{self, ReportOptions, console::ConsoleReporter};
use crate::runner::{self, RunConfig, RunError};
use crate::secret;

use super::target::ReceiverUnderTest;
use super::{RunArgs, exit, suite, usage_error};

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
    let mut scenarios = match suite::load(&args.paths, args.builtin) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
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
        Err(e) => return usage_error(e),
    };
    let options = ReportOptions {
        strict: args.strict,
        secret: Some(args.target.webhook_id.clone()),
        show_secrets: args.target.show_secrets,
    };
    println!(
        "webhook-harness: {} cases against {}{} (webhook id {})",
        scenarios.len(),
        target.url,
        target.label(),
        secret::display(&args.target.webhook_id, args.target.show_secrets)
    );
    let stop = super::stop_signal(args.max_time);
    let config = RunConfig {
        url: target.url.clone(),
        webhook_id: args.target.webhook_id.clone(),
        effects_url: target.effects_url.clone(),
        sender,
        jobs: usize::from(args.jobs),
        down_after: args.down_after,
        stop: stop.clone(),
    };
    let console = ConsoleReporter::new(scenarios.len(), options.clone());
    let mut outcome = match runner::run(&config, scenarios, |c| console.case(c)).await {
        Ok(o) => o,
        Err(RunError::Unreachable { url, reason }) => {
            return super::target::unreachable(&url, &reason);
        }
        Err(RunError::Setup(e)) => return usage_error(e),
    };
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
    console.finish(&outcome);
    for hint in tls_hints(&outcome) {
        println!("hint: {hint}");
    }
    target.shutdown().await;
    if let Some(path) = &args.report_json
        && let Err(e) = report::write_file(path, &report::json::render(&outcome, &options))
    {
        return usage_error(e);
    }
    if let Some(path) = &args.report_junit {
        let written = report::junit::render(&outcome, &options)
            .and_then(|xml| report::write_file(path, &xml));
        if let Err(e) = written {
            return usage_error(e);
        }
    }
    if let Some(code) = super::stopped_exit(&stop) {
        return code;
    }
    let snapshots_failed = outcome.snapshots.as_ref().is_some_and(|s| s.failed());
    if outcome.summary(args.strict).failed > 0 || snapshots_failed {
        exit::FAILURE
    } else {
        exit::SUCCESS
    }
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
