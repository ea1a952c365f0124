//! The console report: a progress bar on a terminal, one line per case, the
//! reasons of failures (h2spec style), and the summary line.

use std::io::IsTerminal;

use console::style;
use indicatif::{ProgressBar, ProgressStyle};

use super::ReportOptions;
use crate::result::{CaseResult, CaseStatus, RunResult};

/// Receiver log lines shown under a failing case (the reports keep more).
const CONSOLE_LOG_LINES: usize = 20;

/// Prints cases as they finish, with a progress bar on an interactive terminal.
pub struct ConsoleReporter {
    bar: Option<ProgressBar>,
    options: ReportOptions,
}

impl ConsoleReporter {
    /// A reporter for `total` cases. The bar shows only on a terminal outside
    /// CI; colours follow the terminal and `NO_COLOR`.
    pub fn new(total: usize, options: ReportOptions) -> Self {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            console::set_colors_enabled(false);
        }
        let interactive =
            std::io::stdout().is_terminal() && !super::in_ci() && !super::console_on_stderr();
        let bar = interactive.then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(s) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} cases {elapsed} {msg}")
            {
                bar.set_style(s);
            }
            bar
        });
        ConsoleReporter { bar, options }
    }

    /// Prints one finished case: its verdict line (a skip or a stop with
    /// its reason); the reasons of failures come at the end, after the
    /// diagnosis that may explain them.
    pub fn case(&self, c: &CaseResult) {
        let text = self.options.redact(&case_line(c, self.options.strict));
        match &self.bar {
            Some(bar) => {
                bar.println(text);
                bar.inc(1);
            }
            None => crate::output::consoleln!("{text}"),
        }
    }

    /// The diagnosis to lead the closing part with (see [`ReportOptions::lead`]).
    pub fn set_lead(&mut self, lead: Option<super::Lead>) {
        self.options.lead = lead;
    }

    /// Clears the bar and prints the diagnosis, the reasons of the
    /// failures (those it explains marked so), notes and the summary line.
    pub fn finish(&self, outcome: &RunResult) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let failed = outcome
            .cases
            .iter()
            .any(|c| c.status() == CaseStatus::Failed);
        if failed || self.options.lead.is_some() {
            // The closing part, apart from the verdict lines above it.
            crate::output::consoleln!("");
        }
        if let Some(lead) = &self.options.lead {
            crate::output::consoleln!(
                "{} {}",
                style("diagnosis:").red().bold(),
                self.options.redact(&lead.words)
            );
        }
        for c in outcome
            .cases
            .iter()
            .filter(|c| c.status() == CaseStatus::Failed)
        {
            let text = case_text(c, self.options.strict, self.options.explained(c));
            crate::output::consoleln!("{}", self.options.redact(&text));
        }
        for note in &outcome.notes {
            crate::output::consoleln!("note: {}", self.options.redact(note));
        }
        if let Some(reason) = &outcome.stopped {
            crate::output::consoleln!(
                "{} {}: the cases after it were not run, and the reports are partial",
                style("stopped:").red().bold(),
                self.options.redact(&reason.to_string())
            );
        }
        if let Some(snapshots) = &outcome.snapshots {
            for (case, same) in snapshots.failures_grouped() {
                let what = match case.status {
                    crate::result::SnapshotStatus::Missing => "snapshot missing",
                    _ => "snapshot changed",
                };
                let pending = case
                    .pending
                    .as_ref()
                    .map(|p| format!(", pending change in {}", p.display()))
                    .unwrap_or_default();
                crate::output::consoleln!(
                    "{} {} ({}{pending})",
                    style(what).red().bold(),
                    case.id,
                    case.file.display()
                );
                if !same.is_empty() {
                    let ids: Vec<&str> = same.iter().map(|c| c.id.as_str()).collect();
                    crate::output::consoleln!(
                        "  and the same change in {}: {}",
                        crate::result::count(same.len(), "other case"),
                        ids.join(", ")
                    );
                }
                if let Some(diff) = &case.diff {
                    crate::output::consoleln!("{}", colorize(&shown(&self.options.redact(diff))));
                }
            }
            crate::output::consoleln!("{}", snapshots.summary_line());
        }
        crate::output::consoleln!(
            "{} in {}",
            outcome.summary(self.options.strict).line(),
            crate::sender::format_duration(outcome.duration)
        );
    }
}

/// The verdict line printed when a case ends: the tag, id, severity and
/// title, and for a case that was skipped or not run, why (one line).
pub fn case_line(c: &CaseResult, strict: bool) -> String {
    let mut line = format!(
        "{} {} [{}] {}",
        tag(c, strict),
        shown(&c.id),
        c.severity.name(),
        shown(&c.title)
    );
    if matches!(
        c.status(),
        CaseStatus::Skipped | CaseStatus::NotRun | CaseStatus::NotApplicable
    ) {
        line.push_str(&format!("\n  -> {}", shown(&c.message())));
    }
    line
}

/// Text from outside (a scenario file, a receiver's answer) as the terminal
/// shows it: its control characters escaped.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    crate::output::escape_controls(text)
}

/// The verdict word of a case, coloured.
fn tag(c: &CaseResult, strict: bool) -> String {
    match (c.status(), c.finding) {
        (CaseStatus::Passed, false) => style("pass").green().to_string(),
        (CaseStatus::Passed, true) => style("fixed").green().to_string(),
        (CaseStatus::Skipped, _) if c.fails_run(strict) => {
            style("FAIL (not verified)").red().bold().to_string()
        }
        (CaseStatus::Skipped, _) => style("skip").yellow().to_string(),
        (CaseStatus::NotRun, _) => style("not run").yellow().to_string(),
        (CaseStatus::NotApplicable, _) => style("n/a").yellow().to_string(),
        (CaseStatus::Failed, true) => style("still failing").red().bold().to_string(),
        (CaseStatus::Failed, false) if c.fails_run(strict) => {
            style("FAIL").red().bold().to_string()
        }
        (CaseStatus::Failed, false) => style("warn").yellow().bold().to_string(),
    }
}

/// The lines for one case: verdict line, then the reason when not passed;
/// `explained`: the run's diagnosis explains it (said first, so that the
/// case's own advice is read in its light).
pub fn case_text(c: &CaseResult, strict: bool, explained: bool) -> String {
    let mut out = format!(
        "{} {} [{}] {}",
        tag(c, strict),
        shown(&c.id),
        c.severity.name(),
        shown(&c.title)
    );
    if explained {
        out.push_str("\n  -> explained by the diagnosis above; what this case checks:");
    }
    if c.status() != CaseStatus::Passed {
        for (i, line) in c.message().lines().map(shown).enumerate() {
            let prefix = if i == 0 && !explained {
                "  -> "
            } else {
                "     "
            };
            out.push('\n');
            out.push_str(prefix);
            out.push_str(&line);
        }
        if c.status() == CaseStatus::Failed {
            let at = c
                .first_failure()
                .and_then(|check| check.source.as_ref())
                .or(c.source.as_ref());
            if let Some(at) = at {
                out.push_str(&format!("\n     at {at}"));
            }
            if !c.receiver_log.is_empty() {
                let skip = c.receiver_log.len().saturating_sub(CONSOLE_LOG_LINES);
                out.push_str(&format!(
                    "\n     the receiver wrote while it ran{}:",
                    if skip > 0 { " (last lines)" } else { "" }
                ));
                for line in &c.receiver_log[skip..] {
                    out.push_str(&format!("\n       {line}"));
                }
            }
        }
    }
    out
}

/// A diff with removed lines red and added lines green (when colours are on).
pub fn colorize(diff: &str) -> String {
    diff.lines()
        .map(|line| match line.as_bytes().first() {
            Some(b'-') => style(line).red().to_string(),
            Some(b'+') => style(line).green().to_string(),
            Some(b'@') => style(line).cyan().to_string(),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
