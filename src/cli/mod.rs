//! Command-line interface: argument definitions and the commands behind them.
//!
//! `main.rs` parses a [`Cli`] and hands it to [`run`]; each command lives in
//! its own file and returns an exit code.

mod advice;
mod fuzz;
mod load;
mod payload;
mod receive;
mod run;
mod send;
mod snapshots;
mod suite;
mod target;

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::event::{Dialect, Event, EventBuilder, EventKind, Override};

/// Exit codes, stable for CI.
pub mod exit {
    /// Everything passed / was delivered.
    pub const SUCCESS: i32 = 0;
    /// A delivery or check failed.
    pub const FAILURE: i32 = 1;
    /// A usage error: bad arguments or input files.
    pub const USAGE: i32 = 2;
    /// The target could not be reached at all.
    pub const UNREACHABLE: i32 = 3;
    /// Interrupted by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
    pub const INTERRUPTED: i32 = 130;
}

/// Imitates the Inference.net webhook sender and tests webhook receivers.
#[derive(Debug, Parser)]
#[command(name = "webhook-harness", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print an event's payload as pretty JSON.
    Payload(PayloadArgs),
    /// Deliver one event like the real sender: readiness check, POST, retries.
    Send(SendArgs),
    /// Run the reference receiver (OPTIONS, POST /webhook, GET /effects).
    Receive(ReceiveArgs),
    /// Run the conformance suite (built-in, or scenario files) against a receiver.
    Run(RunArgs),
    /// Generate payloads with proptest, send them, shrink what fails to a reproducer.
    Fuzz(FuzzArgs),
    /// Send bursts of deliveries and measure throughput, latency and idempotency.
    Load(LoadArgs),
    /// List the cases of the built-in suite (or of scenario files).
    List(ListArgs),
    /// Check scenario files without sending anything.
    Validate(ValidateArgs),
    /// Print the JSON Schema of the scenario format.
    Schema,
    /// Review, accept or reject pending snapshot changes.
    #[command(subcommand)]
    Snapshots(SnapshotsCommand),
}

/// `snapshots` subcommands.
#[derive(Debug, Subcommand)]
pub enum SnapshotsCommand {
    /// Show each pending change and ask: accept, reject or skip.
    Review(SnapshotDirArgs),
    /// Accept every pending change.
    Accept(SnapshotDirArgs),
    /// Reject (delete) every pending change.
    Reject(SnapshotDirArgs),
}

/// The snapshot folder.
#[derive(Debug, Args)]
pub struct SnapshotDirArgs {
    /// The snapshot folder.
    #[arg(default_value = DEFAULT_SNAPSHOT_DIR)]
    pub dir: std::path::PathBuf,
}

/// Where `--snapshots` keeps them by default.
pub const DEFAULT_SNAPSHOT_DIR: &str = "snapshots/receiver";

/// What event to build.
#[derive(Debug, Args)]
pub struct EventArgs {
    /// The event: generation.completed, async-embedding.completed,
    /// slow-group.completed, webhook.test (or generation, embedding, group, test).
    #[arg(value_parser = parse_event)]
    pub event: EventKind,
    /// Payload dialect: `current` (camelCase, the seed schema) or `legacy` (snake_case).
    #[arg(long, default_value = "current", value_parser = parse_dialect)]
    pub dialect: Dialect,
    /// Override a field: PATH=VALUE, dotted path, VALUE as JSON or else a string
    /// (e.g. `--set data.state=Failed`). Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
    pub set: Vec<Override>,
    /// Remove a field by dotted path (e.g. `--unset data.usage`). Repeatable.
    #[arg(long = "unset", value_name = "PATH", value_parser = parse_unset)]
    pub unset: Vec<Override>,
    /// Fresh ids and current timestamps instead of the reproducible defaults.
    #[arg(long)]
    pub unique_ids: bool,
    /// The webhook identifier (a secret; masked in output). Also read from
    /// WEBHOOK_HARNESS_WEBHOOK_ID.
    #[arg(long, env = "WEBHOOK_HARNESS_WEBHOOK_ID", hide_env_values = true,
          default_value = crate::event::DEFAULT_WEBHOOK_ID)]
    pub webhook_id: String,
}

impl EventArgs {
    /// The builder these arguments describe.
    pub fn builder(&self) -> EventBuilder {
        let mut builder = Event::builder(self.event)
            .dialect(self.dialect)
            .webhook_id(self.webhook_id.clone());
        if self.unique_ids {
            builder = builder.unique_ids();
        }
        for edit in self.set.iter().chain(&self.unset) {
            builder = builder.apply(edit.clone());
        }
        builder
    }
}

/// `payload` arguments.
#[derive(Debug, Args)]
pub struct PayloadArgs {
    #[command(flatten)]
    pub event: EventArgs,
    /// Print the webhook id in full (it is masked otherwise, as everywhere).
    #[arg(long)]
    pub show_secrets: bool,
}

/// `send` arguments.
#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub event: EventArgs,
    /// The receiver's endpoint, e.g. http://127.0.0.1:3000/webhook.
    #[arg(long, value_parser = parse_url)]
    pub url: String,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Skip the OPTIONS readiness check.
    #[arg(long)]
    pub no_readiness: bool,
    /// A deadline for the whole command (e.g. 30s, 2m): when it passes, what
    /// is in flight is cancelled and the command ends with exit code 1.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub max_time: Option<Duration>,
    /// Print the webhook id in full.
    #[arg(long)]
    pub show_secrets: bool,
}

/// `receive` arguments.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Require this X-Inference-Webhook-ID (401 otherwise). Also read from
    /// WEBHOOK_HARNESS_WEBHOOK_ID.
    #[arg(long, env = "WEBHOOK_HARNESS_WEBHOOK_ID", hide_env_values = true)]
    pub webhook_id: Option<String>,
    /// Print webhook ids in full in the log.
    #[arg(long)]
    pub show_secrets: bool,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
}

/// The receiver under test, for `run`, `fuzz` and `load`.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The receiver's endpoint. Without it, the built-in reference receiver is
    /// started on 127.0.0.1 (with its effects probe) and tested.
    #[arg(long, value_parser = parse_url)]
    pub url: Option<String>,
    /// The webhook id your receiver expects (a secret; masked in output). Also
    /// read from WEBHOOK_HARNESS_WEBHOOK_ID.
    #[arg(long, env = "WEBHOOK_HARNESS_WEBHOOK_ID", hide_env_values = true,
          default_value = crate::event::DEFAULT_WEBHOOK_ID)]
    pub webhook_id: String,
    /// Effects probe URL template with `{key}`, e.g.
    /// http://127.0.0.1:3000/effects?key={key}. Without it, effect counts are not checked.
    #[arg(long)]
    pub effects_url: Option<String>,
    /// Print the webhook id in full.
    #[arg(long)]
    pub show_secrets: bool,
}

/// Certificate checks for `https://` targets.
#[derive(Debug, Args)]
pub struct TlsArgs {
    /// Trust the CA certificates in this PEM file (a private CA) instead of the system roots.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Do not verify TLS certificates (a self-signed development certificate).
    /// Loudly flagged in the output and reports.
    #[arg(long)]
    pub insecure: bool,
}

impl TlsArgs {
    /// The sender's TLS options, checked (a CA file that cannot be used is a
    /// usage error, exit 2); warns on standard error when certificates are
    /// not checked.
    pub fn options(&self) -> Result<crate::sender::TlsOptions, i32> {
        if self.insecure {
            eprintln!(
                "warning: --insecure: TLS certificates are NOT verified; use it only against a development receiver"
            );
        }
        let options = crate::sender::TlsOptions {
            ca_cert: self.ca_cert.clone(),
            insecure: self.insecure,
        };
        match crate::sender::tls::client_config(&options) {
            Ok(_) => Ok(options),
            Err(e) => Err(usage_error(format_args!("--ca-cert: {e}"))),
        }
    }
}

/// Time and retry options shared by the commands that deliver.
#[derive(Debug, Args)]
pub struct DeliveryArgs {
    /// Time allowed per attempt (e.g. 250ms, 2s, 1m).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Retries after the first attempt for 5xx, timeouts and connection errors.
    #[arg(long, default_value_t = 3)]
    pub retries: u32,
    /// Delay before the first retry; doubled for each further retry.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub backoff: Duration,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// `run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Scenario files or folders (default: the built-in suite).
    pub paths: Vec<std::path::PathBuf>,
    /// Also run the built-in suite when PATHs are given.
    #[arg(long)]
    pub builtin: bool,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Cases run at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Run only cases whose id contains PATTERN (or matches it, with `*`).
    #[arg(long)]
    pub filter: Option<String>,
    /// `should` failures fail the run too.
    #[arg(long)]
    pub strict: bool,
    /// A deadline for the whole run (e.g. 5m): when it passes, what is in
    /// flight is cancelled, the rest is reported as not run, and the exit code is 1.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub max_time: Option<Duration>,
    /// After this many requests in a row got no answer at all, check whether
    /// the receiver is down (a plain delivery, retried for 5 s); if it is, the
    /// remaining cases are not run.
    #[arg(long, value_name = "N", default_value_t = crate::sender::DEFAULT_THRESHOLD,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub down_after: u32,
    /// Write a JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<std::path::PathBuf>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_junit: Option<std::path::PathBuf>,
    /// Compare what the receiver answers with snapshots in DIR (default
    /// snapshots/receiver): the first run records, later runs show changes.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = DEFAULT_SNAPSHOT_DIR)]
    pub snapshots: Option<std::path::PathBuf>,
    /// auto: record missing (outside CI), write changes as .snap.new; new: write
    /// every change as .snap.new; compare: write nothing; update: accept all.
    #[arg(long, value_name = "MODE", value_parser = crate::snapshot::store::SnapshotMode::parse)]
    pub snapshots_mode: Option<crate::snapshot::store::SnapshotMode>,
    /// Accept every snapshot change (same as --snapshots-mode update).
    #[arg(long)]
    pub update_snapshots: bool,
    /// Redact the values of this JSON field in snapshots (e.g. a request id your
    /// receiver returns). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub redact_field: Vec<String>,
}

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
    /// Write a JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<std::path::PathBuf>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_junit: Option<std::path::PathBuf>,
}

/// `load` arguments.
#[derive(Debug, Args)]
pub struct LoadArgs {
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
    /// Write a JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<std::path::PathBuf>,
}

fn parse_category(s: &str) -> Result<crate::fuzz::Category, String> {
    use crate::fuzz::Category;
    [Category::Valid, Category::Invalid, Category::Headers]
        .into_iter()
        .find(|c| c.name() == s)
        .ok_or_else(|| format!("unknown kind `{s}`: expected valid, invalid or headers"))
}

/// `list` arguments.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Scenario files or folders (default: the built-in suite).
    pub paths: Vec<std::path::PathBuf>,
}

/// `validate` arguments.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files or folders.
    #[arg(required = true)]
    pub paths: Vec<std::path::PathBuf>,
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::FAILURE;
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Payload(args) => payload::run(&args),
            Command::Send(args) => send::run(&args).await,
            Command::Receive(args) => receive::run(&args).await,
            Command::Run(args) => run::run(&args).await,
            Command::Fuzz(args) => fuzz::run(&args).await,
            Command::Load(args) => load::run(&args).await,
            Command::List(args) => suite::list(&args),
            Command::Validate(args) => suite::validate(&args),
            Command::Snapshots(command) => snapshots::run(&command),
            Command::Schema => {
                print!("{}", crate::scenario::json_schema());
                exit::SUCCESS
            }
        }
    })
}

impl DeliveryArgs {
    /// The sender configuration these arguments describe (`Err`: the exit
    /// code of a usage error already reported).
    pub fn sender_config(&self, readiness: bool) -> Result<crate::sender::SenderConfig, i32> {
        Ok(crate::sender::SenderConfig {
            timeout: self.timeout,
            retries: self.retries,
            backoff: self.backoff,
            readiness,
            title_case_headers: false,
            tls: self.tls.options()?,
        })
    }
}

/// Reports a command line clap could not parse: help and version as clap
/// prints them; any other error as one line (with clap's tip, if any), exit 2.
pub fn usage(error: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            exit::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            exit::USAGE
        }
        _ => {
            // The error line, the lines that continue it (say, which
            // arguments are missing), and any tip, folded into one line.
            let text = error.render().to_string();
            let mut parts: Vec<&str> = Vec::new();
            let mut continuing = false;
            for line in text.lines() {
                let trimmed = line.trim();
                if trimmed.starts_with("error:") || trimmed.starts_with("tip:") {
                    parts.push(trimmed);
                    continuing = trimmed.starts_with("error:");
                } else if continuing && line.starts_with(' ') && !trimmed.is_empty() {
                    parts.push(trimmed);
                } else {
                    continuing = false;
                }
            }
            if parts.is_empty() {
                parts.push("error: invalid arguments");
            }
            eprintln!("{}; see --help", parts.join(" "));
            exit::USAGE
        }
    }
}

/// Prints a usage error and returns [`exit::USAGE`].
fn usage_error(message: impl std::fmt::Display) -> i32 {
    eprintln!("error: {message}");
    exit::USAGE
}

fn parse_event(s: &str) -> Result<EventKind, String> {
    s.parse()
}

fn parse_dialect(s: &str) -> Result<Dialect, String> {
    s.parse()
}

fn parse_set(s: &str) -> Result<Override, String> {
    Override::parse_set(s).map_err(|e| e.to_string())
}

fn parse_unset(s: &str) -> Result<Override, String> {
    Override::parse_unset(s).map_err(|e| e.to_string())
}

/// Parses `250ms`, `2s`, `1m`, `1m30s`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::duration::parse(s)
}

/// A stop signal for a command: fired by SIGINT or SIGTERM (a second one
/// exits at once with code 130) and, with `max_time`, by the deadline.
pub(crate) fn stop_signal(max_time: Option<Duration>) -> crate::sender::stop::Stop {
    let stop = crate::sender::stop::Stop::new();
    if let Some(limit) = max_time {
        stop.fire_after(limit);
    }
    let on_signal = stop.clone();
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            signal().await;
            seen += 1;
            if seen > 1 {
                eprintln!("\ninterrupted again: exiting at once");
                std::process::exit(exit::INTERRUPTED);
            }
            eprintln!(
                "\ninterrupted: stopping, writing what ran so far (press Ctrl-C again to exit at once)"
            );
            on_signal.stop(crate::sender::stop::StopReason::Interrupted);
        }
    });
    stop
}

/// Completes on SIGINT or SIGTERM (SIGINT only where there is no SIGTERM).
async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The exit code for a run that was stopped early (`None` when it was not).
pub(crate) fn stopped_exit(stop: &crate::sender::stop::Stop) -> Option<i32> {
    match stop.reason()? {
        crate::sender::stop::StopReason::Interrupted => Some(exit::INTERRUPTED),
        _ => Some(exit::FAILURE),
    }
}

/// Accepts absolute `http://` and `https://` URLs.
pub fn parse_url(s: &str) -> Result<String, String> {
    if !s.contains("://") {
        return Err(format!(
            "`{s}` has no scheme: write http://{s} (or https://)"
        ));
    }
    let url = reqwest::Url::parse(s).map_err(|e| {
        format!("`{s}` is not a URL ({e}): give a full URL such as http://127.0.0.1:3000/webhook")
    })?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(s.to_owned()),
        scheme => Err(format!(
            "`{s}` is not an http(s) URL (scheme `{scheme}`): give a URL such as http://127.0.0.1:3000/webhook"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_and_urls() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("soon").unwrap_err().contains("e.g. 250ms"));
        assert!(parse_url("http://127.0.0.1:1/webhook").is_ok());
        assert!(parse_url("127.0.0.1:1").unwrap_err().contains("http"));
        assert!(parse_url("ftp://x/").unwrap_err().contains("scheme `ftp`"));
    }
}
