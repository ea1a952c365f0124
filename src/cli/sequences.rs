//! `webhook-harness fuzz --sequences`: generated sequences of operations,
//! the smallest failing one written as a scenario `run` replays.

use crate::fuzz::sequences::{self, Powers, SequenceConfig, SequenceFinding};
use crate::report::{self, ReportOptions};
use crate::result::{CaseResult, CaseStatus};
use crate::runner::{RunConfig, RunError};
use crate::sender::SenderConfig;

use super::fuzz::{FuzzArgs, indent};
use super::target::ReceiverUnderTest;
use super::{exit, usage_error};

pub(super) async fn run(args: &FuzzArgs) -> i32 {
    report::console_to_stderr(args.reports.json_to_stdout());
    let target = match ReceiverUnderTest::start(&args.target).await {
        Ok(t) => t,
        Err(e) => return super::target::failed(e),
    };
    let stop = super::stop_signal(args.max_time);
    let tls = match args.tls.options() {
        Ok(tls) => tls,
        Err(code) => return code,
    };
    let seed = args
        .seed
        .unwrap_or_else(|| crate::event::IdSource::unique().next_u64() % 1_000_000_000);
    let cases = args.cases.unwrap_or(sequences::DEFAULT_CASES);
    let run = RunConfig {
        url: target.url.clone(),
        webhook_id: args.target.webhook_id.clone(),
        effects_url: target.effects_url.clone(),
        sender: SenderConfig {
            timeout: args.timeout,
            tls,
            ..SenderConfig::default()
        },
        jobs: 1,
        down_after: crate::stop::DEFAULT_THRESHOLD,
        stop: stop.clone(),
        fleet: target.fleet(),
        replica_effects_urls: target.replica_effects_urls.clone(),
        ..RunConfig::default()
    };
    let powers = sequences::powers(&run);
    let config = SequenceConfig {
        run,
        cases,
        seed,
        max_ops: args.max_ops,
        max_shrink_steps: args.max_shrink_steps,
        max_shrink_time: args.max_shrink_time,
        folder: args.out.clone(),
    };
    crate::output::consoleln!(
        "fuzzing {}{} with sequences, seed {seed}: {cases} sequences of up to {} operations: {} ({}; replay with --seed {seed}){}",
        target.url,
        target.label(),
        args.max_ops,
        operations(powers),
        target.webhook_id_label(&args.target),
        super::config::banner_note()
    );
    let bar = super::fuzz::progress_bar(cases, "sequences");
    let outcome = sequences::run(&config, |p| {
        if let Some(bar) = &bar {
            bar.set_position(p.done);
            if p.shrinking {
                bar.set_message("1 finding, shrinking…");
            }
        }
    })
    .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let outcome = match outcome {
        Ok(o) => o,
        Err(RunError::Unreachable { url, reason }) => {
            target.shutdown().await;
            return super::target::unreachable(&url, &reason);
        }
        Err(RunError::Setup(e)) => {
            target.shutdown().await;
            return usage_error(e);
        }
        Err(RunError::NoProbe) => {
            target.shutdown().await;
            return usage_error(
                "fuzz --sequences checks each key's effect count after the sequence: give --effects-url (e.g. http://127.0.0.1:3000/test/effects?key={key})",
            );
        }
    };
    let mut options = ReportOptions {
        strict: false,
        secret: Some(args.target.webhook_id.clone()),
        show_secrets: args.target.show_secrets,
        lead: None,
    };
    let mut run_result = outcome.run_result(&target.url);
    target.attach_logs(&mut run_result).await;
    options.lead = super::advice::lead(
        &run_result,
        args.target.webhook_id == crate::event::DEFAULT_WEBHOOK_ID,
    );
    if let Some(finding) = &outcome.finding {
        if let Err(e) = write(finding) {
            target.shutdown().await;
            return usage_error(e);
        }
        if let Some(lead) = &options.lead {
            crate::output::consoleln!("diagnosis: {}", options.redact(&lead.words));
        }
        let shown = run_result
            .cases
            .iter()
            .find(|c| c.status() == CaseStatus::Failed);
        let text = describe(seed, finding, shown, &options);
        crate::output::consoleln!("{}", options.redact(&text));
    }
    for note in &outcome.notes {
        crate::output::consoleln!("note: {}", options.redact(note));
    }
    crate::output::consoleln!(
        "{} ({} deliveries) in {}; {}; seed {seed}",
        crate::result::count(outcome.cases_run as usize, "sequence"),
        outcome.deliveries,
        crate::sender::format_duration(outcome.duration),
        if outcome.finding.is_some() {
            "1 finding"
        } else {
            "no finding"
        },
    );
    for hint in hints(powers) {
        crate::output::consoleln!("hint: {hint}");
    }
    if let Some(reason) = &outcome.stopped {
        crate::output::consoleln!("stopped: {}", options.redact(&reason.to_string()));
    }
    let receiver_died = target.shutdown().await;
    if let Err(e) = args
        .reports
        .write(&run_result, &options, "webhook-harness fuzz --sequences")
    {
        return usage_error(e);
    }
    if let Some(code) = receiver_died {
        return code;
    }
    if let Some(code) = super::stopped_exit(&stop) {
        return code;
    }
    match outcome.finding {
        Some(_) => exit::FAILURE,
        None => exit::SUCCESS,
    }
}

/// The operations a run generates, in words.
fn operations(powers: Powers) -> String {
    let mut ops = vec![
        "deliveries",
        "the same key again now or after other deliveries",
        "copies at once",
        "waits as long as the sender's retries",
    ];
    if powers.restart {
        ops.push("restarts");
    }
    if powers.replicas > 1 {
        ops.push("replica switches");
    }
    ops.join(", ")
}

/// What a run without `--serve` (or replicas) did not try.
fn hints(powers: Powers) -> Vec<&'static str> {
    let mut hints = Vec::new();
    if !powers.restart {
        hints.push("restarts not tried: pass --serve with the command that starts your receiver, so that sequences restart it");
    }
    if powers.replicas < 2 {
        hints.push("replicas not tried: pass --serve and --serve-replicas 2 (with a store the copies share)");
    }
    hints
}

/// Writes the finding's scenario.
fn write(finding: &SequenceFinding) -> Result<(), String> {
    if let Some(folder) = finding.file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    }
    std::fs::write(&finding.file, &finding.yaml)
        .map_err(|e| format!("cannot write {}: {e}", finding.file.display()))
}

/// The finding, for the console: how it was found and shrunk, its steps,
/// how it failed and where it is written.
fn describe(
    seed: u64,
    finding: &SequenceFinding,
    failed: Option<&CaseResult>,
    options: &ReportOptions,
) -> String {
    let shrunk = if finding.per_process {
        "not shrunk: any sequence that reads a count fails on a receiver that keeps its record per process".to_owned()
    } else if finding.shrink_steps == 0 {
        format!(
            "{} (no smaller sequence failed)",
            crate::result::count(finding.sequence.ops.len(), "operation")
        )
    } else {
        let kept = finding.sequence.ops.len();
        let how = if kept == finding.original_ops {
            format!(
                "simplified, still {}",
                crate::result::count(kept, "operation")
            )
        } else {
            format!(
                "shrunk from {} to {}",
                finding.original_ops,
                crate::result::count(kept, "operation")
            )
        };
        format!(
            "{how} in {}{}",
            crate::result::count(finding.shrink_steps, "step"),
            if finding.shrink_cut {
                " (shrinking stopped at its limit)"
            } else {
                ""
            }
        )
    };
    let (failures, replays) = finding.replays;
    let replayed = if failures == replays {
        format!("failed {failures} of {replays} runs")
    } else {
        format!(
            "failed {failures} of {replays} runs: it depends on timing (copies racing, a cache expiring)"
        )
    };
    let steps: Vec<&str> = finding
        .yaml
        .lines()
        .filter_map(|l| l.strip_prefix("      - "))
        .collect();
    let problem = failed.map(|c| crate::report::console::case_text(c, false, options.explained(c)));
    format!(
        "finding: sequence {} of seed {}, {shrunk}; {replayed}\n  steps:\n{}\n{}\n  written: {} (webhook-harness run {} with this run's --url and --serve flags)",
        finding.case,
        seed,
        indent(&steps.join("\n"), "    "),
        problem.unwrap_or_default(),
        finding.file.display(),
        finding.file.display(),
    )
}
