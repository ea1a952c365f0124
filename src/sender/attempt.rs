//! One HTTP attempt: send, read a bounded body, classify what came back.

use std::fmt;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::failure::Failure;
use super::transport::Transport;
use super::{MAX_RESPONSE_BODY, Request};
use crate::contract::{Answered, RetryPolicy, StatusClass};
use crate::duration::format as format_duration;

/// Which step of a delivery an attempt belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The `OPTIONS` readiness check.
    Readiness,
    /// The `POST` of the event (or any other request a scenario makes).
    Delivery,
    /// A question to the receiver's effects probe.
    Probe,
}

/// What an attempt came to, as the sender sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// 2xx.
    Success,
    /// 3xx: not followed.
    Redirect,
    /// 4xx: dropped, not retried.
    ClientError,
    /// 5xx: retried.
    ServerError,
    /// A status outside 200-599 (1xx as final answer, 6xx and up): not retried.
    OtherStatus,
    /// No complete answer within the timeout: retried.
    Timeout,
    /// Refused, reset, closed early, or not HTTP: retried.
    ConnectionError,
    /// The request could not be built (bad URL, method or header): not sent.
    InvalidRequest,
    /// The run was stopped while the request was waiting: says nothing of the receiver.
    Cancelled,
}

impl Outcome {
    /// Classifies a status code (the contract's [`StatusClass`]).
    pub fn of_status(status: u16) -> Outcome {
        match StatusClass::of(status) {
            StatusClass::Success => Outcome::Success,
            StatusClass::Redirect => Outcome::Redirect,
            StatusClass::ClientError => Outcome::ClientError,
            StatusClass::ServerError => Outcome::ServerError,
            StatusClass::Informational | StatusClass::Other => Outcome::OtherStatus,
        }
    }

    /// What came back, in the retry policy's terms (`None`: nothing to
    /// decide on: the request was not sent, or the run was stopped).
    pub fn answered(self) -> Option<Answered> {
        Some(match self {
            Outcome::Success => Answered::Status(StatusClass::Success),
            Outcome::Redirect => Answered::Status(StatusClass::Redirect),
            Outcome::ClientError => Answered::Status(StatusClass::ClientError),
            Outcome::ServerError => Answered::Status(StatusClass::ServerError),
            Outcome::OtherStatus => Answered::Status(StatusClass::Other),
            Outcome::Timeout | Outcome::ConnectionError => Answered::Nothing,
            Outcome::InvalidRequest | Outcome::Cancelled => return None,
        })
    }

    /// Whether the sender retries after this outcome (the contract's policy).
    pub fn is_retryable(self) -> bool {
        self.answered().is_some_and(RetryPolicy::retries_after)
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Redirect => "redirect",
            Outcome::ClientError => "client error",
            Outcome::ServerError => "server error",
            Outcome::OtherStatus => "unexpected status",
            Outcome::Timeout => "timeout",
            Outcome::ConnectionError => "connection error",
            Outcome::InvalidRequest => "invalid request",
            Outcome::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The record of one request and what came back.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Attempt {
    /// Which part of a delivery the request was.
    pub phase: Phase,
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The URL it was sent to.
    pub url: String,
    /// The status code, when a response head arrived.
    pub status: Option<u16>,
    /// Response headers, names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// At most [`MAX_RESPONSE_BODY`] bytes of the response body.
    pub body: Bytes,
    /// Whether the body was longer than what was read.
    pub body_truncated: bool,
    /// From sending the request to the end of the body read (or the failure).
    pub latency: Duration,
    /// What the attempt came to, as the sender sees it.
    pub outcome: Outcome,
    /// What went wrong with the connection or the body, if anything.
    pub failure: Option<Failure>,
    /// The backoff waited before the next attempt, when one followed.
    pub retry_in: Option<Duration>,
    /// The request's headers, as sent (for reports and reproducers).
    pub request_headers: Vec<(String, String)>,
    /// The start of the request's body (at most 4096 bytes).
    pub request_body: Bytes,
    /// The request body's whole length.
    pub request_body_len: usize,
    /// The names of the request body's top-level fields, in order, when the
    /// body is a JSON object (read whole once, nothing else of it kept): so
    /// that a report can tell which fields a refused request lacked.
    pub request_fields: Option<Vec<String>>,
}

/// How much of a request's body an attempt keeps, for reports.
pub const REQUEST_BODY_KEPT: usize = 4096;

impl Attempt {
    fn new(request: &Request<'_>) -> Attempt {
        Attempt {
            phase: request.phase,
            method: request.method.to_owned(),
            url: request.url.to_owned(),
            status: None,
            headers: Vec::new(),
            body: Bytes::new(),
            body_truncated: false,
            latency: Duration::ZERO,
            outcome: Outcome::InvalidRequest,
            failure: None,
            retry_in: None,
            request_headers: request.headers.to_vec(),
            // A copy, not a slice: a slice would keep a 10 MB body alive.
            request_body: Bytes::copy_from_slice(
                &request.body[..request.body.len().min(REQUEST_BODY_KEPT)],
            ),
            request_body_len: request.body.len(),
            request_fields: match crate::event::skeleton::top_level_keys(&request.body) {
                (fields, true) => Some(fields),
                _ => None,
            },
        }
    }

    /// The first value of response header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy), for messages.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// What came back, in words for a failure message: `503 (server error)
    /// with body "..."`, or `no answer: connection refused`.
    pub fn answer(&self) -> String {
        let mut text = match self.status {
            Some(s) => format!("{s} ({})", self.outcome),
            None => match &self.failure {
                Some(failure) => format!("no answer: {failure}"),
                None => format!("no answer: {}", self.outcome.name()),
            },
        };
        if let Some(status) = self.status {
            if let Some(location) = self
                .header("location")
                .filter(|_| (300..400).contains(&status))
            {
                text.push_str(&format!(" redirecting to {location}"));
            }
            let body = self.body_text();
            let body = body.trim();
            if !body.is_empty() {
                let short: String = body.chars().take(120).collect();
                let more = if short.len() < body.len() { "…" } else { "" };
                text.push_str(&format!(" with body {short:?}{more}"));
            }
            if let Some(e) = &self.failure {
                text.push_str(&format!("; {e}"));
            }
        }
        text
    }

    /// One console line: `POST http://… -> 503 in 2.1ms (server error, retry in 1s)`.
    pub fn describe(&self) -> String {
        let answer = match self.status {
            Some(s) => s.to_string(),
            None => "no answer".to_owned(),
        };
        let mut detail = self.outcome.name().to_owned();
        if let Some(e) = &self.failure {
            detail = format!("{detail}: {e}");
        }
        if let Some(wait) = self.retry_in {
            detail = format!("{detail}, retry in {}", format_duration(wait));
        }
        format!(
            "{:<7} {} -> {} in {} ({})",
            self.method,
            self.url,
            answer,
            format_duration(self.latency),
            detail
        )
    }
}

/// How one request is made: the transport, the time allowed, and when to give up early.
pub(super) struct Exchange<'a> {
    pub transport: &'a Transport,
    pub timeout: Duration,
    /// Whether a CA file was given (for the words of a TLS refusal).
    pub ca_file_given: bool,
    pub stop: &'a tokio_util::sync::CancellationToken,
}

/// Sends one request and records what came back; never exceeds `timeout`,
/// and ends at once (as [`Outcome::Cancelled`]) when the run is stopped.
pub(super) async fn send(exchange: Exchange<'_>, request: Request<'_>) -> Attempt {
    let mut attempt = Attempt::new(&request);
    let started = Instant::now();
    tokio::select! {
        biased;
        _ = exchange.stop.cancelled() => {
            attempt.outcome = Outcome::Cancelled;
            attempt.failure = Some(Failure::Cancelled);
        }
        _ = perform(&exchange, &request, &mut attempt) => {}
    }
    attempt.latency = started.elapsed();
    attempt
}

async fn perform(exchange: &Exchange<'_>, request: &Request<'_>, attempt: &mut Attempt) {
    let deadline = tokio::time::Instant::now() + exchange.timeout;
    let sent = exchange
        .transport
        .send(request, deadline, exchange.ca_file_given);
    match tokio::time::timeout_at(deadline, sent).await {
        Err(_) => {
            attempt.outcome = Outcome::Timeout;
            attempt.failure = Some(Failure::Timeout(exchange.timeout));
        }
        Ok(Err(failure)) => {
            if !matches!(failure, Failure::InvalidRequest(_)) {
                attempt.outcome = Outcome::ConnectionError;
            }
            attempt.failure = Some(failure);
        }
        Ok(Ok((response, connection))) => {
            let status = response.status().as_u16();
            attempt.status = Some(status);
            attempt.outcome = Outcome::of_status(status);
            attempt.headers = response
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let complete = read_body(
                response.into_body(),
                deadline,
                exchange.ca_file_given,
                attempt,
            )
            .await;
            if complete {
                connection.release();
            }
        }
    }
}

/// The result of a lean attempt (the load path): no headers or body kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeanAttempt {
    /// The status code, when a response head arrived.
    pub status: Option<u16>,
    /// What the attempt came to, as the sender sees it.
    pub outcome: Outcome,
    /// From sending the request to the end of the body read (or the failure).
    pub latency: Duration,
    /// Whether the request was sent a second time on a fresh connection,
    /// because the kept-alive connection it was first sent on turned out to
    /// be closed before any byte of an answer came back.
    pub resent: bool,
}

/// Reads at most [`MAX_RESPONSE_BODY`] bytes before `deadline`; a body that
/// stalls or breaks keeps the status as the outcome and notes the problem.
/// True when the body was read to its end.
async fn read_body(
    mut body: Incoming,
    deadline: tokio::time::Instant,
    ca_file_given: bool,
    attempt: &mut Attempt,
) -> bool {
    let mut read = BytesMut::new();
    let mut complete = false;
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                attempt.failure = Some(Failure::BodyStalled { read: read.len() });
                break;
            }
            Ok(Some(Err(e))) => {
                attempt.failure = Some(Failure::BodyIncomplete {
                    read: read.len(),
                    cause: Box::new(Failure::of_error(&e, ca_file_given)),
                });
                break;
            }
            Ok(None) => {
                complete = true;
                break;
            }
            Ok(Some(Ok(frame))) => {
                // Trailers say nothing the sender reads.
                let Ok(chunk) = frame.into_data() else {
                    continue;
                };
                let room = MAX_RESPONSE_BODY - read.len();
                if chunk.len() > room {
                    read.extend_from_slice(&chunk[..room]);
                    attempt.body_truncated = true;
                    attempt.failure = Some(Failure::BodyTooLarge {
                        limit: MAX_RESPONSE_BODY,
                    });
                    break;
                }
                read.extend_from_slice(&chunk);
            }
        }
    }
    attempt.body = read.freeze();
    complete
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes() {
        assert_eq!(Outcome::of_status(204), Outcome::Success);
        assert_eq!(Outcome::of_status(301), Outcome::Redirect);
        assert_eq!(Outcome::of_status(409), Outcome::ClientError);
        assert_eq!(Outcome::of_status(503), Outcome::ServerError);
        assert_eq!(Outcome::of_status(101), Outcome::OtherStatus);
        assert!(Outcome::Timeout.is_retryable());
        assert!(!Outcome::Redirect.is_retryable());
    }
}
