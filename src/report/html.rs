//! The HTML report (`--report-html`): one self-contained file to read
//! offline as a CI artifact. No script, no font, no link outside the file:
//! the filter (failed / with warnings / all) is three radio buttons and CSS.

use std::fmt::Write;

use html_escape::encode_text as text;

use super::ReportOptions;
use crate::result::{CaseResult, CaseStatus, CheckResult, RunResult};
use crate::sender::Attempt;

/// Bytes of a body shown per exchange.
const BODY_SHOWN: usize = 2048;

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1em 2em; color: #1d1d1f; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.1em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.meta { color: #666; margin-top: 0; }
.lead { background: #fff3cd; border-left: 4px solid #d39e00; padding: .6em 1em; }
.note { color: #555; }
table.summary { border-collapse: collapse; margin: 1em 0; }
table.summary td, table.summary th { border: 1px solid #ddd; padding: .3em .9em; text-align: right; }
.filter label { margin-right: 1.2em; cursor: pointer; }
#show-failed:checked ~ main .case:not(.failed) { display: none; }
#show-warnings:checked ~ main .case:not(.failed):not(.warning) { display: none; }
details.case { border: 1px solid #ddd; border-radius: 4px; margin: .4em 0; padding: .3em .8em; }
details.case > summary { cursor: pointer; }
.status { font-weight: 600; display: inline-block; min-width: 5.5em; }
.failed .status { color: #b00020; } .warning .status { color: #a66a00; } .passed .status { color: #1a7f37; }
.skipped .status, .notrun .status { color: #777; }
.severity { color: #666; }
dl.why { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
dl.why dt { font-weight: 600; }
pre { background: #f6f8fa; padding: .5em .8em; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12.5px; }
ol.steps > li { margin-bottom: .6em; }
.diff .add { color: #1a7f37; } .diff .del { color: #b00020; }
"#;

/// The report as an HTML document.
pub fn render(outcome: &RunResult, options: &ReportOptions, title: &str) -> String {
    let summary = outcome.summary(options.strict);
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width\">\n<title>{} — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        text(title),
        text(&summary.line())
    );
    let _ = write!(
        h,
        "<header>\n<h1>{}</h1>\n<p class=\"meta\">against <code>{}</code>, {} in {}{}</p>\n",
        text(title),
        text(&outcome.url),
        crate::result::count(summary.total, "case"),
        text(&crate::sender::format_duration(outcome.duration)),
        if options.strict { ", --strict" } else { "" }
    );
    if let Some(lead) = &options.lead {
        let _ = writeln!(
            h,
            "<p class=\"lead\" id=\"diagnosis\">{}</p>",
            text(&lead.words)
        );
    }
    if let Some(reason) = &outcome.stopped {
        let _ = writeln!(
            h,
            "<p class=\"lead\" id=\"stopped\">Stopped: {}. The cases after it were not run; this report is partial.</p>",
            text(&reason.to_string())
        );
    }
    let _ = writeln!(
        h,
        "<table class=\"summary\"><tr><th>passed</th><th>failed</th><th>warnings</th><th>skipped</th><th>not run</th><th>total</th></tr>\n<tr><td class=\"passed\">{}</td><td class=\"failed\">{}</td><td class=\"warnings\">{}</td><td class=\"skipped\">{}</td><td class=\"notrun\">{}</td><td class=\"total\">{}</td></tr></table>",
        summary.passed,
        summary.failed,
        summary.warnings,
        summary.skipped,
        summary.not_run,
        summary.total
    );
    for note in &outcome.notes {
        let _ = writeln!(h, "<p class=\"note\">Note: {}</p>", text(note));
    }
    h.push_str("</header>\n");
    let shown_failed = summary.failed;
    let _ = write!(
        h,
        "<div class=\"filter\">Show:\n<input type=\"radio\" name=\"show\" id=\"show-failed\"{}><label for=\"show-failed\">failed ({shown_failed})</label>\n<input type=\"radio\" name=\"show\" id=\"show-warnings\"><label for=\"show-warnings\">failed and warnings ({})</label>\n<input type=\"radio\" name=\"show\" id=\"show-all\"{}><label for=\"show-all\">all ({})</label>\n",
        if shown_failed > 0 { " checked" } else { "" },
        summary.failed + summary.warnings,
        if shown_failed > 0 { "" } else { " checked" },
        summary.total
    );
    h.push_str("<main>\n");
    let mut files: Vec<(&str, Vec<&CaseResult>)> = Vec::new();
    for c in &outcome.cases {
        let file = c
            .source
            .as_ref()
            .map(|s| s.file.as_str())
            .unwrap_or_else(|| c.id.split('.').next().unwrap_or(&c.id));
        match files.iter_mut().find(|(f, _)| *f == file) {
            Some((_, cases)) => cases.push(c),
            None => files.push((file, vec![c])),
        }
    }
    let mut first_failure_open = false;
    for (file, cases) in files {
        let _ = writeln!(h, "<section class=\"file\">\n<h2>{}</h2>", text(file));
        for c in cases {
            // The first failure opens; the others are one line until clicked.
            let open = !first_failure_open && c.status() == CaseStatus::Failed;
            first_failure_open |= open;
            case(&mut h, c, options, open);
        }
        h.push_str("</section>\n");
    }
    h.push_str("</main>\n</div>\n");
    if let Some(snapshots) = &outcome.snapshots {
        let _ = writeln!(
            h,
            "<section id=\"snapshots\">\n<h2>Snapshots</h2>\n<p>{}</p>",
            text(&snapshots.summary_line())
        );
        for (c, same) in snapshots.failures_grouped() {
            let _ = writeln!(
                h,
                "<h3>snapshot {} {}</h3>",
                text(c.status.name()),
                text(&c.id)
            );
            if !same.is_empty() {
                let ids: Vec<&str> = same.iter().map(|s| s.id.as_str()).collect();
                let _ = writeln!(h, "<p>The same change in {}.</p>", text(&ids.join(", ")));
            }
            if let Some(diff) = &c.diff {
                h.push_str("<pre class=\"diff\">");
                for line in diff.lines() {
                    let class = match line.as_bytes().first() {
                        Some(b'+') => " class=\"add\"",
                        Some(b'-') => " class=\"del\"",
                        _ => "",
                    };
                    let _ = writeln!(h, "<span{class}>{}</span>", text(line));
                }
                h.push_str("</pre>\n");
            }
        }
        h.push_str("</section>\n");
    }
    h.push_str(
        "<footer class=\"meta\"><p>Written by webhook-harness. The webhook id is masked.</p></footer>\n</body>\n</html>\n",
    );
    options.redact(&h)
}

fn case(h: &mut String, c: &CaseResult, options: &ReportOptions, open: bool) {
    let status = c.status();
    let (class, tag) = match status {
        CaseStatus::Passed if c.finding => ("passed", "fixed"),
        CaseStatus::Passed => ("passed", "pass"),
        CaseStatus::Skipped if c.fails_run(options.strict) => ("failed", "FAIL (not verified)"),
        CaseStatus::Skipped => ("skipped", "skip"),
        CaseStatus::NotRun => ("notrun", "not run"),
        CaseStatus::NotApplicable => ("notrun", "not applicable"),
        CaseStatus::Failed if c.finding => ("failed", "still failing"),
        CaseStatus::Failed if c.fails_run(options.strict) => ("failed", "FAIL"),
        CaseStatus::Failed => ("warning", "warn"),
    };
    let open = if open { " open" } else { "" };
    let _ = writeln!(
        h,
        "<details class=\"case {class}\" id=\"case-{}\"{open}>\n<summary><span class=\"status\">{tag}</span> <code>{}</code> <span class=\"severity\">[{}]</span> {}</summary>",
        html_escape::encode_double_quoted_attribute(&c.id),
        text(&c.id),
        c.severity.name(),
        text(&c.title)
    );
    if status != CaseStatus::Passed {
        h.push_str("<dl class=\"why\">\n");
        if let Some(req) = &c.requirement
            && status == CaseStatus::Failed
        {
            let _ = writeln!(h, "<dt>Requirement</dt><dd>{}</dd>", text(req.trim()));
        }
        for rule in &c.rules {
            let _ = writeln!(
                h,
                "<dt>Contract</dt><dd><code>{}</code>: {}</dd>",
                text(rule.id),
                text(rule.says)
            );
        }
        if status == CaseStatus::Failed {
            if options.explained(c) {
                h.push_str("<dt>Fix</dt><dd>explained by the diagnosis above</dd>\n");
            } else if let Some(fix) = &c.fix {
                let _ = writeln!(h, "<dt>Fix</dt><dd>{}</dd>", text(fix));
            }
        }
        match c.first_failure().map(|check| (check, &check.outcome)) {
            Some((check, CheckResult::Failed { expected, actual })) => {
                let _ = writeln!(
                    h,
                    "<dt>Expected</dt><dd>{} <span class=\"meta\">(step {}, {})</span></dd>\n<dt>Actual</dt><dd>{}</dd>",
                    text(expected),
                    check.step,
                    text(&check.what),
                    text(actual)
                );
                if let Some(at) = check.source.as_ref().or(c.source.as_ref()) {
                    let _ = writeln!(
                        h,
                        "<dt>At</dt><dd><code>{}</code></dd>",
                        text(&at.to_string())
                    );
                }
            }
            _ => {
                let _ = writeln!(h, "<dt>Why</dt><dd>{}</dd>", text(&c.message()));
            }
        }
        h.push_str("</dl>\n");
    }
    if !c.steps.is_empty() {
        h.push_str("<ol class=\"steps\">\n");
        for step in &c.steps {
            let _ = write!(
                h,
                "<li><span class=\"action\">{}</span>{}",
                text(&step.action),
                if step.concurrent {
                    " (sent at once)"
                } else {
                    ""
                }
            );
            for attempt in &step.attempts {
                exchange(h, attempt, options);
            }
            h.push_str("</li>\n");
        }
        h.push_str("</ol>\n");
    }
    if !c.receiver_log.is_empty() {
        let _ = writeln!(
            h,
            "<h4>What the receiver wrote while the case ran</h4>\n<pre class=\"log\">{}</pre>",
            text(&c.receiver_log.join("\n"))
        );
    }
    h.push_str("</details>\n");
}

fn exchange(h: &mut String, a: &Attempt, options: &ReportOptions) {
    let mut request = format!("{} {}\n", a.method, a.url);
    for (k, v) in &a.request_headers {
        let _ = writeln!(request, "{k}: {v}");
    }
    if a.request_body_len > 0 {
        request.push('\n');
        request.push_str(&shown(&a.request_body, a.request_body_len));
    }
    let mut answer = a.describe();
    answer.push('\n');
    for (k, v) in &a.headers {
        let _ = writeln!(answer, "{k}: {v}");
    }
    if !a.body.is_empty() {
        answer.push('\n');
        answer.push_str(&shown(
            &a.body,
            a.body.len() + usize::from(a.body_truncated),
        ));
    }
    let _ = writeln!(
        h,
        "<pre class=\"request\">{}</pre>\n<pre class=\"answer\">{}</pre>\n<pre class=\"curl\">{}</pre>",
        text(&request),
        text(&answer),
        text(&curl(a, options.secret.as_deref()))
    );
}

/// At most [`BODY_SHOWN`] bytes of a body as text, saying when there is more.
fn shown(body: &[u8], whole: usize) -> String {
    let cut = &body[..body.len().min(BODY_SHOWN)];
    let mut out = String::from_utf8_lossy(cut).into_owned();
    if whole > cut.len() {
        let _ = write!(
            out,
            "\n… ({} bytes in all, first {} shown)",
            whole,
            cut.len()
        );
    }
    out
}

/// A curl command that sends the request again (the webhook id read from
/// `$WEBHOOK_HARNESS_WEBHOOK_ID`), when the body was kept whole.
fn curl(a: &Attempt, secret: Option<&str>) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut out = format!("curl -i -X {} {}", a.method, quote(&a.url));
    for (k, v) in &a.request_headers {
        match secret.filter(|s| !s.is_empty() && v.contains(*s)) {
            Some(s) => {
                let parts: Vec<String> = v.split(s).map(&quote).collect();
                let _ = write!(
                    out,
                    " -H {}",
                    quote(&format!("{k}: ")) + &parts.join("\"$WEBHOOK_HARNESS_WEBHOOK_ID\"")
                );
            }
            None => {
                let _ = write!(out, " -H {}", quote(&format!("{k}: {v}")));
            }
        }
    }
    if a.request_body_len > 0 {
        if a.request_body_len <= a.request_body.len() {
            let body = String::from_utf8_lossy(&a.request_body);
            let quoted = match secret.filter(|s| !s.is_empty()) {
                Some(s) => body
                    .split(s)
                    .map(&quote)
                    .collect::<Vec<_>>()
                    .join("\"$WEBHOOK_HARNESS_WEBHOOK_ID\""),
                None => quote(&body),
            };
            let _ = write!(out, " --data-binary {quoted}");
        } else {
            let _ = write!(
                out,
                " --data-binary @body.json   # the {}-byte body is not kept whole",
                a.request_body_len
            );
        }
    }
    out
}
