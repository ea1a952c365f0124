//! The Markdown summary (`--report-markdown`, and `$GITHUB_STEP_SUMMARY`
//! when it is set): the failures and warnings, one line each, and the totals.

use std::fmt::Write;

use super::ReportOptions;
use crate::result::{CaseStatus, CheckResult, RunResult};

/// The summary as Markdown.
pub fn render(outcome: &RunResult, options: &ReportOptions, title: &str) -> String {
    let summary = outcome.summary(options.strict);
    let mut md = format!("## {title}: {}\n\n", summary.line());
    if let Some(lead) = &options.lead {
        let _ = writeln!(
            md,
            "> **Diagnosis:** {}\n",
            lead.words.replace(['\n', '\r'], " ")
        );
    }
    if let Some(reason) = &outcome.stopped {
        let _ = writeln!(
            md,
            "> **Stopped:** {}; the report is partial.\n",
            cell(&reason.to_string())
        );
    }
    let listed: Vec<_> = outcome
        .cases
        .iter()
        .filter(|c| c.status() == CaseStatus::Failed || c.fails_run(options.strict))
        .collect();
    if listed.is_empty() {
        md.push_str("No failure and no warning.\n\n");
    } else {
        md.push_str(
            "| verdict | case | severity | what happened | fix | where |\n|---|---|---|---|---|---|\n",
        );
        for c in listed {
            let verdict = match (c.status(), c.fails_run(options.strict)) {
                (CaseStatus::Skipped, _) => "FAIL (not verified, --strict)",
                (_, true) => "FAIL",
                (_, false) => "warn",
            };
            let (what, at) = match c.first_failure() {
                Some(check) => match &check.outcome {
                    CheckResult::Failed { expected, actual } => (
                        format!("expected {expected}, got {actual}"),
                        check
                            .source
                            .as_ref()
                            .or(c.source.as_ref())
                            .map(|s| s.to_string()),
                    ),
                    _ => (c.title.clone(), None),
                },
                None => (c.message(), None),
            };
            // A failure the run's diagnosis explains is fixed by its fix.
            let fix = if options.explained(c) {
                "see the diagnosis above".to_owned()
            } else {
                c.fix.clone().unwrap_or_default()
            };
            let _ = writeln!(
                md,
                "| {verdict} | `{}` | {} | {} | {} | {} |",
                c.id,
                c.severity.name(),
                cell(&what),
                cell(&fix),
                at.map(|a| format!("`{a}`")).unwrap_or_default()
            );
        }
        md.push('\n');
    }
    if let Some(snapshots) = &outcome.snapshots {
        let _ = writeln!(md, "{}\n", snapshots.summary_line());
    }
    let _ = writeln!(
        md,
        "Totals: {} in {}, against `{}`.",
        summary.line(),
        crate::sender::format_duration(outcome.duration),
        outcome.url
    );
    options.redact(&md)
}

/// Text fit for one table cell: one line, no `|`, at most 200 characters.
fn cell(text: &str) -> String {
    let one_line = text.replace(['\n', '\r'], " ").replace('|', "\\|");
    let mut short: String = one_line.chars().take(200).collect();
    if short.len() < one_line.len() {
        short.push('…');
    }
    short
}
