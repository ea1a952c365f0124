//! Arguments several commands share: the event to build, the receiver under
//! test, certificate checks, and the sender's time and retry settings.

use std::time::Duration;

use clap::Args;

use super::{parse_duration, parse_url, usage_error};
use crate::event::{Dialect, Event, EventBuilder, EventKind, Override};

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
    /// Change a field the payload has: PATH=VALUE, dotted path, VALUE as JSON
    /// or else a string (e.g. `--set data.state=Failed`); a path the payload
    /// does not have is an error (see --add). Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
    pub set: Vec<Override>,
    /// Add a field the payload does not have: PATH=VALUE, missing objects
    /// created (e.g. `--add data.priority=high`). Repeatable.
    #[arg(long = "add", value_name = "PATH=VALUE", value_parser = parse_add)]
    pub add: Vec<Override>,
    /// Remove a field by dotted path (e.g. `--unset data.usage`). Repeatable.
    #[arg(long = "unset", value_name = "PATH", value_parser = parse_unset)]
    pub unset: Vec<Override>,
    /// Pad the payload to about SIZE (e.g. `9.5MB`, `512KB`; at most the
    /// contract's 10 MB) by lengthening its completion text: to try a
    /// receiver's body limit.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub size: Option<usize>,
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
        for edit in self.set.iter().chain(&self.add).chain(&self.unset) {
            builder = builder.apply(edit.clone());
        }
        if let Some(size) = self.size {
            builder = builder.pad_to(size);
        }
        builder
    }
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
    /// http://127.0.0.1:3000/test/effects?key={key}. Without it, effect counts are not checked.
    #[arg(long)]
    pub effects_url: Option<String>,
    /// Print the webhook id in full.
    #[arg(long)]
    pub show_secrets: bool,
    /// Start your receiver with this shell command (in its own process
    /// group, with WEBHOOK_HARNESS_WEBHOOK_ID and PORT set), wait until --url
    /// answers, and stop it at the end, whatever happens. Needs --url (or
    /// `url` in the config file).
    #[arg(long, value_name = "CMD")]
    pub serve: Option<String>,
    /// How long to wait for the --serve receiver to answer.
    #[arg(long, value_name = "D", default_value = "60s", value_parser = parse_duration)]
    pub serve_timeout: Duration,
    /// Start N copies of the --serve command, each with its own PORT and
    /// WEBHOOK_HARNESS_REPLICA (0..N-1), sharing what the command shares (a
    /// database): `replica:` steps send to one, fuzz and load spread over them.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=16))]
    pub serve_replicas: u16,
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
            crate::output::errln!(
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

fn parse_event(s: &str) -> Result<EventKind, String> {
    s.parse()
}

fn parse_dialect(s: &str) -> Result<Dialect, String> {
    s.parse()
}

fn parse_set(s: &str) -> Result<Override, String> {
    Override::parse_set(s).map_err(|e| e.to_string())
}

fn parse_add(s: &str) -> Result<Override, String> {
    Override::parse_add(s).map_err(|e| e.to_string())
}

fn parse_unset(s: &str) -> Result<Override, String> {
    Override::parse_unset(s).map_err(|e| e.to_string())
}

fn parse_size(s: &str) -> Result<usize, String> {
    crate::scenario::values::ByteSize::try_from(s.to_owned()).map(|size| size.0)
}

/// The reports a run writes (`run`, `replay`, `fuzz`).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write a JSON report to FILE (`-`: to standard output, everything else
    /// then going to standard error).
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<std::path::PathBuf>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_junit: Option<std::path::PathBuf>,
    /// Write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_html: Option<std::path::PathBuf>,
    /// Write a Markdown summary to FILE. The same summary is appended to
    /// $GITHUB_STEP_SUMMARY whenever that is set (GitHub Actions), with or
    /// without this flag.
    #[arg(long, value_name = "FILE")]
    pub report_markdown: Option<std::path::PathBuf>,
}

impl ReportArgs {
    /// Whether the JSON report goes to standard output (so the console
    /// output must go to standard error).
    pub fn json_to_stdout(&self) -> bool {
        self.report_json.as_deref() == Some(std::path::Path::new("-"))
    }

    /// Writes every report asked for, and the step summary under GitHub Actions.
    pub fn write(
        &self,
        outcome: &crate::result::RunResult,
        options: &crate::report::ReportOptions,
        title: &str,
    ) -> Result<(), String> {
        use crate::report::{self, html, json, junit, markdown};
        if let Some(path) = &self.report_json {
            let text = json::render(outcome, options);
            if self.json_to_stdout() {
                crate::output::outln!("{text}");
            } else {
                report::write_file(path, &text)?;
            }
        }
        if let Some(path) = &self.report_junit {
            report::write_file(path, &junit::render(outcome, options)?)?;
        }
        if let Some(path) = &self.report_html {
            report::write_file(path, &html::render(outcome, options, title))?;
        }
        let summary = markdown::render(outcome, options, title);
        if let Some(path) = &self.report_markdown {
            report::write_file(path, &summary)?;
        }
        report::append_step_summary(&summary)
    }
}
