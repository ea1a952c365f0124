//! One HTTP/1.1 connection per worker, driven through hyper's connection API
//! (as oha does): no pool lookups, no per-request client state. Plain HTTP
//! and HTTPS (with the sender's certificate checks) alike.
//!
//! Connections are kept alive. A receiver may close a kept-alive connection
//! without saying so (uvicorn after an unhandled exception, an expired
//! keep-alive timeout, a proxy); a request sent on it in that moment fails
//! before any byte of an answer arrives. Such a request is sent once more on
//! a fresh connection and counted as resent, so HTTP/1.1's keep-alive race
//! is never blamed on the receiver. A request that fails on a fresh
//! connection is not resent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::sender::{LeanAttempt, MAX_RESPONSE_BODY, Outcome, SetupError, TlsOptions, tls};

/// Where a receiver is, and how to speak to it.
#[derive(Clone)]
pub struct Endpoint {
    /// `host:port`, for connecting.
    authority: String,
    host: HeaderValue,
    /// Path and query.
    uri: Uri,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("authority", &self.authority)
            .field("uri", &self.uri)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Why a URL cannot be a load target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Not an `http://` or `https://` URL with a host.
    #[error("`{0}` is not an http(s) URL with a host")]
    NotHttp(String),
    /// The certificate settings are unusable.
    #[error(transparent)]
    Setup(#[from] SetupError),
}

impl Endpoint {
    /// The target of an `http://` or `https://` URL.
    pub fn of(url: &reqwest::Url, tls_options: &TlsOptions) -> Result<Endpoint, EndpointError> {
        let not_http = || EndpointError::NotHttp(url.to_string());
        let host = url.host_str().ok_or_else(not_http)?;
        let port = url.port_or_known_default().ok_or_else(not_http)?;
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let tls = match url.scheme() {
            "http" => None,
            "https" => {
                let config = tls::client_config(tls_options).map_err(SetupError::from)?;
                let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                    .map_err(|_| not_http())?;
                Some((TlsConnector::from(Arc::new(config)), name))
            }
            _ => return Err(not_http()),
        };
        Ok(Endpoint {
            host: HeaderValue::from_str(&authority).map_err(|_| not_http())?,
            authority,
            uri: path.parse().map_err(|_| not_http())?,
            tls,
        })
    }

    /// The `Host` header value every request to this target carries.
    pub fn host(&self) -> HeaderValue {
        self.host.clone()
    }
}

/// A kept-alive connection that reconnects when it breaks.
pub struct Connection {
    target: Endpoint,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// Requests answered on the current connection.
    served: u64,
    /// One timer, reset for every request rather than created anew.
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
}

/// Why an exchange ended without a status.
enum Broken {
    /// Before any byte of an answer: safe to send again on a new connection
    /// when the connection had carried a request before.
    BeforeAnswer,
}

impl Connection {
    /// A connection to `target`, opened on first use.
    pub fn new(target: Endpoint) -> Connection {
        Connection {
            target,
            sender: None,
            served: 0,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
        }
    }

    /// POSTs what `render` makes (headers must include `Host`); reads at
    /// most [`MAX_RESPONSE_BODY`] of the answer; all within `timeout`.
    pub async fn post(
        &mut self,
        render: &(dyn Fn() -> (Bytes, HeaderMap) + Sync),
        timeout: Duration,
    ) -> LeanAttempt {
        let started = Instant::now();
        let Connection {
            target,
            sender,
            served,
            timer,
        } = self;
        timer
            .as_mut()
            .reset(tokio::time::Instant::from_std(started) + timeout);
        let mut resent = false;
        let work = async {
            loop {
                let reused = *served > 0 && sender.as_ref().is_some_and(|s| !s.is_closed());
                let (body, headers) = render();
                match exchange(sender, target, headers, body).await {
                    Ok((status, reusable)) => {
                        *served += 1;
                        if !reusable {
                            *sender = None;
                            *served = 0;
                        }
                        return Some(status);
                    }
                    Err(Broken::BeforeAnswer) => {
                        *sender = None;
                        *served = 0;
                        if reused && !resent {
                            resent = true;
                            continue;
                        }
                        return None;
                    }
                }
            }
        };
        let result = tokio::select! {
            biased;
            r = work => Ok(r),
            _ = timer.as_mut() => Err(()),
        };
        let (status, outcome) = match result {
            Ok(Some(status)) => (Some(status), Outcome::of_status(status)),
            Ok(None) => (None, Outcome::ConnectionError),
            Err(()) => {
                *sender = None;
                *served = 0;
                (None, Outcome::Timeout)
            }
        };
        LeanAttempt {
            status,
            outcome,
            latency: started.elapsed(),
            resent,
        }
    }
}

/// Opens the connection when there is none (or it closed).
async fn connect<'a>(
    slot: &'a mut Option<SendRequest<Full<Bytes>>>,
    target: &Endpoint,
) -> Result<&'a mut SendRequest<Full<Bytes>>, Broken> {
    if slot.as_ref().is_some_and(|s| s.is_closed()) {
        *slot = None;
    }
    if slot.is_none() {
        let stream = TcpStream::connect(&target.authority)
            .await
            .map_err(|_| Broken::BeforeAnswer)?;
        let _ = stream.set_nodelay(true);
        let sender = match &target.tls {
            None => handshake(stream).await?,
            Some((connector, name)) => {
                let stream = connector
                    .connect(name.clone(), stream)
                    .await
                    .map_err(|_| Broken::BeforeAnswer)?;
                handshake(stream).await?
            }
        };
        *slot = Some(sender);
    }
    slot.as_mut().ok_or(Broken::BeforeAnswer)
}

async fn handshake<IO>(io: IO) -> Result<SendRequest<Full<Bytes>>, Broken>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|_| Broken::BeforeAnswer)?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Status, and whether the connection can carry another request.
async fn exchange(
    slot: &mut Option<SendRequest<Full<Bytes>>>,
    target: &Endpoint,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(u16, bool), Broken> {
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = target.uri.clone();
    *request.headers_mut() = headers;
    let sender = connect(slot, target).await?;
    sender.ready().await.map_err(|_| Broken::BeforeAnswer)?;
    // Any error here came before the response head: nothing of an answer arrived.
    let response = sender
        .send_request(request)
        .await
        .map_err(|_| Broken::BeforeAnswer)?;
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
