//! Command-line interface: argument definitions and the commands behind them.
//!
//! `main.rs` parses a [`Cli`] and hands it to [`run`]; each command lives in
//! its own file and returns an exit code.

mod advice;
mod args;
pub mod config;
mod fuzz;
mod load;
mod payload;
mod proxy;
mod receive;
mod replay;
mod run;
mod send;
mod sequences;
mod snapshots;
mod suite;
mod target;

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use args::TargetArgs;
pub use fuzz::FuzzArgs;
pub use load::LoadArgs;
pub use payload::PayloadArgs;
pub use proxy::ProxyArgs;
pub use receive::ReceiveArgs;
pub use replay::ReplayArgs;
pub use run::RunArgs;
pub use send::SendArgs;

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
    /// The reader of standard output went away (128 + SIGPIPE, as shells
    /// report a process that a closed pipe ended).
    pub const OUTPUT_CLOSED: i32 = 141;
}

/// Imitates the Inference.net webhook sender and tests webhook receivers.
#[derive(Debug, Parser)]
#[command(name = "webhook-harness", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Read settings from FILE instead of ./webhook-harness.toml (flags and
    /// environment variables win over it).
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<std::path::PathBuf>,
    /// Read no config file at all (not even ./webhook-harness.toml): for a
    /// checkout you do not trust, as its file may start a command (`serve`).
    #[arg(long, global = true)]
    pub no_config: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print an event's payload as pretty JSON.
    Payload(PayloadArgs),
    /// Deliver one event like the real sender: readiness check, POST, retries.
    Send(SendArgs),
    /// Run the reference receiver (OPTIONS, POST /webhook, GET /test/effects).
    Receive(ReceiveArgs),
    /// Run the conformance suite (built-in, or scenario files) against a receiver.
    Run(RunArgs),
    /// Generate payloads with proptest, send them, shrink what fails to a reproducer.
    Fuzz(FuzzArgs),
    /// Send bursts of deliveries and measure throughput, latency and idempotency.
    Load(LoadArgs),
    /// Forward real deliveries to your receiver byte for byte; judge and record each.
    Proxy(ProxyArgs),
    /// Send recorded deliveries again (with duplicates, fresh keys) and check their effects.
    Replay(ReplayArgs),
    /// List the cases of the built-in suite (or of scenario files).
    List(ListArgs),
    /// Check scenario files without sending anything.
    Validate(ValidateArgs),
    /// Print the JSON Schema of the scenario format (or, with --config-file, of webhook-harness.toml).
    Schema {
        /// The schema of the config file instead.
        #[arg(long)]
        config_file: bool,
    },
    /// Print the settings a command would use and where each comes from
    /// (flag, environment, config file, default).
    Config {
        /// The command whose settings to show.
        #[arg(default_value = "run")]
        command: String,
        /// Flags to show the effect of, as they would be given to the command.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        flags: Vec<String>,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `webhook-harness man > webhook-harness.1`.
    Man,
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

/// `list` arguments.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Scenario files or folders (default: the built-in suite).
    pub paths: Vec<std::path::PathBuf>,
    /// The rules of the sender's contract instead, each with the cases
    /// that verify it (of the built-in suite, or of PATHs).
    #[arg(long)]
    pub rules: bool,
}

/// `validate` arguments.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files or folders.
    #[arg(required = true)]
    pub paths: Vec<std::path::PathBuf>,
}

/// Parses this process's arguments and runs the command; the exit code.
pub(crate) fn main() -> i32 {
    quiet_when_output_closes();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let loaded = match config_flag(&args) {
        ConfigFlag::None => Ok(config::Loaded::default()),
        ConfigFlag::File(file) => config::load(Some(&file)),
        ConfigFlag::Default => config::load(None),
    };
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => return usage_error(e),
    };
    use clap::{CommandFactory, FromArgMatches};
    let command = config::apply(Cli::command(), &loaded);
    match command.try_get_matches_from(args).and_then(|m| {
        if let Some((_, sub)) = m.subcommand() {
            config::record_in_use(&loaded, sub);
        }
        Cli::from_arg_matches(&m)
    }) {
        Ok(cli) => run(cli),
        Err(error) => usage(error),
    }
}

/// Which config file to read, if any.
enum ConfigFlag {
    /// `./webhook-harness.toml`, when there is one.
    Default,
    /// `--config FILE`.
    File(std::path::PathBuf),
    /// `--no-config`.
    None,
}

/// `--config FILE` (or `--config=FILE`) and `--no-config`, read before
/// parsing because the file's settings change how the rest is parsed.
fn config_flag(args: &[std::ffi::OsString]) -> ConfigFlag {
    let mut args = args.iter().map(|a| a.to_string_lossy());
    let mut chosen = ConfigFlag::Default;
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg == "--no-config" {
            return ConfigFlag::None;
        }
        if arg == "--config" {
            if let Some(v) = args.next() {
                chosen = ConfigFlag::File(v.into_owned().into());
            }
        } else if let Some(v) = arg.strip_prefix("--config=") {
            chosen = ConfigFlag::File(v.into());
        }
    }
    chosen
}

/// `webhook-harness run | head -3`: when the reader of the output goes away,
/// end quietly, as `cat` and ripgrep do: stop the receiver `--serve`
/// started and exit with 141 (128 + SIGPIPE, what a shell reports for a
/// reader that went away). SIGPIPE itself stays ignored (Rust's default): a
/// receiver that closes its socket while a request is being written is an
/// answer to report, never a signal that ends the run.
fn quiet_when_output_closes() {
    crate::output::on_stdout_closed(|| {
        crate::serve::kill_all_now();
        std::process::exit(exit::OUTPUT_CLOSED);
    });
}

/// The webhook id a command sends or checks, unless it is to be shown.
fn secret_of(command: &Command) -> Option<&str> {
    let (id, show) = match command {
        Command::Payload(a) => (Some(&a.event.webhook_id), a.show_secrets),
        Command::Send(a) => (Some(&a.event.webhook_id), a.show_secrets),
        Command::Receive(a) => (a.webhook_id.as_ref(), a.show_secrets),
        Command::Run(a) => (Some(&a.target.webhook_id), a.target.show_secrets),
        Command::Replay(a) => (Some(&a.run.target.webhook_id), a.run.target.show_secrets),
        Command::Fuzz(a) => (Some(&a.target.webhook_id), a.target.show_secrets),
        Command::Load(a) => (Some(&a.target.webhook_id), a.target.show_secrets),
        Command::Proxy(a) => (a.webhook_id.as_ref(), a.show_secrets),
        _ => (None, false),
    };
    id.filter(|_| !show).map(String::as_str)
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    if let Some(secret) = secret_of(&cli.command) {
        crate::output::mask_everywhere(secret);
    }
    // Only the commands that talk to the network get an async runtime: the
    // others start in a few milliseconds.
    {
        match cli.command {
            Command::Payload(args) => payload::run(&args),
            Command::Send(args) => with_runtime(send::run(&args)),
            Command::Receive(args) => with_runtime(receive::run(&args)),
            Command::Run(args) => with_runtime(run::run(&args)),
            Command::Fuzz(args) => with_runtime(fuzz::run(&args)),
            Command::Load(args) => with_runtime(load::run(&args)),
            Command::Proxy(args) => with_runtime(proxy::run(&args)),
            Command::Replay(args) => with_runtime(replay::run(&args)),
            Command::List(args) => suite::list(&args),
            Command::Validate(args) => suite::validate(&args),
            Command::Snapshots(command) => snapshots::run(&command),
            Command::Schema { config_file } => {
                if config_file {
                    crate::output::out!("{}", config::json_schema());
                } else {
                    crate::output::out!("{}", crate::scenario::json_schema());
                }
                exit::SUCCESS
            }
            Command::Config { command, flags } => {
                let loaded = match cli.no_config {
                    true => Ok(config::Loaded::default()),
                    false => config::load(cli.config.as_deref()),
                };
                let loaded = match loaded {
                    Ok(l) => l,
                    Err(e) => return usage_error(e),
                };
                use clap::CommandFactory;
                match config::describe(
                    config::apply(Cli::command(), &loaded),
                    &command,
                    &flags,
                    &loaded,
                ) {
                    Ok(text) => {
                        crate::output::out!("{text}");
                        exit::SUCCESS
                    }
                    Err(e) => usage_error(format!("config: {}", e.trim())),
                }
            }
            Command::Completions { shell } => {
                use clap::CommandFactory;
                let mut command = Cli::command();
                let mut script = Vec::new();
                clap_complete::generate(shell, &mut command, "webhook-harness", &mut script);
                crate::output::out!("{}", String::from_utf8_lossy(&script));
                exit::SUCCESS
            }
            Command::Man => {
                use clap::CommandFactory;
                let mut page = Vec::new();
                match clap_mangen::Man::new(Cli::command()).render(&mut page) {
                    Ok(()) => {
                        crate::output::out!("{}", String::from_utf8_lossy(&page));
                        exit::SUCCESS
                    }
                    Err(e) => usage_error(format!("cannot write the manual page: {e}")),
                }
            }
        }
    }
}

/// Runs `command` to its end on a multi-threaded async runtime.
fn with_runtime(command: impl std::future::Future<Output = i32>) -> i32 {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(command),
        Err(e) => {
            crate::output::errln!("error: cannot start the async runtime: {e}");
            exit::FAILURE
        }
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
            let tip = subcommand_tip(&error, &parts);
            crate::output::errln!("{}{tip}; see --help", parts.join(" "));
            exit::USAGE
        }
    }
}

/// ` tip: did you mean `run`?` for a mistyped subcommand, when clap gave
/// no tip of its own.
fn subcommand_tip(error: &clap::Error, parts: &[&str]) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::InvalidSubcommand || parts.iter().any(|p| p.starts_with("tip:")) {
        return String::new();
    }
    let Some(ContextValue::String(typed)) = error.get(ContextKind::InvalidSubcommand) else {
        return String::new();
    };
    use clap::CommandFactory;
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .map(|name| (strsim::damerau_levenshtein(typed, &name), name))
        .filter(|(distance, name)| *distance <= 2 && *distance < name.len())
        .min()
        .map(|(_, name)| format!(" tip: a similar subcommand exists: '{name}'"))
        .unwrap_or_default()
}

/// Prints a usage error and returns [`exit::USAGE`].
fn usage_error(message: impl std::fmt::Display) -> i32 {
    crate::output::errln!("error: {message}");
    exit::USAGE
}

/// Parses `250ms`, `2s`, `1m`, `1m30s`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::duration::parse(s)
}

/// A stop signal for a command: fired by SIGINT or SIGTERM (a second one
/// exits at once with code 130) and, with `max_time`, by the deadline. The
/// signals are ours from the moment this returns (not from when a task
/// first runs), so an early Ctrl-C still writes what ran.
pub(crate) fn stop_signal(max_time: Option<Duration>) -> crate::stop::Stop {
    let stop = crate::stop::Stop::new();
    if let Some(limit) = max_time {
        stop.fire_after(limit);
    }
    let on_signal = stop.clone();
    let mut signals = Signals::register();
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            signals.next().await;
            seen += 1;
            if seen > 1 {
                crate::output::errln!("\ninterrupted again: exiting at once");
                crate::serve::kill_all_now();
                std::process::exit(exit::INTERRUPTED);
            }
            crate::output::errln!(
                "\ninterrupted: stopping, writing what ran so far (press Ctrl-C again to exit at once)"
            );
            on_signal.stop(crate::stop::StopReason::Interrupted);
        }
    });
    stop
}

/// SIGINT and SIGTERM, caught from the moment they are registered (where
/// there is no SIGTERM, Ctrl-C only).
struct Signals {
    #[cfg(unix)]
    caught: Vec<tokio::signal::unix::Signal>,
}

impl Signals {
    fn register() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                caught: [SignalKind::interrupt(), SignalKind::terminate()]
                    .into_iter()
                    .filter_map(|kind| signal(kind).ok())
                    .collect(),
            }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    /// Completes when one of the signals arrives.
    async fn next(&mut self) {
        #[cfg(unix)]
        {
            let caught = &mut self.caught;
            std::future::poll_fn(|cx| {
                for signal in caught.iter_mut() {
                    if let std::task::Poll::Ready(Some(())) = signal.poll_recv(cx) {
                        return std::task::Poll::Ready(());
                    }
                }
                std::task::Poll::Pending
            })
            .await
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The exit code for a run that was stopped early (`None` when it was not).
pub(crate) fn stopped_exit(stop: &crate::stop::Stop) -> Option<i32> {
    match stop.reason()? {
        crate::stop::StopReason::Interrupted => Some(exit::INTERRUPTED),
        _ => Some(exit::FAILURE),
    }
}

/// Accepts absolute `http://` and `https://` URLs.
pub fn parse_url(s: &str) -> Result<String, String> {
    crate::sender::url::ReceiverUrl::parse(s)
        .map(|_| s.to_owned())
        .map_err(|e| e.explain(s, "http://127.0.0.1:3000/webhook"))
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
        assert!(
            parse_url("http://u:pw@127.0.0.1/")
                .unwrap_err()
                .contains("user name or password")
        );
        assert!(
            parse_url("http://127.0.0.1:70000/")
                .unwrap_err()
                .contains("port")
        );
    }
}
