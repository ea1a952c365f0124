//! One HTTP/1.1 connection per worker, driven through hyper's connection API
//! (as oha does): no pool lookups, no per-request client state. Used for
//! `http://` targets; `https://` goes through the sender's pooled client.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::sender::{LeanAttempt, MAX_RESPONSE_BODY, Outcome};

/// Where a plain HTTP target is.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`, for connecting.
    authority: String,
    host: HeaderValue,
    /// Path and query.
    uri: Uri,
}

impl Target {
    /// The target of an `http://` URL; `None` for other schemes.
    pub fn of(url: &reqwest::Url) -> Option<Target> {
        if url.scheme() != "http" {
            return None;
        }
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        Some(Target {
            host: HeaderValue::from_str(&authority).ok()?,
            authority,
            uri: path.parse().ok()?,
        })
    }
}

/// A connection that reconnects when it breaks.
pub struct Connection {
    target: Target,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// One timer, reset for every request rather than created anew.
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Connection {
    /// A connection to `target`, opened on first use.
    pub fn new(target: Target) -> Connection {
        Connection {
            target,
            sender: None,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
        }
    }

    /// The `Host` header value every request to this target carries.
    pub fn host(target: &Target) -> HeaderValue {
        target.host.clone()
    }

    /// POSTs `body` with `headers` (which must include `Host`); reads at most
    /// [`MAX_RESPONSE_BODY`] of the answer. Any failure drops the connection,
    /// so the next request opens a fresh one.
    pub async fn post(
        &mut self,
        headers: HeaderMap,
        body: Bytes,
        timeout: Duration,
    ) -> LeanAttempt {
        let started = Instant::now();
        let Connection {
            target,
            sender,
            timer,
        } = self;
        timer
            .as_mut()
            .reset(tokio::time::Instant::from_std(started) + timeout);
        let result = tokio::select! {
            biased;
            r = exchange(sender, target, headers, body) => Ok(r),
            _ = timer.as_mut() => Err(()),
        };
        let (status, outcome) = match result {
            Ok(Ok((status, reusable))) => {
                if !reusable {
                    *sender = None;
                }
                (Some(status), Outcome::of_status(status))
            }
            Ok(Err(())) => {
                *sender = None;
                (None, Outcome::ConnectionError)
            }
            Err(()) => {
                *sender = None;
                (None, Outcome::Timeout)
            }
        };
        LeanAttempt {
            status,
            outcome,
            latency: started.elapsed(),
        }
    }
}

/// Opens the connection when there is none (or it closed).
async fn connect<'a>(
    slot: &'a mut Option<SendRequest<Full<Bytes>>>,
    target: &Target,
) -> Result<&'a mut SendRequest<Full<Bytes>>, ()> {
    if slot.as_ref().is_some_and(|s| s.is_closed()) {
        *slot = None;
    }
    if slot.is_none() {
        let stream = TcpStream::connect(&target.authority)
            .await
            .map_err(|_| ())?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| ())?;
        tokio::spawn(connection);
        *slot = Some(sender);
    }
    slot.as_mut().ok_or(())
}

/// Status, and whether the connection can carry another request.
async fn exchange(
    slot: &mut Option<SendRequest<Full<Bytes>>>,
    target: &Target,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(u16, bool), ()> {
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = target.uri.clone();
    *request.headers_mut() = headers;
    let sender = connect(slot, target).await?;
    sender.ready().await.map_err(|_| ())?;
    let response = sender.send_request(request).await.map_err(|_| ())?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut read = 0;
    while let Some(frame) = body.frame().await {
        // A body that breaks off keeps the status, as in the sender; the
        // connection is not reused.
        let Ok(frame) = frame else {
            return Ok((status, false));
        };
        if let Some(data) = frame.data_ref() {
            read += data.len();
            if read > MAX_RESPONSE_BODY {
                return Ok((status, false));
            }
        }
    }
    Ok((status, true))
}
