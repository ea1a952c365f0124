//! How it is sent: readiness check, POST, retry policy, attempt records.
//!
//! A [`Sender`] imitates the Inference.net sender. One [`Sender::deliver`] is:
//! an `OPTIONS` readiness check (until it passes once), then a `POST`, retried
//! per the contract: 2xx done; 4xx dropped; 3xx reported, never followed;
//! 5xx, timeout and connection failures retried with exponential backoff.
//! Every attempt is bounded by the per-attempt timeout.

mod attempt;

use std::time::Duration;

use bytes::Bytes;

use crate::event::Event;

pub use attempt::{Attempt, LeanAttempt, Outcome, Phase, format_duration};

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
            timeout: Duration::from_secs(30),
            retries: 3,
            backoff: Duration::from_secs(1),
            readiness: true,
            title_case_headers: false,
            tls: TlsOptions::default(),
        }
    }
}

impl SenderConfig {
    /// The delay before retry number `retry` (1-based): `backoff * 2^(retry-1)`.
    pub fn backoff_before(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor)
    }
}

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        }
    }
}

/// The record of one delivery: every attempt, in order, and the result.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub attempts: Vec<Attempt>,
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
    pub phase: Phase,
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    pub body: Bytes,
}

/// Sends events like the Inference.net sender does.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    config: SenderConfig,
}

/// The sender could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(String);

impl Sender {
    /// A sender with its own connection pool. Redirects are never followed and
    /// proxies from the environment are not used.
    pub fn new(config: SenderConfig) -> Result<Sender, SetupError> {
        let mut builder = reqwest::Client::builder();
        if config.title_case_headers {
            builder = builder.http1_title_case_headers();
        }
        if let Some(path) = &config.tls.ca_cert {
            let pem = std::fs::read(path).map_err(|e| {
                SetupError(format!(
                    "cannot read --ca-cert {}: {e}; give a PEM file of CA certificates",
                    path.display()
                ))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                SetupError(format!("--ca-cert {} holds no PEM certificate ({e}); give a PEM file of CA certificates", path.display()))
            })?;
            if certs.is_empty() {
                return Err(SetupError(format!(
                    "--ca-cert {} holds no PEM certificate; give a PEM file of CA certificates",
                    path.display()
                )));
            }
            builder = builder.tls_certs_only(certs);
        }
        if config.tls.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| SetupError(format!("could not set up the HTTP client: {e}")))?;
        Ok(Sender { client, config })
    }

    /// The same sender (same connection pool) with the readiness check off.
    pub fn without_readiness(&self) -> Sender {
        let mut config = self.config.clone();
        config.readiness = false;
        self.with_config(config)
    }

    /// The same connection pool with another configuration.
    pub fn with_config(&self, config: SenderConfig) -> Sender {
        Sender {
            client: self.client.clone(),
            config,
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
        let mut retry = 0;
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
            let result = match (attempt.phase, attempt.outcome) {
                (Phase::Readiness, Outcome::Success) => {
                    ready = true;
                    observe(&attempt);
                    attempts.push(attempt);
                    continue;
                }
                (Phase::Delivery, Outcome::Success) => Some(DeliveryResult::Delivered),
                (_, o) if o.is_retryable() => {
                    (retry >= self.config.retries).then_some(DeliveryResult::GaveUp)
                }
                (Phase::Readiness, _) => Some(DeliveryResult::NotReady),
                (Phase::Delivery, Outcome::ClientError) => Some(DeliveryResult::Dropped),
                (Phase::Delivery, Outcome::Redirect) => Some(DeliveryResult::Redirected),
                (Phase::Delivery | Phase::Probe, _) => Some(DeliveryResult::Unexpected),
            };
            if let Some(result) = result {
                observe(&attempt);
                attempts.push(attempt);
                return Delivery { attempts, result };
            }
            retry += 1;
            let wait = self.config.backoff_before(retry);
            attempt.retry_in = Some(wait);
            observe(&attempt);
            attempts.push(attempt);
            tokio::time::sleep(wait).await;
        }
    }

    /// One POST on the lean path used under load: status and outcome only.
    /// The URL is parsed once by the caller, not per request.
    pub async fn post_lean(
        &self,
        url: reqwest::Url,
        headers: reqwest::header::HeaderMap,
        body: Bytes,
    ) -> LeanAttempt {
        attempt::post_lean(&self.client, self.config.timeout, url, headers, body).await
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
        attempt::send(&self.client, self.config.timeout, request).await
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
    fn backoff_doubles() {
        let c = SenderConfig {
            backoff: Duration::from_millis(100),
            ..Default::default()
        };
        assert_eq!(c.backoff_before(1), Duration::from_millis(100));
        assert_eq!(c.backoff_before(2), Duration::from_millis(200));
        assert_eq!(c.backoff_before(3), Duration::from_millis(400));
        assert!(c.backoff_before(200) >= Duration::from_secs(1));
    }
}
