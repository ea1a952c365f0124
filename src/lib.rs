#![warn(missing_docs)]
//! # webhook-harness
//!
//! Imitates the Inference.net webhook sender and tests a webhook receiver end
//! to end: readiness check, delivery, retries, duplicates, every payload shape.
//!
//! Start with [`Conformance`]: it runs the built-in suite (or your
//! scenarios) against a receiver as `webhook-harness run` does and returns a
//! [`Report`] with the verdict and the JSON, JUnit, HTML and Markdown
//! reports. [`Event`] and [`Sender`] deliver one event as the real sender
//! would; [`Receiver`] is a correct reference endpoint with an effects probe.
//!
//! Data flows one way: [`event`] (what is sent) → [`sender`] (how it is sent)
//! → [`runner`], [`fuzz`], [`load`], [`snapshot`] → [`result`] (one result
//! model) → [`report`]. Results and failures are `#[non_exhaustive]`: they
//! will grow without a major version.
//!
//! ## Testing your own receiver from `cargo test`
//!
//! ```
//! use webhook_harness::event::{Dialect, Event, EventKind};
//! use webhook_harness::receiver::{Receiver, ReceiverConfig};
//! use webhook_harness::sender::{Sender, SenderConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Your receiver goes here; the reference one stands in for it.
//! let receiver = Receiver::start_local(ReceiverConfig::default()).await?;
//!
//! let event = Event::builder(EventKind::GenerationCompleted)
//!     .dialect(Dialect::Current)
//!     .unique_ids()
//!     .set("data.state=Failed")?
//!     .build()?;
//!
//! let sender = Sender::new(SenderConfig::default())?;
//! let delivery = sender.deliver(&receiver.url(), &event).await;
//! assert!(delivery.delivered());
//! // The same event again: still 2xx, and the effect ran once.
//! assert!(sender.deliver(&receiver.url(), &event).await.delivered());
//! let key = event.key().expect("every built event has a key");
//! assert_eq!(receiver.effects().get(key).effects, 1);
//! # Ok(())
//! # }
//! ```
//!
//! ## The whole suite from `cargo test`
//!
//! [`conformance::Conformance`] runs the built-in suite (or your scenarios)
//! as `webhook-harness run` does, and writes its reports:
//!
//! ```
//! use webhook_harness::conformance::Conformance;
//! use webhook_harness::receiver::{Receiver, ReceiverConfig};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Your receiver goes here, served on port 0; the reference one stands in.
//! let receiver = Receiver::start_local(ReceiverConfig {
//!     webhook_id: Some("AhALzdz8S".into()),
//!     ..ReceiverConfig::default()
//! })
//! .await?;
//! let report = Conformance::new(receiver.url())
//!     .webhook_id("AhALzdz8S")
//!     .effects_url(receiver.effects_url())
//!     .run()
//!     .await?;
//! assert!(report.passed(true), "{}", report.failures_text());
//! assert!(report.junit()?.contains("idempotency.concurrent-copies"));
//! # Ok(())
//! # }
//! ```

// The entry points; the modules below hold the rest of what is public.
pub use conformance::{Conformance, Report};
pub use event::{Dialect, Event, EventKind};
pub use receiver::{Receiver, ReceiverConfig};
pub use sender::{Sender, SenderConfig};

#[cfg(feature = "cli")]
mod cli;
pub mod conformance;
pub mod contract;
pub mod duration;
pub mod event;
pub mod fuzz;
pub mod load;
mod output;
pub mod proxy;
pub mod receiver;
pub mod recording;
pub mod report;
pub mod result;
pub mod runner;
pub mod scenario;
mod secret;
pub mod sender;
pub mod serve;
pub mod snapshot;
pub mod stop;

/// Runs the command-line tool on this process's arguments and returns the
/// exit code (0 passed, 1 failed, 2 usage error, 3 unreachable, 130
/// interrupted). `src/main.rs` is this and nothing else.
#[cfg(feature = "cli")]
pub fn command_line() -> i32 {
    cli::main()
}
