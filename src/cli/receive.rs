//! `webhook-harness receive`: run the reference receiver until interrupted.

use clap::Args;

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
    /// Record every delivery into DIR as a scenario `replay` and `run`
    /// execute (the webhook id replaced by `{{webhook_id}}`).
    #[arg(long, value_name = "DIR")]
    pub record: Option<std::path::PathBuf>,
    /// Record the value of this credential header too (Authorization,
    /// Cookie, and any header named like a token, key, secret or password
    /// are recorded without their values by default); repeatable.
    #[arg(long, value_name = "NAME", requires = "record")]
    pub record_header: Vec<String>,
}

use std::net::SocketAddr;

use crate::receiver::{Receiver, ReceiverConfig};
use crate::secret;

use super::{exit, usage_error};

pub(super) async fn run(args: &ReceiveArgs) -> i32 {
    let record = match &args.record {
        Some(dir) => match crate::recording::Recorder::new(dir, "receive", args.webhook_id.clone())
            .map(|r| r.keeping_credentials(&args.record_header))
        {
            Ok(r) => Some(std::sync::Arc::new(r)),
            Err(e) => return usage_error(format!("--record: {e}")),
        },
        None => None,
    };
    let config = ReceiverConfig {
        webhook_id: args.webhook_id.clone(),
        log: true,
        show_secrets: args.show_secrets,
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
        record,
    };
    let receiver = match Receiver::start(SocketAddr::new(args.host, args.port), config).await {
        Ok(r) => r,
        Err(e) => return usage_error(super::advice::for_serve_error(&e)),
    };
    crate::output::outln!("Listening on {}", receiver.url());
    crate::output::outln!("Effects probe: {}", receiver.effects_url());
    match &args.webhook_id {
        Some(id) => crate::output::outln!(
            "Requiring X-Inference-Webhook-ID {}",
            secret::display(id, args.show_secrets)
        ),
        None => crate::output::outln!(
            "Accepting any X-Inference-Webhook-ID (pass --webhook-id to check it)"
        ),
    }
    if let Some(dir) = &args.record {
        crate::output::outln!("Recording deliveries in {}", dir.display());
    }
    let _ = tokio::signal::ctrl_c().await;
    let totals = receiver.effects().totals();
    receiver.shutdown().await;
    crate::output::outln!(
        "stopped: {} deliveries, {} effects over {} keys",
        totals.deliveries,
        totals.effects,
        totals.keys
    );
    exit::SUCCESS
}
