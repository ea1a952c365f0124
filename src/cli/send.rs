//! `webhook-harness send`: deliver one event, one line per attempt.

use std::time::Duration;

use clap::Args;

use super::args::{DeliveryArgs, EventArgs};
use super::{parse_duration, parse_url};

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
    /// Start the receiver with this shell command first, and stop it after
    /// (as for `run`).
    #[arg(long, value_name = "CMD")]
    pub serve: Option<String>,
    /// How long to wait for the --serve receiver to answer.
    #[arg(long, value_name = "D", default_value = "60s", value_parser = parse_duration)]
    pub serve_timeout: Duration,
}

use crate::secret;
use crate::sender::{Sender, event_headers};

use super::{advice, exit, usage_error};

pub(super) async fn run(args: &SendArgs) -> i32 {
    let event = match args.event.builder().build() {
        Ok(event) => event,
        Err(e) => return usage_error(e),
    };
    let served = match &args.serve {
        Some(command) => {
            let started = super::target::start_served(
                command,
                &args.url,
                &args.event.webhook_id,
                args.serve_timeout,
                1,
            )
            .await;
            match started {
                Ok(s) => Some(s),
                Err(e) => return super::target::failed(e),
            }
        }
        None => None,
    };
    let url = served
        .as_ref()
        .map_or_else(|| args.url.clone(), |s| s.urls()[0].clone());
    let code = deliver(args, &event, &url).await;
    if let Some(served) = served {
        served.stop().await;
    }
    code
}

async fn deliver(args: &SendArgs, event: &crate::event::Event, url: &str) -> i32 {
    let stop = super::stop_signal(args.max_time);
    let config = match args.delivery.sender_config(!args.no_readiness) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let sender = match Sender::new(config) {
        Ok(s) => s.with_cancel(stop.token().clone()),
        Err(e) => return usage_error(e),
    };
    let key = event.key().unwrap_or("(no key)");
    crate::output::outln!(
        "sending {} ({} dialect) key={key} webhook_id={} to {}{}",
        event.kind(),
        event.dialect(),
        secret::display(event.webhook_id(), args.show_secrets),
        url,
        super::config::banner_note()
    );
    let delivery = sender
        .deliver_observed(url, &event_headers(event), event.body().clone(), &mut |a| {
            crate::output::outln!("  {}", crate::output::escape_controls(&a.describe()))
        })
        .await;
    let posts = delivery.posts();
    crate::output::outln!(
        "{}: {} ({} attempt{}, {posts} POST)",
        event.kind(),
        delivery.result.describe(),
        delivery.attempts.len(),
        if delivery.attempts.len() == 1 {
            ""
        } else {
            "s"
        },
    );
    if let Some(reason) = stop.reason() {
        crate::output::outln!("stopped: {reason}");
    }
    if let Some(hint) = delivery.attempts.last().and_then(advice::for_answer) {
        crate::output::outln!("hint: {hint}");
    }
    if let Some(code) = super::stopped_exit(&stop) {
        return code;
    }
    if delivery.delivered() {
        exit::SUCCESS
    } else {
        exit::FAILURE
    }
}
