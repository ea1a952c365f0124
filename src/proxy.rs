//! `proxy`: stands between the real sender and the user's receiver. Every
//! request goes on byte for byte (method, path and query, headers but those
//! of the hop, the raw body), the receiver's answer comes back unchanged,
//! and each exchange is judged against the contract (and recorded, if asked).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hyper::{Method, StatusCode};

use crate::contract::{self, StatusClass};
use crate::event::inspect::{Inspection, inspect};
use crate::receiver::server::{self, HttpRequest, HttpResponse, ServeError, Server};
use crate::recording::{self, Recorder};
use crate::sender::{Failure, Phase, Request, Sender, SenderConfig};

/// How the proxy forwards.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// The receiver: its origin, and its path unless that is `/` (then the
    /// request's own path is kept). The request's query is kept either way.
    pub to: String,
    /// Timeout (the sender's 30 s by default) and TLS checks toward the
    /// receiver; retries and readiness are the real sender's business.
    pub sender: SenderConfig,
    /// Where deliveries are recorded, if anywhere.
    pub record: Option<Arc<Recorder>>,
}

/// What an exchange means to the real sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// A 2xx in time: the delivery is done.
    Handled,
    /// A 2xx after the sender's timeout: the sender had given up and retries.
    TooSlow,
    /// A 4xx: the sender drops the event.
    Dropped,
    /// A 5xx: the sender retries.
    RetryComing,
    /// A 3xx: the sender does not follow it; the event is not delivered.
    NotFollowed,
    /// A status outside 200-599 (or 1xx as final): not delivered.
    OddStatus,
    /// No answer in time: the sender retries (it got 504).
    NoAnswer,
    /// The receiver could not be reached: the sender retries (it got 502).
    Unreachable,
    /// The receiver was reached but closed the connection (or reset it, or
    /// answered what is not HTTP) without an answer: the sender retries (it
    /// got 502).
    NoValidAnswer,
    /// A readiness check answered 2xx.
    Ready,
    /// A readiness check not answered 2xx: the sender delivers nothing.
    NotReady,
    /// A request the sender never makes (not POST or OPTIONS): forwarded, not judged.
    NotADelivery,
}

impl Verdict {
    /// Words for the console.
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Handled => "handled (2xx in time)",
            Verdict::TooSlow => "2xx, but after the sender's 30 s timeout: a retry is coming",
            Verdict::Dropped => "4xx: the sender drops the event",
            Verdict::RetryComing => "5xx: a retry is coming",
            Verdict::NotFollowed => "3xx: the sender does not follow redirects; not delivered",
            Verdict::OddStatus => "a status the sender does not accept; not delivered",
            Verdict::NoAnswer => "no answer in time (504 to the sender): a retry is coming",
            Verdict::Unreachable => "receiver unreachable (502 to the sender): a retry is coming",
            Verdict::NoValidAnswer => {
                "no valid answer from the receiver (502 to the sender): a retry is coming"
            }
            Verdict::Ready => "readiness check passed",
            Verdict::NotReady => "readiness check failed: the sender delivers nothing",
            Verdict::NotADelivery => "not a request the sender makes (forwarded, not judged)",
        }
    }

    /// A short name, for the closing summary.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Handled => "handled",
            Verdict::TooSlow => "too slow",
            Verdict::Dropped => "dropped (4xx)",
            Verdict::RetryComing => "retry coming (5xx)",
            Verdict::NotFollowed => "redirect not followed",
            Verdict::OddStatus => "odd status",
            Verdict::NoAnswer => "no answer",
            Verdict::Unreachable => "unreachable",
            Verdict::NoValidAnswer => "no valid answer",
            Verdict::Ready => "ready",
            Verdict::NotReady => "not ready",
            Verdict::NotADelivery => "not a delivery",
        }
    }

    /// Whether the exchange went as the contract wants.
    pub fn is_good(self) -> bool {
        matches!(self, Verdict::Handled | Verdict::Ready)
    }
}

/// One request through the proxy and its answer.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The recording number of a delivery (in order of arrival).
    pub number: Option<u64>,
    /// The method.
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// What the request holds, and what in it the contract does not describe.
    pub inspection: Inspection,
    /// The receiver's status, if it answered.
    pub status: Option<u16>,
    /// From forwarding to the end of the answer.
    pub latency: Duration,
    /// What went wrong toward the receiver, if anything.
    pub failure: Option<Failure>,
    /// What it means to the sender.
    pub verdict: Verdict,
    /// The recording written, or why none could be.
    pub recorded: Option<Result<PathBuf, String>>,
}

/// A running proxy.
#[derive(Debug)]
pub struct Proxy {
    server: Server,
}

impl Proxy {
    /// Listens on `listen`; `report` is called after each exchange.
    pub async fn start(
        listen: SocketAddr,
        config: ProxyConfig,
        report: impl Fn(Exchange) + Send + Sync + 'static,
    ) -> Result<Proxy, ProxyError> {
        let sender = Sender::new(config.sender.clone()).map_err(ProxyError::Sender)?;
        let listener = server::bind(listen).await.map_err(ProxyError::Listen)?;
        let state = Arc::new((config, sender, report));
        let server = server::serve(listener, move |req| {
            let state = state.clone();
            async move {
                let (config, sender, report) = &*state;
                let (response, exchange) = forward(config, sender, req).await;
                report(exchange);
                response
            }
        })
        .map_err(|source| {
            ProxyError::Listen(ServeError::Listen {
                addr: listen,
                source,
            })
        })?;
        Ok(Proxy { server })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Stops accepting and closes open connections.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The listening side.
    #[error("{0}")]
    Listen(ServeError),
    /// The forwarding side (TLS set-up).
    #[error("{0}")]
    Sender(crate::sender::SetupError),
}

/// The URL a request goes to: `to`'s origin, and `to`'s path unless it is
/// `/` (then the request's path); the request's query added.
pub fn target_url(to: &str, path: &str, query: Option<&str>) -> String {
    let to = to.trim_end_matches('/');
    let after_scheme = to.find("://").map(|i| i + 3).unwrap_or(0);
    let has_path = to[after_scheme..].contains('/');
    let mut url = if has_path {
        to.to_owned()
    } else {
        format!("{to}{path}")
    };
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(q);
    }
    url
}

async fn forward(
    config: &ProxyConfig,
    sender: &Sender,
    req: HttpRequest,
) -> (HttpResponse, Exchange) {
    let arrived = SystemTime::now();
    let delivery = req.method == Method::POST;
    let number = config
        .record
        .as_ref()
        .filter(|_| delivery)
        .map(|r| r.number());
    let headers = req.header_pairs();
    let forwarded = recording::end_to_end(&headers);
    let inspection = if delivery {
        inspect(|name| req.header(name), &req.body)
    } else {
        Inspection {
            webhook_id: req.header(contract::WEBHOOK_ID_HEADER).map(str::to_owned),
            ..Inspection::default()
        }
    };
    let url = target_url(&config.to, &req.path, req.query.as_deref());
    let attempt = sender
        .send(Request {
            phase: Phase::Delivery,
            method: req.method.as_str(),
            url: &url,
            headers: &forwarded,
            body: req.body.clone(),
        })
        .await;
    let verdict = verdict(
        &req.method,
        attempt.status,
        attempt.latency,
        &attempt.failure,
    );
    let response = match attempt.status {
        Some(status) => {
            let mut response =
                hyper::Response::new(http_body_util::Full::new(attempt.body.clone()));
            *response.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            for (name, value) in &recording::end_to_end(&attempt.headers) {
                if let (Ok(n), Ok(v)) = (
                    hyper::header::HeaderName::from_bytes(name.as_bytes()),
                    hyper::header::HeaderValue::from_str(value),
                ) {
                    response.headers_mut().append(n, v);
                }
            }
            response
        }
        None => {
            let (status, what) = match verdict {
                Verdict::NoAnswer => (
                    StatusCode::GATEWAY_TIMEOUT,
                    "the receiver did not answer in time",
                ),
                Verdict::NoValidAnswer => (
                    StatusCode::BAD_GATEWAY,
                    "the receiver closed the connection without a valid answer",
                ),
                _ => (StatusCode::BAD_GATEWAY, "the receiver could not be reached"),
            };
            server::respond(status, "text/plain", Bytes::from_static(what.as_bytes()))
        }
    };
    let recorded = match (&config.record, number) {
        (Some(recorder), Some(number)) => {
            // Writing the files is blocking I/O (up to 16 MiB): off the
            // async workers, so other deliveries go on being forwarded.
            let (recorder, headers, body, inspection) = (
                recorder.clone(),
                headers.clone(),
                req.body.clone(),
                inspection.clone(),
            );
            let (method, path, query) = (
                req.method.as_str().to_owned(),
                req.path.clone(),
                req.query.clone(),
            );
            let answer = recording::answer_words(
                attempt.status,
                attempt.latency,
                attempt.failure.as_ref().map(|f| f.to_string()).as_deref(),
            );
            let answer_body = attempt.status.map(|_| {
                String::from_utf8_lossy(&attempt.body[..attempt.body.len().min(2048)]).into_owned()
            });
            let written = tokio::task::spawn_blocking(move || {
                let delivery = recording::Delivery {
                    at: arrived,
                    method: &method,
                    path: &path,
                    query: query.as_deref(),
                    headers: &headers,
                    body: &body,
                    inspection: &inspection,
                    answer,
                    answer_body,
                };
                recorder
                    .record(number, &delivery)
                    .map_err(|e| e.to_string())
            })
            .await;
            Some(written.unwrap_or_else(|e| Err(format!("the recording task failed: {e}"))))
        }
        _ => None,
    };
    let exchange = Exchange {
        number,
        method: req.method.as_str().to_owned(),
        target: match &req.query {
            Some(q) => format!("{}?{q}", req.path),
            None => req.path.clone(),
        },
        inspection,
        status: attempt.status,
        latency: attempt.latency,
        failure: attempt.failure.clone(),
        verdict,
        recorded,
    };
    (response, exchange)
}

/// What the answer means to the sender.
fn verdict(
    method: &Method,
    status: Option<u16>,
    latency: Duration,
    failure: &Option<Failure>,
) -> Verdict {
    let readiness = method == Method::OPTIONS;
    if !readiness && method != Method::POST && failure.is_none() {
        return Verdict::NotADelivery;
    }
    match status.map(StatusClass::of) {
        Some(StatusClass::Success) if readiness => Verdict::Ready,
        Some(_) if readiness => Verdict::NotReady,
        Some(StatusClass::Success) if latency > contract::TIMEOUT => Verdict::TooSlow,
        Some(StatusClass::Success) => Verdict::Handled,
        Some(StatusClass::ClientError) => Verdict::Dropped,
        Some(StatusClass::ServerError) => Verdict::RetryComing,
        Some(StatusClass::Redirect) => Verdict::NotFollowed,
        Some(StatusClass::Informational | StatusClass::Other) => Verdict::OddStatus,
        None if readiness => Verdict::NotReady,
        None => match failure {
            Some(Failure::Timeout(_)) => Verdict::NoAnswer,
            Some(f) if !f.is_unreachable() => Verdict::NoValidAnswer,
            _ => Verdict::Unreachable,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_keeps_the_request_path_only_when_to_has_none() {
        assert_eq!(
            target_url("http://127.0.0.1:3000", "/hooks/in", Some("a=1")),
            "http://127.0.0.1:3000/hooks/in?a=1"
        );
        assert_eq!(
            target_url("http://127.0.0.1:3000/", "/hooks/in", None),
            "http://127.0.0.1:3000/hooks/in"
        );
        assert_eq!(
            target_url("http://127.0.0.1:3000/webhook", "/anything", Some("a=1")),
            "http://127.0.0.1:3000/webhook?a=1"
        );
    }

    #[test]
    fn verdicts_follow_the_contract() {
        let post = Method::POST;
        let fast = Duration::from_millis(5);
        assert_eq!(verdict(&post, Some(200), fast, &None), Verdict::Handled);
        assert_eq!(
            verdict(&post, Some(200), contract::TIMEOUT + fast, &None),
            Verdict::TooSlow
        );
        assert_eq!(verdict(&post, Some(404), fast, &None), Verdict::Dropped);
        assert_eq!(verdict(&post, Some(503), fast, &None), Verdict::RetryComing);
        assert_eq!(verdict(&post, Some(301), fast, &None), Verdict::NotFollowed);
        assert_eq!(
            verdict(&post, None, fast, &Some(Failure::Refused)),
            Verdict::Unreachable
        );
        assert_eq!(
            verdict(&post, None, fast, &Some(Failure::Timeout(fast))),
            Verdict::NoAnswer
        );
        // Reached, then closed without an answer: not "unreachable".
        for closed in [
            Failure::ClosedWhileSending,
            Failure::Reset,
            Failure::ClosedEarly,
        ] {
            assert_eq!(
                verdict(&post, None, fast, &Some(closed)),
                Verdict::NoValidAnswer
            );
        }
        assert_eq!(
            verdict(&Method::OPTIONS, Some(204), fast, &None),
            Verdict::Ready
        );
        assert_eq!(
            verdict(&Method::OPTIONS, Some(405), fast, &None),
            Verdict::NotReady
        );
    }
}
