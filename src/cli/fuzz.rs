//! `webhook-harness fuzz`: generated payloads, shrunk findings, reproducers.

use std::time::Duration;

use clap::Args;

use super::args::{TargetArgs, TlsArgs};
use super::parse_duration;

/// `fuzz` arguments.
#[derive(Debug, Args)]
pub struct FuzzArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Number of generated cases.
    #[arg(long, default_value_t = 1000)]
    pub cases: u64,
    /// Seed of the generator (printed on every run; a fresh one by default).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Time allowed per request.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub jobs: u16,
    /// Only one kind of input: valid, invalid or headers.
    #[arg(long, value_parser = parse_category)]
    pub only: Option<crate::fuzz::Category>,
    /// Folder for reproducers.
    #[arg(long, default_value = "fuzz-findings")]
    pub out: std::path::PathBuf,
    /// Stop after this many findings.
    #[arg(long, default_value_t = 1)]
    pub max_findings: usize,
    /// Most shrink steps per finding.
    #[arg(long, default_value_t = 500)]
    pub max_shrink_steps: usize,
    /// Most time spent shrinking one finding (the smallest failing input found by then is reported).
    #[arg(long, value_name = "D", default_value = "1m", value_parser = parse_duration)]
    pub max_shrink_time: Duration,
    /// A deadline for the whole run: when it passes, what is in flight is
    /// cancelled, the findings so far are reported, and the exit code is 1.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub max_time: Option<Duration>,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub reports: super::args::ReportArgs,
}

fn parse_category(s: &str) -> Result<crate::fuzz::Category, String> {
    use crate::fuzz::Category;
    [Category::Valid, Category::Invalid, Category::Headers]
        .into_iter()
        .find(|c| c.name() == s)
        .ok_or_else(|| format!("unknown kind `{s}`: expected valid, invalid or headers"))
}

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::fuzz::{self, FuzzConfig, FuzzResult, reproducer};
use crate::report::{self, ReportOptions};
use crate::runner::{self, CaseResult, Check, CheckResult, RunResult};
use crate::scenario::Severity;
use crate::sender::{Sender, SenderConfig};

use super::target::{ReceiverUnderTest, check_reachable};
use super::{exit, usage_error};

/// Most of a minimal payload printed on the console.
const PRINTED_PAYLOAD: usize = 2000;

pub(super) async fn run(args: &FuzzArgs) -> i32 {
    report::console_to_stderr(args.reports.json_to_stdout());
    let target = match ReceiverUnderTest::start(&args.target).await {
        Ok(t) => t,
        Err(e) => return super::target::failed(e),
    };
    let (url, effects_url) = (target.url.clone(), target.effects_url.clone());
    let stop = super::stop_signal(args.max_time);
    let tls = match args.tls.options() {
        Ok(tls) => tls,
        Err(code) => return code,
    };
    let seed = args
        .seed
        .unwrap_or_else(|| crate::event::IdSource::unique().next_u64() % 1_000_000_000);
    let config = FuzzConfig {
        replicas: target.replicas(),
        replica_effects_urls: target.replica_effects_urls.clone(),
        url: url.clone(),
        webhook_id: args.target.webhook_id.clone(),
        effects_url,
        cases: args.cases,
        seed,
        timeout: args.timeout,
        jobs: usize::from(args.jobs),
        only: args.only,
        max_findings: args.max_findings,
        max_shrink_steps: args.max_shrink_steps,
        max_shrink_time: args.max_shrink_time,
        tls,
        stop: stop.clone(),
    };
    // The sender checks readiness once, like `run`; nothing listening is exit 3.
    let probe = Sender::new(SenderConfig {
        timeout: args.timeout,
        ..SenderConfig::default()
    });
    let sender = match probe {
        Ok(s) => s.with_stop(stop.clone()),
        Err(e) => return usage_error(e),
    };
    if let Err(code) = check_reachable(&sender, &url).await {
        return code;
    }
    crate::output::consoleln!(
        "fuzzing {url}{} with seed {seed}: {} cases, {} at once, {} (replay with --seed {seed}){}",
        target.label(),
        args.cases,
        args.jobs,
        target.webhook_id_label(&args.target),
        super::config::banner_note()
    );
    let bar = (std::io::stdout().is_terminal() && !report::in_ci()).then(|| {
        let bar = ProgressBar::new(args.cases);
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} cases {msg}") {
            bar.set_style(style);
        }
        bar
    });
    let outcome = fuzz::run(&config, |p| {
        if let Some(bar) = &bar {
            bar.set_position(p.done);
            bar.set_message(if p.shrinking {
                format!("{} findings, shrinking…", p.findings + 1)
            } else {
                format!("{} findings, {:.0} cases/s", p.findings, p.per_second)
            });
        }
    })
    .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let receiver_died = target.shutdown().await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return usage_error(e),
    };
    let mut options = ReportOptions {
        strict: false,
        secret: Some(args.target.webhook_id.clone()),
        show_secrets: args.target.show_secrets,
        lead: None,
    };
    let mut reproducers: Vec<std::path::PathBuf> = Vec::new();
    for (n, finding) in outcome.findings.iter().enumerate() {
        let written = reproducer::write(&args.out, seed, finding, &args.target.webhook_id);
        if let Ok((yaml, _)) = &written {
            reproducers.push(yaml.clone());
        }
        let text = match written {
            Ok((yaml, body)) => describe_finding(
                n + 1,
                seed,
                finding,
                &url,
                &yaml,
                &body,
                &args.target.webhook_id,
            ),
            Err(e) => return usage_error(e),
        };
        crate::output::consoleln!("{}", options.redact(&text));
    }
    let categories: Vec<String> = outcome
        .per_category
        .iter()
        .map(|(c, n)| format!("{n} {}", c.name()))
        .collect();
    crate::output::consoleln!(
        "{} cases ({}) in {}: {:.0} cases/s; {} finding{}; seed {seed}",
        outcome.cases_run,
        categories.join(", "),
        crate::sender::format_duration(outcome.duration),
        outcome.cases_per_second(),
        outcome.findings.len(),
        if outcome.findings.len() == 1 { "" } else { "s" },
    );
    if let Some(reason) = &outcome.stopped {
        crate::output::consoleln!("stopped: {}", options.redact(&reason.to_string()));
    }
    let run_outcome = as_run_outcome(&outcome, &url, &reproducers);
    options.lead = super::advice::lead(
        &run_outcome,
        args.target.webhook_id == crate::event::DEFAULT_WEBHOOK_ID,
    );
    if let Err(e) = args
        .reports
        .write(&run_outcome, &options, "webhook-harness fuzz")
    {
        return usage_error(e);
    }
    if let Some(code) = receiver_died {
        return code;
    }
    if let Some(code) = super::stopped_exit(&stop) {
        return code;
    }
    if outcome.findings.is_empty() {
        exit::SUCCESS
    } else {
        exit::FAILURE
    }
}

fn describe_finding(
    n: usize,
    seed: u64,
    finding: &fuzz::Finding,
    url: &str,
    yaml: &std::path::Path,
    body: &std::path::Path,
    webhook_id: &str,
) -> String {
    let payload = String::from_utf8_lossy(&finding.input.body);
    let shown = match serde_json::from_slice::<serde_json::Value>(&finding.input.body) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        Err(_) => format!("{payload:?} (not valid JSON)"),
    };
    let shown = if shown.len() > PRINTED_PAYLOAD {
        let cut: String = shown.chars().take(PRINTED_PAYLOAD).collect();
        format!(
            "{cut}\n… ({} bytes in all; the full body is in {})",
            finding.input.body.len(),
            body.display()
        )
    } else {
        shown
    };
    format!(
        "finding {n}: case {} of seed {seed}, {}\n  input:   {}\n  problem: {}\n  payload:\n{}\n  replay:  {}\n  written: {} (webhook-harness run {} --url {url})",
        finding.case,
        shrink_words(finding),
        finding.input.description,
        finding.reason,
        indent(&shown, "    "),
        reproducer::curl(finding, url, webhook_id, body),
        yaml.display(),
        yaml.parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    )
}

/// How the finding was shrunk, in words that stay true when the input got
/// simpler without getting smaller (fewer fields, shorter text, but a
/// longer key or escape).
fn shrink_words(finding: &fuzz::Finding) -> String {
    let (from, to) = (finding.original_size, finding.input.body.len());
    let steps = crate::result::count(finding.shrink_steps, "step");
    let cut = if finding.shrink_cut {
        " (shrinking stopped at its time limit)"
    } else {
        ""
    };
    if to < from {
        format!("shrunk in {steps} from {from} to {to} bytes{cut}")
    } else {
        format!("simplified in {steps} ({from} -> {to} bytes: fewer parts, not fewer bytes){cut}")
    }
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The fuzz run in the shape the JSON and JUnit reports take: one case per
/// kind of input run, failed when it has a finding.
/// The fuzz run in the result model the reports read: one case per kind of
/// input, a failed check per finding naming its reproducer (`reproducers`,
/// in the order of the findings).
fn as_run_outcome(
    outcome: &FuzzResult,
    url: &str,
    reproducers: &[std::path::PathBuf],
) -> RunResult {
    let cases = outcome
        .per_category
        .iter()
        .map(|(category, count)| {
            let findings: Vec<&fuzz::Finding> = outcome
                .findings
                .iter()
                .filter(|f| f.input.category == *category)
                .collect();
            let checks = if findings.is_empty() {
                vec![Check {
                    state: None,
                    step: 1,
                    source: None,
                    what: format!("{count} generated inputs"),
                    outcome: CheckResult::Passed,
                }]
            } else {
                findings
                    .iter()
                    .map(|f| Check {
                        state: None,
                        step: 1,
                        source: None,
                        what: format!(
                            "case {} ({}){}",
                            f.case,
                            f.input.description,
                            outcome
                                .findings
                                .iter()
                                .position(|g| std::ptr::eq(g, *f))
                                .and_then(|i| reproducers.get(i))
                                .map(|p| format!("; reproducer {}", p.display()))
                                .unwrap_or_default()
                        ),
                        outcome: CheckResult::Failed {
                            expected: match category {
                                fuzz::Category::Valid => "2xx and the effect once".into(),
                                _ => "no 5xx and no dropped connection".into(),
                            },
                            actual: f.reason.clone(),
                        },
                    })
                    .collect()
            };
            CaseResult {
                id: format!("fuzz.{}", category.name()),
                title: format!(
                    "{count} generated {} inputs (seed {})",
                    category.name(),
                    outcome.seed
                ),
                severity: Severity::Must,
                requirement: None,
                fix: None,
                finding: false,
                source: None,
                checks,
                steps: vec![runner::StepRecord {
                    step: 1,
                    action: format!("fuzz {}", category.name()),
                    concurrent: true,
                    attempts: findings.iter().filter_map(|f| f.attempt.clone()).collect(),
                }],
                keys: Vec::new(),
                duration: outcome.duration,
                not_run: None,
                not_applicable: None,
                started: None,
                receiver_log: Vec::new(),
            }
        })
        .collect();
    RunResult {
        url: url.to_owned(),
        run_id: String::new(),
        cases,
        notes: Vec::new(),
        duration: outcome.duration,
        snapshots: None,
        stopped: outcome.stopped.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(from: usize, to: usize) -> fuzz::Finding {
        fuzz::Finding {
            case: 1,
            input: crate::fuzz::FuzzInput {
                category: crate::fuzz::Category::Valid,
                description: String::new(),
                event: None,
                key: None,
                built_with: String::new(),
                headers: Vec::new(),
                body: vec![b'x'; to],
                title_case_headers: false,
            },
            reason: String::new(),
            attempt: None,
            shrink_steps: 67,
            original_size: from,
            shrink_cut: false,
        }
    }

    #[test]
    fn shrinking_is_said_truly() {
        assert_eq!(
            shrink_words(&finding(1859, 1140)),
            "shrunk in 67 steps from 1859 to 1140 bytes"
        );
        assert_eq!(
            shrink_words(&finding(147, 149)),
            "simplified in 67 steps (147 -> 149 bytes: fewer parts, not fewer bytes)"
        );
    }
}
