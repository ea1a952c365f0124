//! A small HTTP/1.1 server for receivers: the reference one and test doubles.
//!
//! Requests reach the handler with their body already read (bounded in size
//! and time), so a handler is a plain async function of a [`HttpRequest`].

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::service::service_fn;
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// Largest request body a receiver reads (the contract's 10 MB limit, with room).
pub const MAX_REQUEST_BODY: usize = 16 * 1024 * 1024;
/// Time allowed to read a request's headers or body.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A request with its body read.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// The request method.
    pub method: Method,
    /// The path, without the query, e.g. `/webhook`.
    pub path: String,
    /// The query string after `?`, if any, still URL-encoded.
    pub query: Option<String>,
    /// The request headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl HttpRequest {
    /// The first value of header `name` as text, if present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every header as (name, value) text, in order (values lossily decoded).
    pub fn header_pairs(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect()
    }

    /// The decoded value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// The response type handlers return.
pub type HttpResponse = Response<Full<Bytes>>;

/// Builds a response with a body and content type.
pub fn respond(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> HttpResponse {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, v);
    }
    response
}

/// Builds a JSON response.
pub fn json(status: StatusCode, value: &serde_json::Value) -> HttpResponse {
    respond(status, "application/json", value.to_string())
}

/// A running server; dropping it stops accepting connections.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Server {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and closes open connections.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let _ = (&mut self.task).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Why a receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Another program listens on the address.
    #[error(
        "cannot listen on {0}: the port is in use; stop the other program or choose another port"
    )]
    PortInUse(SocketAddr),
    /// The address cannot be listened on for another reason.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The certificate chain file cannot be used.
    #[error("cannot read the certificate file {path}: {problem}; give a PEM certificate chain")]
    Certificate {
        /// The certificate chain file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The private key file cannot be used.
    #[error(
        "cannot read the private key file {path}: {problem}; give the PEM private key of the certificate"
    )]
    Key {
        /// The private key file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The key is not the certificate's.
    #[error("the certificate and the private key do not fit together: {0}")]
    Mismatch(String),
}

/// Binds `addr` (port 0 picks a free port).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => ServeError::PortInUse(addr),
        _ => ServeError::Listen { addr, source: e },
    })
}

/// Serves `handler` on `listener` until the returned [`Server`] is shut down or dropped.
pub fn serve<H, F>(listener: TcpListener, handler: H) -> std::io::Result<Server>
where
    H: Fn(HttpRequest) -> F + Send + Sync + 'static,
    F: Future<Output = HttpResponse> + Send + 'static,
{
    serve_with(listener, None, handler)
}

/// Like [`serve`], over TLS when `tls` is given.
pub fn serve_with<H, F>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    handler: H,
) -> std::io::Result<Server>
where
    H: Fn(HttpRequest) -> F + Send + Sync + 'static,
    F: Future<Output = HttpResponse> + Send + 'static,
{
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let handler = Arc::new(handler);
    let task = tokio::spawn(accept_loop(listener, tls, handler, stopped));
    Ok(Server { addr, stop, task })
}

/// Loads a PEM certificate chain and private key into a TLS acceptor.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, ServeError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let bad_cert = |problem: String| ServeError::Certificate {
        path: cert.to_owned(),
        problem,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|iter| iter.collect::<Result<_, _>>())
        .map_err(|e| bad_cert(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad_cert("it holds no PEM certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| ServeError::Key {
        path: key.to_owned(),
        problem: e.to_string(),
    })?;
    let config =
        tokio_rustls::rustls::ServerConfig::builder_with_provider(crate::sender::tls::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| ServeError::Mismatch(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| ServeError::Mismatch(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn accept_loop<H, F>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    handler: Arc<H>,
    mut stopped: watch::Receiver<bool>,
) where
    H: Fn(HttpRequest) -> F + Send + Sync + 'static,
    F: Future<Output = HttpResponse> + Send + 'static,
{
    loop {
        let stream = tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors or a reset during accept: back off briefly.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let conn_stopped = stopped.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, handler, conn_stopped).await,
                Some(acceptor) => {
                    // A client that never finishes the handshake is dropped.
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(READ_TIMEOUT, acceptor.accept(stream)).await
                    {
                        serve_connection(stream, handler, conn_stopped).await;
                    }
                }
            }
        });
    }
}

async fn serve_connection<IO, H, F>(io: IO, handler: Arc<H>, mut stopped: watch::Receiver<bool>)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    H: Fn(HttpRequest) -> F + Send + Sync + 'static,
    F: Future<Output = HttpResponse> + Send + 'static,
{
    let service = service_fn(move |req| {
        let handler = handler.clone();
        async move { Ok::<_, Infallible>(handle(req, handler.as_ref()).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped.changed() => {}
    }
}

async fn handle<H, F>(req: hyper::Request<Incoming>, handler: &H) -> HttpResponse
where
    H: Fn(HttpRequest) -> F,
    F: Future<Output = HttpResponse>,
{
    let (parts, body) = req.into_parts();
    let announced = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let read = tokio::time::timeout(READ_TIMEOUT, read_body(body, announced)).await;
    let body = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(BodyError::TooLarge)) => {
            return respond(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text/plain",
                format!("request body over {MAX_REQUEST_BODY} bytes"),
            );
        }
        Ok(Err(BodyError::Broken)) => {
            return respond(
                StatusCode::BAD_REQUEST,
                "text/plain",
                "request body could not be read",
            );
        }
        Err(_) => {
            return respond(
                StatusCode::REQUEST_TIMEOUT,
                "text/plain",
                "request body too slow",
            );
        }
    };
    handler(HttpRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    })
    .await
}

/// Why a request body could not be read.
enum BodyError {
    /// Over [`MAX_REQUEST_BODY`].
    TooLarge,
    /// The connection broke off, or the framing was invalid.
    Broken,
}

/// Reads a body into one buffer sized from its announced length, chunk by
/// chunk, so a large body is held once (not as chunks and a copy of them).
async fn read_body(mut body: Incoming, announced: Option<usize>) -> Result<Bytes, BodyError> {
    if announced.is_some_and(|n| n > MAX_REQUEST_BODY) {
        return Err(BodyError::TooLarge);
    }
    let mut buffer = bytes::BytesMut::with_capacity(announced.unwrap_or(0));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if buffer.len() + data.len() > MAX_REQUEST_BODY {
                return Err(BodyError::TooLarge);
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(buffer.freeze())
}
