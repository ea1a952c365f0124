//! `webhook-harness receive`: run the reference receiver until interrupted.

use std::net::SocketAddr;

use crate::receiver::{Receiver, ReceiverConfig};
use crate::secret;

use super::{ReceiveArgs, exit, usage_error};

pub(super) async fn run(args: &ReceiveArgs) -> i32 {
    let config = ReceiverConfig {
        webhook_id: args.webhook_id.clone(),
        log: true,
        show_secrets: args.show_secrets,
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
    };
    let receiver = match Receiver::start(SocketAddr::new(args.host, args.port), config).await {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    println!("Listening on {}", receiver.url());
    println!("Effects probe: {}", receiver.effects_url());
    match &args.webhook_id {
        Some(id) => println!(
            "Requiring X-Inference-Webhook-ID {}",
            secret::display(id, args.show_secrets)
        ),
        None => println!("Accepting any X-Inference-Webhook-ID (pass --webhook-id to check it)"),
    }
    let _ = tokio::signal::ctrl_c().await;
    let totals = receiver.effects().totals();
    receiver.shutdown().await;
    println!(
        "stopped: {} deliveries, {} effects over {} keys",
        totals.deliveries, totals.effects, totals.keys
    );
    exit::SUCCESS
}
