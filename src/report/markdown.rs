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
        let _ = writeln!(md, "> **Diagnosis:** {}\n", plain(&lead.words));
    }
    if let Some(reason) = &outcome.stopped {
        let _ = writeln!(
            md,
            "> **Stopped:** {}; the report is partial.\n",
            plain(&reason.to_string())
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
                        format!("expected {}, got {}", code(expected), code(actual)),
                        check
                            .source
                            .as_ref()
                            .or(c.source.as_ref())
                            .map(|s| s.to_string()),
                    ),
                    _ => (plain(&short(&c.title)), None),
                },
                None => (plain(&short(&c.message())), None),
            };
            // A failure the run's diagnosis explains is fixed by its fix.
            let fix = if options.explained(c) {
                "see the diagnosis above".to_owned()
            } else {
                plain(&short(c.fix.as_deref().unwrap_or_default()))
            };
            let _ = writeln!(
                md,
                "| {verdict} | {} | {} | {} | {} | {} |",
                cell(&code(&c.id)),
                c.severity.name(),
                cell(&what),
                cell(&fix),
                at.map(|a| cell(&code(&a))).unwrap_or_default()
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

/// Text fit for one table cell: one line, no bare `|` (its parts are
/// bounded by [`code`] and [`plain`]).
fn cell(text: &str) -> String {
    text.replace(['\n', '\r'], " ").replace('|', "\\|")
}

/// Text from outside (a scenario's title or fix, the diagnosis) as plain
/// Markdown text on one line, the characters that make markup
/// backslash-escaped, so that no link, image, emphasis, code or HTML is
/// made of it.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '!' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// At most 200 characters of `text` (one line), `…` when cut.
fn short(text: &str) -> String {
    let one_line = text.replace(['\n', '\r'], " ");
    let mut short: String = one_line.chars().take(200).collect();
    if short.len() < one_line.len() {
        short.push('…');
    }
    short
}

/// Text from outside (what a receiver answered) as a Markdown code span, so
/// that a link, an image or HTML in it is shown, not rendered: one line, at
/// most 200 characters, fenced with more backticks than it holds.
fn code(text: &str) -> String {
    let short = short(text);
    let longest_run = short.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // A span that starts or ends with a backtick needs a space inside.
    let pad = if short.starts_with('`') || short.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{short}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_receiver_said_is_code_and_renders_as_nothing_else() {
        assert_eq!(code("a [link](http://x)"), "`a [link](http://x)`");
        assert_eq!(
            code("<img src=x onerror=alert(1)>"),
            "`<img src=x onerror=alert(1)>`"
        );
        // Backticks inside: a longer fence, padded where the text touches it.
        assert_eq!(code("a `b` c"), "``a `b` c``");
        assert_eq!(code("`x``"), "``` `x`` ```");
        assert_eq!(code("line\nbreak"), "`line break`");
        assert!(code(&"x".repeat(300)).ends_with("…`"));
    }

    #[test]
    fn plain_text_makes_no_markup() {
        assert_eq!(
            plain("see ![i](u) and [l](u) <b>*x*</b>"),
            "see \\!\\[i\\](u) and \\[l\\](u) \\<b\\>\\*x\\*\\</b\\>"
        );
        assert_eq!(
            plain("Handle `generations: []`."),
            "Handle \\`generations: \\[\\]\\`."
        );
    }
}
