//! A receiver with one deliberate bug, to see what the harness reports.
//!
//! ```sh
//! cargo run --example broken_receiver -- requires-usage 3001
//! webhook-harness fuzz --url http://127.0.0.1:3001/webhook --webhook-id AhALzdz8S \
//!   --effects-url 'http://127.0.0.1:3001/effects?key={key}'
//! ```
//!
//! These are the receivers the project's own tests run the suite against.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Bug, TestReceiver, WEBHOOK_ID};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "none".into());
    let Some((_, bug)) = Bug::NAMED.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = Bug::NAMED.iter().map(|(n, _)| *n).collect();
        eprintln!(
            "error: unknown bug `{name}`: expected one of {}",
            names.join(", ")
        );
        std::process::exit(2);
    };
    let port = match args.next().map(|p| p.parse::<u16>()) {
        None => 3001,
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            eprintln!("error: the port must be a number from 0 to 65535");
            std::process::exit(2);
        }
    };
    let receiver = TestReceiver::start_on(*bug, port).await;
    println!(
        "Receiver with bug `{name}` on {} (webhook id {WEBHOOK_ID})",
        receiver.url()
    );
    println!("Effects probe: {}", receiver.effects_url());
    let _ = tokio::signal::ctrl_c().await;
}
