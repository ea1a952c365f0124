//! How it is sent: readiness check, POST, retry policy, attempt records.
//!
//! A [`Sender`] imitates the Inference.net sender. One [`Sender::deliver`] is:
//! an `OPTIONS` readiness check (until it passes once), then a `POST`, retried
//! per the contract: 2xx done; 4xx dropped; 3xx reported, never followed;
//! 5xx, timeout and connection failures retried with exponential backoff.
//! Every attempt is bounded by the per-attempt timeout.

mod attempt;
mod failure;
pub mod tls;
mod transport;
pub mod url;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::contract::{Next, RetryPolicy};
use crate::event::Event;
use transport::Transport;

pub use crate::duration::format as format_duration;
pub use attempt::{Attempt, LeanAttempt, Outcome, Phase};
pub use failure::{Failure, TlsReason};
pub use tls::TlsSetupError;

/// Sees every request a [`Sender`] makes, once it ended and before the
/// sender goes on, and may hold it up meanwhile: the run's watchdog
/// ([`crate::stop::Watchdog`]) is one, which confirms that a receiver that
/// stopped answering is down before the run stops.
pub trait Observer: Send + Sync + std::fmt::Debug {
    /// Called with each attempt of `sender`, which the observer may use to
    /// send requests of its own ([`Sender::unobserved`]: they are not shown to
    /// it).
    fn observe<'a>(&'a self, attempt: &'a Attempt, sender: &'a Sender) -> BoxFuture<'a, ()>;

    /// Whether the receiver answers at all, asked through `sender`.
    fn answers<'a>(&'a self, sender: &'a Sender) -> BoxFuture<'a, bool>;
}

/// The most time connecting may take (resolving, TCP and the TLS
/// handshake), when the attempt's timeout is longer: past it the attempt is
/// a failure to connect, not a timeout.
pub const CONNECT_LIMIT: Duration = Duration::from_secs(10);

/// Most of a response body that is read; the rest is not read at all.
pub const MAX_RESPONSE_BODY: usize = 64 * 1024;

/// How the sender behaves. The defaults are the contract's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderConfig {
    /// Time allowed for one attempt, from connecting to the end of the body read.
    pub timeout: Duration,
    /// Retries after the first attempt (the contract's 3).
    pub retries: u32,
    /// Delay before the first retry; each further retry doubles it.
    pub backoff: Duration,
    /// Whether an `OPTIONS` readiness check precedes the first `POST`.
    pub readiness: bool,
    /// Send header names in Title-Case (`Content-Type`) rather than lower case.
    pub title_case_headers: bool,
    /// Certificate checks for `https://` targets.
    pub tls: TlsOptions,
}

/// How `https://` targets are verified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// A PEM file of the CA certificates to trust instead of the system roots (a private CA).
    pub ca_cert: Option<std::path::PathBuf>,
    /// Accept any certificate: for a self-signed development certificate only.
    pub insecure: bool,
}

impl Default for SenderConfig {
    fn default() -> Self {
        SenderConfig {
            timeout: crate::contract::TIMEOUT,
            retries: RetryPolicy::CONTRACT.retries,
            backoff: RetryPolicy::CONTRACT.backoff,
            readiness: true,
            title_case_headers: false,
            tls: TlsOptions::default(),
        }
    }
}

impl SenderConfig {
    /// The retry policy these settings describe.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            retries: self.retries,
            backoff: self.backoff,
        }
    }
}

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryResult {
    /// A `POST` was answered 2xx.
    Delivered,
    /// The readiness check failed and would not be retried (3xx, 4xx, other).
    NotReady,
    /// A `POST` was answered 4xx: the sender drops the event.
    Dropped,
    /// A `POST` was answered 3xx: the sender does not follow redirects.
    Redirected,
    /// A `POST` was answered with a status outside 2xx-5xx.
    Unexpected,
    /// Every attempt failed with a retryable outcome.
    GaveUp,
    /// The run was stopped before the delivery ended.
    Stopped,
}

impl DeliveryResult {
    /// Words for a console line.
    pub fn describe(self) -> &'static str {
        match self {
            DeliveryResult::Delivered => "delivered",
            DeliveryResult::NotReady => "not delivered: the readiness check (OPTIONS) failed",
            DeliveryResult::Dropped => {
                "dropped: the receiver answered 4xx, the sender does not retry"
            }
            DeliveryResult::Redirected => {
                "not delivered: the receiver answered a redirect, which the sender does not follow"
            }
            DeliveryResult::Unexpected => {
                "not delivered: the receiver answered an unexpected status"
            }
            DeliveryResult::GaveUp => "not delivered: every attempt failed, retries exhausted",
            DeliveryResult::Stopped => "not delivered: stopped before the delivery ended",
        }
    }
}

/// The record of one delivery: every attempt, in order, and the result.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Delivery {
    /// Every request made: the readiness check, POSTs and retries, in order.
    pub attempts: Vec<Attempt>,
    /// How the delivery ended.
    pub result: DeliveryResult,
}

impl Delivery {
    /// Whether a `POST` was answered 2xx.
    pub fn delivered(&self) -> bool {
        self.result == DeliveryResult::Delivered
    }

    /// The number of `POST` attempts made.
    pub fn posts(&self) -> usize {
        self.attempts
            .iter()
            .filter(|a| a.phase == Phase::Delivery)
            .count()
    }
}

/// A request the sender can make, headers and body as given.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Which part of a delivery the request is.
    pub phase: Phase,
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The URL to send it to.
    pub url: &'a str,
    /// The request headers, name and value, in the order sent.
    pub headers: &'a [(String, String)],
    /// The request body.
    pub body: Bytes,
}

/// Sends events like the Inference.net sender does.
///
/// Every request goes on a connection of its own, as a sender delivering
/// events minutes apart to many endpoints has no warm connection to reuse:
/// a receiver that closes kept-alive connections without saying so (uvicorn
/// after an unhandled exception, a keep-alive timeout, a proxy) cannot make
/// a request fail that it would have answered.
#[derive(Debug, Clone)]
pub struct Sender {
    transport: Transport,
    config: SenderConfig,
    cancel: CancellationToken,
    observer: Option<Arc<dyn Observer>>,
}

/// The sender could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// The certificate settings are unusable.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
}

impl Sender {
    /// A sender. Redirects are never followed and proxies from the
    /// environment are not used.
    pub fn new(config: SenderConfig) -> Result<Sender, SetupError> {
        // Connecting has at most CONNECT_LIMIT; with a shorter timeout the
        // timeout decides alone (the limit is put past it, so that the two
        // never race at the same instant and the words are always the same).
        let connect_limit = if config.timeout > CONNECT_LIMIT {
            CONNECT_LIMIT
        } else {
            config.timeout + Duration::from_secs(1)
        };
        let transport = Transport::new(
            tls::client_config(&config.tls)?,
            config.title_case_headers,
            connect_limit,
        );
        Ok(Sender {
            transport,
            config,
            cancel: CancellationToken::new(),
            observer: None,
        })
    }

    /// The same sender, its requests and waits ending at once (as
    /// [`Outcome::Cancelled`], [`DeliveryResult::Stopped`]) when `cancel`
    /// is cancelled: a run's [`crate::stop::Stop::token`].
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Sender {
        self.cancel = cancel;
        self
    }

    /// The same sender, showing every request to `observer`.
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Sender {
        self.observer = Some(observer);
        self
    }

    /// The same sender without its observer: for the observer's own requests.
    pub fn unobserved(&self) -> Sender {
        Sender {
            observer: None,
            ..self.clone()
        }
    }

    /// Whether the receiver answers at all, as the observer finds (true
    /// when there is none): for the watchdog, a plain valid delivery gets
    /// any answer within [`crate::stop::CONFIRM_WINDOW`].
    pub async fn receiver_answers(&self) -> bool {
        match &self.observer {
            Some(observer) => observer.answers(self).await,
            None => true,
        }
    }

    fn exchange(&self) -> attempt::Exchange<'_> {
        attempt::Exchange {
            transport: &self.transport,
            timeout: self.config.timeout,
            ca_file_given: self.config.tls.ca_cert.is_some(),
            stop: &self.cancel,
        }
    }

    /// The same sender with the readiness check off.
    pub fn without_readiness(&self) -> Sender {
        let mut config = self.config.clone();
        config.readiness = false;
        self.with_config(config)
    }

    /// The same client with another configuration (TLS and header case stay).
    pub fn with_config(&self, config: SenderConfig) -> Sender {
        Sender {
            transport: self.transport.clone(),
            config,
            cancel: self.cancel.clone(),
            observer: self.observer.clone(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &SenderConfig {
        &self.config
    }

    /// Delivers `event` to `url` with readiness check and retries.
    pub async fn deliver(&self, url: &str, event: &Event) -> Delivery {
        self.deliver_observed(
            url,
            &event_headers(event),
            event.body().clone(),
            &mut |_| {},
        )
        .await
    }

    /// Like [`Self::deliver`] with any headers and body; `observe` sees each
    /// attempt as soon as it ends (before the backoff wait that may follow).
    pub async fn deliver_observed(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Bytes,
        observe: &mut (dyn FnMut(&Attempt) + Send),
    ) -> Delivery {
        let mut attempts = Vec::new();
        let mut ready = !self.config.readiness;
        let policy = self.config.retry_policy();
        let mut retries = 0;
        loop {
            let mut attempt = if ready {
                self.send(Request {
                    phase: Phase::Delivery,
                    method: "POST",
                    url,
                    headers,
                    body: body.clone(),
                })
                .await
            } else {
                self.readiness(url).await
            };
            let next = attempt
                .outcome
                .answered()
                .map(|answered| policy.next(answered, retries));
            let result = match (attempt.phase, attempt.outcome, next) {
                (_, Outcome::Cancelled, _) => DeliveryResult::Stopped,
                (Phase::Readiness, Outcome::Success, _) => {
                    ready = true;
                    observe(&attempt);
                    attempts.push(attempt);
                    continue;
                }
                (_, _, Some(Next::RetryAfter(wait))) => {
                    retries += 1;
                    attempt.retry_in = Some(wait);
                    observe(&attempt);
                    attempts.push(attempt);
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = self.cancel.cancelled() => {
                            return Delivery { attempts, result: DeliveryResult::Stopped };
                        }
                    }
                    continue;
                }
                (Phase::Delivery, Outcome::Success, _) => DeliveryResult::Delivered,
                (_, _, Some(Next::GiveUp)) => DeliveryResult::GaveUp,
                (Phase::Readiness, _, _) => DeliveryResult::NotReady,
                (Phase::Delivery, Outcome::ClientError, _) => DeliveryResult::Dropped,
                (Phase::Delivery, Outcome::Redirect, _) => DeliveryResult::Redirected,
                (Phase::Delivery | Phase::Probe, _, _) => DeliveryResult::Unexpected,
            };
            observe(&attempt);
            attempts.push(attempt);
            return Delivery { attempts, result };
        }
    }

    /// One `OPTIONS` readiness check.
    pub async fn readiness(&self, url: &str) -> Attempt {
        self.send(Request {
            phase: Phase::Readiness,
            method: "OPTIONS",
            url,
            headers: &[("User-Agent".into(), crate::event::USER_AGENT.into())],
            body: Bytes::new(),
        })
        .await
    }

    /// One request, bounded by the per-attempt timeout, with the response body
    /// read up to [`MAX_RESPONSE_BODY`].
    pub async fn send(&self, request: Request<'_>) -> Attempt {
        let attempt = attempt::send(self.exchange(), request).await;
        if let Some(observer) = &self.observer {
            observer.observe(&attempt, self).await;
        }
        attempt
    }
}

/// The contract's headers of `event`, as owned pairs.
pub fn event_headers(event: &Event) -> Vec<(String, String)> {
    event
        .headers()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_contract() {
        let c = SenderConfig::default();
        assert_eq!(c.retry_policy(), RetryPolicy::CONTRACT);
        assert_eq!(c.timeout, crate::contract::TIMEOUT);
    }
}
