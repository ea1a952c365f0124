//! The HTML report of `load`: the figures, and two charts drawn as inline
//! SVG: latency percentiles (log scale) and throughput and errors over time.

use std::fmt::Write;

use html_escape::encode_text as text;

use super::ReportOptions;
use crate::load::{Live, LoadReport};

const STYLE: &str = "body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1000px; padding: 1em 2em; }
table.figures { border-collapse: collapse; } table.figures td, table.figures th { border: 1px solid #ddd; padding: .25em .8em; text-align: left; }
svg { background: #fafafa; border: 1px solid #ddd; margin: .5em 0; } .axis { stroke: #999; } .label { font-size: 11px; fill: #444; }";

/// The load report as an HTML document; `samples` are the live figures
/// taken during the run (about two a second).
pub fn render(report: &LoadReport, samples: &[Live], options: &ReportOptions) -> String {
    let mut h = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>webhook-harness load — {:.0} deliveries/s</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>webhook-harness load</h1>\n<p>against <code>{}</code>, {}</p>\n",
        report.deliveries_per_second,
        text(&report.target),
        text(&report.mode)
    );
    let us = |v: u64| crate::sender::format_duration(std::time::Duration::from_micros(v));
    let l = &report.latency;
    let rows = [
        ("duration", format!("{:.2} s", report.duration_ms / 1000.0)),
        (
            "deliveries",
            format!(
                "{} + {} duplicate copies: {} delivered, {} failed (error rate {:.2}%)",
                report.deliveries,
                report.duplicates,
                report.delivered,
                report.failed,
                report.error_rate * 100.0
            ),
        ),
        (
            "requests",
            format!("{} ({} retries)", report.requests, report.retries),
        ),
        (
            "throughput",
            format!(
                "{:.0} deliveries/s, {:.0} requests/s",
                report.deliveries_per_second, report.requests_per_second
            ),
        ),
        (
            "no answer",
            format!(
                "{} timeouts, {} connection errors",
                report.timeouts, report.connection_errors
            ),
        ),
        (
            "latency",
            format!(
                "p50 {}, p90 {}, p99 {}, p99.9 {}, max {}",
                us(l.p50_us),
                us(l.p90_us),
                us(l.p99_us),
                us(l.p999_us),
                us(l.max_us)
            ),
        ),
        (
            "idempotency",
            if report.probed == 0 {
                "not checked (no --effects-url)".to_owned()
            } else {
                format!(
                    "{} keys probed, {} violations",
                    report.probed,
                    report.violations.len() + report.per_process.len()
                )
            },
        ),
    ];
    h.push_str("<table class=\"figures\">\n");
    for (name, value) in rows {
        let _ = writeln!(h, "<tr><th>{name}</th><td>{}</td></tr>", text(&value));
    }
    h.push_str("</table>\n<h2>Latency percentiles</h2>\n");
    let points = [
        ("p50", l.p50_us),
        ("p90", l.p90_us),
        ("p99", l.p99_us),
        ("p99.9", l.p999_us),
        ("max", l.max_us),
    ];
    h.push_str(&percentile_chart(&points));
    h.push_str("<h2>Throughput and errors over time</h2>\n");
    h.push_str(&time_chart(samples));
    h.push_str("</body>\n</html>\n");
    options.redact(&h)
}

const W: f64 = 900.0;
const H: f64 = 260.0;
const PAD: f64 = 50.0;

/// Bars of the percentiles on a log scale of microseconds.
fn percentile_chart(points: &[(&str, u64)]) -> String {
    let top = points.iter().map(|p| p.1).max().unwrap_or(1).max(10) as f64;
    let log = |v: f64| (v.max(1.0)).log10() / top.log10();
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"latency percentiles\">\n"
    );
    let _ = writeln!(
        s,
        "<line class=\"axis\" x1=\"{PAD}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
        H - PAD,
        W - 10.0,
        H - PAD
    );
    let step = (W - PAD - 20.0) / points.len() as f64;
    for (i, (name, v)) in points.iter().enumerate() {
        let height = log(*v as f64) * (H - 2.0 * PAD);
        let x = PAD + 10.0 + i as f64 * step;
        let _ = writeln!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{height:.1}\" fill=\"#4a78c2\"/><text class=\"label\" x=\"{x:.1}\" y=\"{:.1}\">{name}</text><text class=\"label\" x=\"{x:.1}\" y=\"{:.1}\">{}</text>",
            H - PAD - height,
            step * 0.6,
            H - PAD + 15.0,
            H - PAD - height - 4.0,
            text(&crate::sender::format_duration(
                std::time::Duration::from_micros(*v)
            ))
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Deliveries per second (line) and errors so far (line), against time.
fn time_chart(samples: &[Live]) -> String {
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"throughput and errors over time\">\n"
    );
    let _ = writeln!(
        s,
        "<line class=\"axis\" x1=\"{PAD}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
        H - PAD,
        W - 10.0,
        H - PAD
    );
    let end = samples
        .last()
        .map(|l| l.elapsed.as_secs_f64())
        .unwrap_or(0.0)
        .max(0.001);
    let top_rate = samples.iter().map(|l| l.rate).fold(1.0, f64::max);
    let top_err = samples.iter().map(|l| l.failed).max().unwrap_or(0).max(1) as f64;
    let x = |t: f64| PAD + t / end * (W - PAD - 20.0);
    let y = |v: f64, top: f64| H - PAD - v / top * (H - 2.0 * PAD);
    let line = |f: &dyn Fn(&Live) -> f64, top: f64| {
        samples
            .iter()
            .map(|l| format!("{:.1},{:.1}", x(l.elapsed.as_secs_f64()), y(f(l), top)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(
        s,
        "<polyline fill=\"none\" stroke=\"#4a78c2\" stroke-width=\"2\" points=\"{}\"/>",
        line(&|l| l.rate, top_rate)
    );
    let _ = writeln!(
        s,
        "<polyline fill=\"none\" stroke=\"#b00020\" stroke-width=\"2\" points=\"{}\"/>",
        line(&|l| l.failed as f64, top_err)
    );
    let _ = writeln!(
        s,
        "<text class=\"label\" x=\"{PAD}\" y=\"20\">deliveries/s (blue, up to {top_rate:.0}); errors so far (red, up to {top_err:.0}); {end:.1} s</text>"
    );
    s.push_str("</svg>\n");
    s
}
