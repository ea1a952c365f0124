//! `webhook-harness load`: bursts of deliveries, a live line, a final table.

use std::time::Duration;

use clap::Args;

use super::args::{DeliveryArgs, TargetArgs};
use super::parse_duration;

/// `load` arguments.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LoadArgs {
    #[command(subcommand)]
    pub command: Option<LoadCommand>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Requests in flight at most (closed loop: exactly this many).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub concurrency: u16,
    /// Open loop: this many deliveries per second (e.g. 500/s), whatever the
    /// receiver does. Without it: closed loop at --concurrency.
    #[arg(long, value_parser = crate::load::parse_rate)]
    pub rate: Option<f64>,
    /// Run for this long.
    #[arg(long, value_parser = parse_duration, conflicts_with = "deliveries")]
    pub duration: Option<Duration>,
    /// Stop after this many deliveries (default 10000 when --duration is not given).
    #[arg(long)]
    pub deliveries: Option<u64>,
    /// Event shares, e.g. generation=70,embedding=20,group=10.
    #[arg(long, value_parser = crate::load::Mix::parse)]
    pub mix: Option<crate::load::Mix>,
    /// Share of deliveries sent twice (half as concurrent copies), e.g. 5%.
    #[arg(long, default_value = "5%", value_parser = crate::load::parse_fraction)]
    pub duplicates: f64,
    /// Payload sizes: mixed (1-48 KB, realistic) or small (one size, to compare with oha).
    #[arg(long, default_value = "mixed", value_parser = crate::load::Sizes::parse)]
    pub sizes: crate::load::Sizes,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Highest share of failed deliveries that still passes, e.g. 1%.
    #[arg(long, default_value = "0%", value_parser = crate::load::parse_fraction)]
    pub max_error_rate: f64,
    /// Stop (exit 1) when no request has been answered for this long
    /// (default: the timeout plus 5 s, at least 10 s).
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub unanswered_for: Option<Duration>,
    /// A deadline for the whole command: when it passes, what is in flight is
    /// cut, the figures so far are reported, and the exit code is 1.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub max_time: Option<Duration>,
    /// Write a JSON report to FILE (`-`: to standard output).
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<std::path::PathBuf>,
    /// Write a self-contained HTML report (figures and charts) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_html: Option<std::path::PathBuf>,
    /// Write the latency histogram to FILE as an HdrHistogram interval log
    /// (one interval each 0.5 s), for `load merge` and HdrHistogram's tools.
    #[arg(long, value_name = "FILE")]
    pub hdr_log: Option<std::path::PathBuf>,
}

/// `load`'s subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum LoadCommand {
    /// Combine the --hdr-log files of several load runners into one report.
    Merge(MergeArgs),
}

/// `load merge` arguments.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Interval logs written by `load --hdr-log`, one per runner.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<std::path::PathBuf>,
    /// Write a JSON report to FILE (`-`: to standard output).
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<std::path::PathBuf>,
}

use std::io::IsTerminal;

use crate::load::{self, LoadConfig, LoadReport, Until};
use crate::report::{self, ReportOptions};
use crate::sender::format_duration;

use super::target::{ReceiverUnderTest, check_reachable};
use super::{exit, usage_error};

pub(super) async fn run(args: &LoadArgs) -> i32 {
    if let Some(LoadCommand::Merge(merge)) = &args.command {
        return self::merge(merge);
    }
    let target = match ReceiverUnderTest::start(&args.target).await {
        Ok(t) => t,
        Err(e) => return super::target::failed(e),
    };
    let (url, effects_url) = (target.url.clone(), target.effects_url.clone());
    let until = match (args.duration, args.deliveries) {
        (Some(d), _) => Until::After(d),
        (None, Some(n)) => Until::Deliveries(n),
        (None, None) => Until::Deliveries(10_000),
    };
    let stop = super::stop_signal(args.max_time);
    let sender_config = match args.delivery.sender_config(false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let unanswered_window = args
        .unanswered_for
        .unwrap_or_else(|| load::default_unanswered_window(args.delivery.timeout));
    let config = LoadConfig {
        replicas: target.replicas(),
        replica_effects_urls: target.replica_effects_urls.clone(),
        url: url.clone(),
        webhook_id: args.target.webhook_id.clone(),
        concurrency: usize::from(args.concurrency),
        rate: args.rate,
        until,
        mix: args.mix.clone().unwrap_or_default(),
        duplicates: args.duplicates,
        sizes: args.sizes,
        sender: sender_config.clone(),
        effects_url,
        unanswered_window,
        stop: stop.clone(),
        hdr_log: args.hdr_log.clone(),
    };
    // Readiness once per run, as the sender does before delivering.
    // The preflight fits in the run: no longer than --duration.
    let preflight_timeout = match until {
        Until::After(d) => sender_config.timeout.min(d),
        Until::Deliveries(_) => sender_config.timeout,
    };
    let preflight = crate::sender::Sender::new(crate::sender::SenderConfig {
        readiness: true,
        timeout: preflight_timeout,
        ..sender_config
    });
    let sender = match preflight {
        Ok(s) => s.with_cancel(stop.token().clone()),
        Err(e) => return usage_error(e),
    };
    let preflight_started = std::time::Instant::now();
    {
        let ready = match check_reachable(&sender, &url).await {
            Ok(ready) => ready,
            Err(code) => return code,
        };
        if ready.outcome != crate::sender::Outcome::Success {
            crate::output::outln!(
                "note: the readiness check (OPTIONS) got {}; the real sender would deliver nothing. Loading anyway.",
                ready.answer()
            );
        }
    }
    // --duration counts from the start: the readiness check is part of it.
    let mut config = config;
    if let Until::After(d) = until {
        config.until = Until::After(d.saturating_sub(preflight_started.elapsed()));
    }
    crate::output::outln!(
        "load on {url}{}: {}, {}, {}{}",
        target.label(),
        match args.rate {
            Some(r) => format!("open loop at {r}/s, up to {} in flight", args.concurrency),
            None => format!("closed loop, {} in flight", args.concurrency),
        },
        match until {
            Until::After(d) => format!("for {}", format_duration(d)),
            Until::Deliveries(n) => format!("{n} deliveries"),
        },
        target.webhook_id_label(&args.target),
        super::config::banner_note()
    );
    let interactive = std::io::stderr().is_terminal() && !report::in_ci();
    let mut samples: Vec<crate::load::Live> = Vec::new();
    let result = load::run(config, |live| {
        samples.push(live);
        let line = format!(
            "{:>6.1}s  {} deliveries  {:.0}/s  {} errors  p99 {}",
            live.elapsed.as_secs_f64(),
            live.deliveries,
            live.rate,
            live.failed,
            format_duration(live.p99)
        );
        if interactive {
            crate::output::err!("\r\x1b[2K{line}");
        } else {
            crate::output::errln!("{line}");
        }
    })
    .await;
    if interactive {
        crate::output::err!("\r\x1b[2K");
    }
    let receiver_died = target.shutdown().await;
    let report = match result {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    if args.report_json.as_deref() == Some(std::path::Path::new("-")) {
        crate::output::err!("{}", table(&report));
    } else {
        crate::output::out!("{}", table(&report));
    }
    let options = ReportOptions {
        strict: false,
        secret: Some(args.target.webhook_id.clone()),
        show_secrets: args.target.show_secrets,
        lead: None,
    };
    if let Some(path) = &args.report_json {
        let text = options.redact(&serde_json::to_string_pretty(&report).unwrap_or_default());
        let written = if path.as_os_str() == "-" {
            crate::output::outln!("{text}");
            Ok(())
        } else {
            report::write_file(path, &text)
        };
        if let Err(e) = written {
            return usage_error(e);
        }
    }
    if let Some(path) = &args.report_html {
        let html = report::load_html::render(&report, &samples, &options);
        if let Err(e) = report::write_file(path, &html) {
            return usage_error(e);
        }
    }
    if let Some(code) = receiver_died {
        return code;
    }
    let mut problems = Vec::new();
    if let Some(reason) = &report.stopped {
        problems.push(format!("stopped early: {reason}"));
    } else if report.status.total() == 0 {
        problems.push("no request was answered before the end of the run".to_owned());
    }
    if report.error_rate > args.max_error_rate {
        problems.push(format!(
            "error rate {:.2}% is above --max-error-rate {:.2}%",
            report.error_rate * 100.0,
            args.max_error_rate * 100.0
        ));
    }
    if let Some(said) = report.refusals_said().filter(|_| !problems.is_empty()) {
        problems.push(said);
    }
    if !report.violations.is_empty() {
        problems.push(format!(
            "{} of {} probed keys had an effect count other than 1",
            report.violations.len(),
            report.probed
        ));
    }
    if !report.per_process.is_empty() {
        problems.push(format!(
            "{} of {} probed keys were counted differently by different processes of the receiver: it keeps its record of handled keys per process, so a retry reaching another process does the work again (docs/receiver-mistakes.md#11-handled-keys-kept-in-memory)",
            report.per_process.len(),
            report.probed
        ));
    }
    if let Some(e) = &report.probe_error {
        problems.push(format!("the effects probe failed: {e}"));
    }
    if let Some(e) = &report.hdr_log_error {
        problems.push(format!(
            "{e}; the figures above are complete, the log is not"
        ));
    }
    if problems.is_empty() {
        // Say only what was checked.
        if report.probed > 0 {
            crate::output::outln!(
                "ok: no idempotency violation, error rate within {:.2}%",
                args.max_error_rate * 100.0
            );
        } else {
            crate::output::outln!(
                "ok: error rate within {:.2}%; idempotency not checked (pass --effects-url to check it)",
                args.max_error_rate * 100.0
            );
        }
        exit::SUCCESS
    } else {
        for p in &problems {
            crate::output::outln!("FAIL: {p}");
        }
        super::stopped_exit(&stop).unwrap_or(exit::FAILURE)
    }
}

/// The final table.
pub fn table(r: &LoadReport) -> String {
    let l = &r.latency;
    let us = |v: u64| format_duration(std::time::Duration::from_micros(v));
    let mut out = format!(
        "\n{}\n  duration        {:.2}s\n  deliveries      {} + {} duplicate copies: {} delivered, {} failed (error rate {:.2}%)\n  requests        {} ({} retries)\n  throughput      {:.0} deliveries/s, {:.0} requests/s\n  status          2xx {}  3xx {}  4xx {}  5xx {}  other {}\n  no answer       {} timeouts, {} connection errors\n  cut at the end  {} requests in flight (not counted as errors)\n  latency         p50 {}  p90 {}  p99 {}  p99.9 {}  max {}\n",
        r.mode,
        r.duration_ms / 1000.0,
        r.deliveries,
        r.duplicates,
        r.delivered,
        r.failed,
        r.error_rate * 100.0,
        r.requests,
        r.retries,
        r.deliveries_per_second,
        r.requests_per_second,
        r.status.success,
        r.status.redirect,
        r.status.client_error,
        r.status.server_error,
        r.status.informational + r.status.other,
        r.timeouts,
        r.connection_errors,
        r.cut_by_deadline,
        us(l.p50_us),
        us(l.p90_us),
        us(l.p99_us),
        us(l.p999_us),
        us(l.max_us),
    );
    if r.probed > 0 {
        out.push_str(&format!(
            "  idempotency     {} keys probed, {} violations\n",
            r.probed,
            r.violations.len() + r.per_process.len()
        ));
        for (key, answers) in r.per_process.iter().take(20) {
            let answers: Vec<String> = answers.iter().map(u64::to_string).collect();
            out.push_str(&format!(
                "    {key}: counted {} by different processes\n",
                answers.join(", ")
            ));
        }
        for (key, count) in r
            .violations
            .iter()
            .take(20usize.saturating_sub(r.per_process.len()))
        {
            out.push_str(&format!("    {key}: effect count {count}\n"));
        }
        let listed = r.violations.len() + r.per_process.len();
        if listed > 20 {
            out.push_str(&format!(
                "    … and {} more (see --report-json)\n",
                listed - 20
            ));
        }
    } else {
        out.push_str("  idempotency     not checked (no --effects-url)\n");
    }
    if r.resent_after_closed_connection > 0 {
        out.push_str(&format!(
            "  resent          {} requests, on a fresh connection after the receiver had closed a kept-alive one (not errors)\n",
            r.resent_after_closed_connection
        ));
    }
    if let Some(mib) = r.peak_rss_mib {
        out.push_str(&format!("  memory          peak {mib} MiB resident\n"));
    }
    out
}

/// `load merge`: several runners' interval logs as one set of figures.
fn merge(args: &MergeArgs) -> i32 {
    let merged = match load::hdr_log::merge(&args.files) {
        Ok(m) => m,
        Err(e) => {
            crate::output::errln!("error: {e}");
            return exit::USAGE;
        }
    };
    let to_stdout = args.report_json.as_deref() == Some(std::path::Path::new("-"));
    let text = merge_table(&merged);
    if to_stdout {
        crate::output::err!("{text}");
    } else {
        crate::output::out!("{text}");
    }
    if let Some(path) = &args.report_json {
        let json = serde_json::to_string_pretty(&merged).unwrap_or_default();
        if to_stdout {
            crate::output::outln!("{json}");
        } else if let Err(e) = report::write_file(path, &json) {
            return usage_error(e);
        }
    }
    exit::SUCCESS
}

/// The figures of merged logs, in the layout of the load table.
pub fn merge_table(m: &load::hdr_log::Merged) -> String {
    let us = |v: u64| format_duration(std::time::Duration::from_micros(v));
    let l = &m.latency;
    let c = &m.counts;
    let mut out = format!(
        "merged {} runner logs over {:.2}s (first start to last end)\n",
        m.runners.len(),
        m.span_ms / 1000.0
    );
    for r in &m.runners {
        out.push_str(&format!(
            "  {}  {} requests{}\n",
            r.file,
            r.requests,
            match &r.counts {
                Some(c) => format!(", {} deliveries, {} failed", c.deliveries, c.failed),
                None => " (no closing counts: its run was cut; in the latency only)".to_owned(),
            }
        ));
    }
    out.push_str(&format!(
        "  deliveries      {} + {} duplicate copies: {} delivered, {} failed (error rate {:.2}%)\n  requests        {}\n  throughput      {:.0} deliveries/s, {:.0} requests/s\n  latency         p50 {}  p90 {}  p99 {}  p99.9 {}  max {}\n",
        c.deliveries,
        c.duplicates,
        c.delivered,
        c.failed,
        m.error_rate * 100.0,
        m.requests,
        m.deliveries_per_second,
        m.requests_per_second,
        us(l.p50_us),
        us(l.p90_us),
        us(l.p99_us),
        us(l.p999_us),
        us(l.max_us),
    ));
    out
}
