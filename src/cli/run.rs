//! `webhook-harness run`: the conformance suite against a receiver.

use crate::report::{self, ReportOptions, console::ConsoleReporter};
use crate::runner::{self, RunConfig, RunError};
use crate::secret;

use super::target::Target;
use super::{RunArgs, exit, suite, usage_error};

/// The snapshot settings, when any snapshot option was given.
fn snapshot_config(args: &RunArgs) -> Option<crate::snapshot::SnapshotConfig> {
    use crate::snapshot::store::Mode;
    let mode = if args.update_snapshots {
        Some(Mode::Update)
    } else {
        args.snapshots_mode
    };
    if args.snapshots.is_none() && mode.is_none() {
        return None;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
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
    // Without --url, the reference receiver stands in, with its probe wired in.
    let target = match Target::start(&args.target).await {
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
    let config = RunConfig {
        url: target.url.clone(),
        webhook_id: args.target.webhook_id.clone(),
        effects_url: target.effects_url.clone(),
        sender: args.delivery.sender_config(true),
        jobs: usize::from(args.jobs),
    };
    let console = ConsoleReporter::new(scenarios.len(), options.clone());
    let mut outcome = match runner::run(&config, scenarios, |c| console.case(c)).await {
        Ok(o) => o,
        Err(e @ RunError::Unreachable { .. }) => {
            eprintln!("error: {e}");
            return exit::UNREACHABLE;
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
    report::exit_code(&outcome, args.strict)
}
