//! One HTTP/1.1 request on a connection of its own: resolve the host,
//! connect (several addresses tried as browsers do), TLS when the URL says
//! `https`, send, and hand back the response head with its body still to
//! read. Every step ends in a typed [`Failure`]; the caller bounds the whole
//! of it with the attempt's timeout.
//!
//! What goes on the wire: the request's headers in the order given, then
//! `accept: */*` (unless given), `host` (unless given) and `content-length`
//! for a body that is not empty, the port in `host` only when it is not the
//! scheme's default.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, HOST, HeaderName, HeaderValue};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::ClientConfig;

use super::Request;
use super::failure::Failure;
use super::url::ReceiverUrl;
use crate::duration::format as format_duration;

/// How long one address may take to connect before the next one is tried
/// alongside it (the "happy eyeballs" delay of RFC 8305).
const NEXT_ADDRESS_AFTER: Duration = Duration::from_millis(250);

/// Makes requests; cheap to clone.
#[derive(Clone)]
pub(super) struct Transport {
    tls: TlsConnector,
    title_case_headers: bool,
    connect_timeout: Duration,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("title_case_headers", &self.title_case_headers)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl Transport {
    pub(super) fn new(
        tls: ClientConfig,
        title_case_headers: bool,
        connect_timeout: Duration,
    ) -> Transport {
        Transport {
            tls: TlsConnector::from(Arc::new(tls)),
            title_case_headers,
            connect_timeout,
        }
    }

    /// Sends `request` and returns the response with its body unread, and
    /// the guard of the connection it came on (drop it to close the
    /// connection at once, or [`ConnectionGuard::release`] it once the body
    /// is read to the end).
    pub(super) async fn send(
        &self,
        request: &Request<'_>,
        deadline: Instant,
        ca_file_given: bool,
    ) -> Result<(http::Response<Incoming>, ConnectionGuard), Failure> {
        let invalid = |why: String| {
            Failure::InvalidRequest(format!(
                "request to {} could not be built: {why}",
                request.url
            ))
        };
        let url = ReceiverUrl::parse(request.url).map_err(|e| invalid(format!("the URL {e}")))?;
        let built = build(&url, request).map_err(invalid)?;
        let server_name = if url.is_tls() {
            Some(ServerName::try_from(url.host().to_owned()).map_err(|_| {
                invalid(format!(
                    "`{}` is neither a host name nor an IP address a certificate can name",
                    url.host()
                ))
            })?)
        } else {
            None
        };
        let (connected, closed) = self.connect(&url, server_name, ca_file_given).await?;
        match connected {
            Connected::Plain(tcp) => self.exchange(tcp, built, deadline).await,
            Connected::Tls(tls) => self.exchange(tls, built, deadline).await,
        }
        .map_err(|e| match Failure::of_error(&e, ca_file_given) {
            // No answer came, and the receiver had closed the connection
            // while the request was being written: that is what happened.
            failure if closed.load(Ordering::Relaxed) && failure.is_no_answer() => {
                Failure::ClosedWhileSending
            }
            failure => failure,
        })
    }

    /// A connection to the URL's host, through TLS when `server_name` is
    /// given, within the connect timeout (resolving, TCP and the TLS
    /// handshake together).
    async fn connect(
        &self,
        url: &ReceiverUrl,
        server_name: Option<ServerName<'static>>,
        ca_file_given: bool,
    ) -> Result<(Connected, Arc<AtomicBool>), Failure> {
        let work = async {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host(url.authority())
                .await
                .map_err(|e| Failure::Connect(format!("cannot resolve `{}`: {e}", url.host())))?
                .collect();
            let tcp = connect_any(addresses).await.map_err(|e| match e.kind() {
                std::io::ErrorKind::ConnectionRefused => Failure::Refused,
                _ => Failure::Connect(e.to_string()),
            })?;
            // As the HTTP clients of the field do: a small request is not held back.
            let _ = tcp.set_nodelay(true);
            let tcp = HearsEarlyAnswers::new(tcp);
            let closed = tcp.closed.clone();
            let Some(name) = server_name else {
                return Ok((Connected::Plain(tcp), closed));
            };
            match self.tls.connect(name, tcp).await {
                Ok(tls) => Ok((Connected::Tls(Box::new(tls)), closed)),
                // A handshake that failed for no reason of TLS's own (a
                // timeout, an unreachable host) is a failure to connect.
                Err(e) => Err(match Failure::of_error(&e, ca_file_given) {
                    Failure::Other(detail) => Failure::Connect(detail),
                    failure => failure,
                }),
            }
        };
        tokio::time::timeout(self.connect_timeout, work)
            .await
            .map_err(|_| {
                Failure::Connect(format!(
                    "no connection within {}",
                    format_duration(self.connect_timeout)
                ))
            })?
    }

    /// The HTTP/1.1 exchange on a connection. The connection is driven by a
    /// task of its own, which ends when the exchange is over, when the
    /// returned guard is dropped, or (a back-stop) a second after `deadline`.
    async fn exchange<S>(
        &self,
        io: S,
        request: http::Request<Full<Bytes>>,
        deadline: Instant,
    ) -> Result<(http::Response<Incoming>, ConnectionGuard), hyper::Error>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
            .title_case_headers(self.title_case_headers)
            .handshake(TokioIo::new(io))
            .await?;
        // The back-stop comes after the attempt's own deadline, so that the
        // attempt always ends by its timeout first, never by a connection
        // that was taken away from under it.
        let task = tokio::spawn(async move {
            let _ = tokio::time::timeout_at(deadline + BACK_STOP, connection).await;
        });
        let guard = ConnectionGuard(Some(task.abort_handle()));
        let response = sender.send_request(request).await?;
        Ok((response, guard))
    }
}

/// How long a connection may outlive its attempt's deadline (only when
/// something keeps its guard alive past it, which nothing should).
const BACK_STOP: Duration = Duration::from_secs(1);

/// A connection, plain or through TLS.
enum Connected {
    Plain(HearsEarlyAnswers),
    Tls(Box<tokio_rustls::client::TlsStream<HearsEarlyAnswers>>),
}

/// A TCP connection on which the receiver may answer before it has read
/// the whole request, and close. Frameworks refuse a body over their limit
/// that way (a 413 as soon as the headers arrive, Go's `MaxBytesReader`,
/// Express's body parser): writing the rest then fails (a broken pipe or a
/// reset) while their answer waits to be read. Once writing has failed,
/// what is left of the request is dropped as if sent, so that the HTTP
/// client goes on to read the answer; with none to read, the exchange ends
/// as the connection closed, and `closed` says that it did while the
/// request was being written.
struct HearsEarlyAnswers {
    tcp: TcpStream,
    closed: Arc<AtomicBool>,
}

impl HearsEarlyAnswers {
    fn new(tcp: TcpStream) -> HearsEarlyAnswers {
        HearsEarlyAnswers {
            tcp,
            closed: Arc::new(AtomicBool::new(false)),
        }
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// A write's result, with a closed connection taking `len` bytes.
    fn written(&self, result: Poll<io::Result<usize>>, len: usize) -> Poll<io::Result<usize>> {
        match result {
            Poll::Ready(Err(e)) if closes(&e) => {
                self.closed.store(true, Ordering::Relaxed);
                Poll::Ready(Ok(len))
            }
            other => other,
        }
    }
}

/// Whether a write error means the receiver closed the connection.
fn closes(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    )
}

impl AsyncRead for HearsEarlyAnswers {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for HearsEarlyAnswers {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.is_closed() {
            return Poll::Ready(Ok(buf.len()));
        }
        let result = Pin::new(&mut self.tcp).poll_write(cx, buf);
        self.written(result, buf.len())
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        if self.is_closed() {
            return Poll::Ready(Ok(len));
        }
        let result = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        self.written(result, len)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.is_closed() {
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut self.tcp).poll_flush(cx) {
            Poll::Ready(Err(e)) if closes(&e) => {
                self.closed.store(true, Ordering::Relaxed);
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.is_closed() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// Closes a request's connection when dropped: an attempt that ends early
/// (timeout, stalled or too large body, the run stopped) leaves nothing
/// behind.
#[derive(Debug)]
pub(super) struct ConnectionGuard(Option<tokio::task::AbortHandle>);

impl ConnectionGuard {
    /// The exchange is over (the body read to its end): the connection
    /// closes by itself, as HTTP/1.1 does, with TLS's goodbye when there is
    /// TLS.
    pub(super) fn release(mut self) {
        self.0 = None;
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// The request as it goes out, or why it cannot.
fn build(url: &ReceiverUrl, request: &Request<'_>) -> Result<http::Request<Full<Bytes>>, String> {
    let method = http::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| format!("`{}` is not a valid HTTP method", request.method))?;
    let mut built = http::Request::new(Full::new(request.body.clone()));
    *built.method_mut() = method;
    *built.uri_mut() = url
        .path_and_query()
        .parse()
        .map_err(|_| format!("`{}` is not a valid request path", url.path_and_query()))?;
    let headers = built.headers_mut();
    for (name, value) in request.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a valid header name"))?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            format!("the value of header `{name}` has a character a header cannot hold (a line break, a control character)")
        })?;
        headers.append(name, value);
    }
    if !headers.contains_key(ACCEPT) {
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    }
    if !headers.contains_key(HOST) {
        let host = HeaderValue::from_str(&url.host_header())
            .map_err(|_| format!("`{}` cannot be a Host header", url.host_header()))?;
        headers.insert(HOST, host);
    }
    Ok(built)
}

/// Connects to the first of `addresses` that answers: each is tried in
/// turn, the next one starting when the previous failed or has not
/// connected within [`NEXT_ADDRESS_AFTER`] (a host with an IPv6 address
/// that goes nowhere still connects over IPv4 at once).
async fn connect_any(addresses: Vec<SocketAddr>) -> std::io::Result<TcpStream> {
    let mut waiting = addresses.into_iter();
    let mut trying = JoinSet::new();
    let mut last_error = None;
    loop {
        if let Some(address) = waiting.next() {
            trying.spawn(TcpStream::connect(address));
        }
        let more = waiting.len() > 0;
        tokio::select! {
            joined = trying.join_next() => match joined {
                Some(Ok(Ok(stream))) => return Ok(stream),
                Some(Ok(Err(e))) => last_error = Some(e),
                Some(Err(e)) => last_error = Some(std::io::Error::other(e)),
                None if !more => {
                    return Err(last_error.unwrap_or_else(|| {
                        std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "the host name has no address",
                        )
                    }));
                }
                None => {}
            },
            _ = tokio::time::sleep(NEXT_ADDRESS_AFTER), if more => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sender::Phase;

    fn request<'a>(url: &'a str, headers: &'a [(String, String)]) -> Request<'a> {
        Request {
            phase: Phase::Delivery,
            method: "POST",
            url,
            headers,
            body: Bytes::from_static(b"{}"),
        }
    }

    #[test]
    fn headers_in_order_then_accept_and_host() {
        let headers = [
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("X-Two".to_owned(), "2".to_owned()),
        ];
        let url = ReceiverUrl::parse("http://127.0.0.1:3000/hook?a=1").unwrap();
        let built = build(&url, &request("http://127.0.0.1:3000/hook?a=1", &headers)).unwrap();
        let names: Vec<_> = built.headers().keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["content-type", "x-two", "accept", "host"]);
        assert_eq!(built.headers()[HOST], "127.0.0.1:3000");
        assert_eq!(built.uri(), "/hook?a=1");
    }

    #[test]
    fn a_given_host_or_accept_is_kept() {
        let headers = [
            ("Host".to_owned(), "example.com".to_owned()),
            ("Accept".to_owned(), "application/json".to_owned()),
        ];
        let url = ReceiverUrl::parse("http://127.0.0.1:3000/").unwrap();
        let built = build(&url, &request("http://127.0.0.1:3000/", &headers)).unwrap();
        assert_eq!(built.headers()[HOST], "example.com");
        assert_eq!(built.headers()[ACCEPT], "application/json");
        assert_eq!(built.headers().len(), 2);
    }

    #[test]
    fn what_cannot_be_sent_is_said() {
        let url = ReceiverUrl::parse("http://127.0.0.1:3000/").unwrap();
        let bad_name = [("Bad Name".to_owned(), "x".to_owned())];
        let err = build(&url, &request("http://127.0.0.1:3000/", &bad_name)).unwrap_err();
        assert!(
            err.contains("`Bad Name` is not a valid header name"),
            "{err}"
        );
        let bad_value = [("X-A".to_owned(), "a\r\nb".to_owned())];
        let err = build(&url, &request("http://127.0.0.1:3000/", &bad_value)).unwrap_err();
        assert!(err.contains("value of header `x-a`"), "{err}");
        let mut r = request("http://127.0.0.1:3000/", &[]);
        r.method = "BAD METHOD";
        let err = build(&url, &r).unwrap_err();
        assert!(
            err.contains("`BAD METHOD` is not a valid HTTP method"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_tls_handshake_that_never_ends_is_a_failure_to_connect() {
        // Accepts, reads, never answers the client's hello.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}/hook", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(socket);
        });
        let config =
            crate::sender::tls::client_config(&crate::sender::TlsOptions::default()).unwrap();
        let transport = Transport::new(config, false, Duration::from_millis(300));
        let deadline = Instant::now() + Duration::from_secs(20);
        let failure = transport
            .send(&request(&url, &[]), deadline, false)
            .await
            .unwrap_err();
        assert!(
            matches!(&failure, Failure::Connect(d) if d.starts_with("no connection within")),
            "{failure:?}"
        );
        assert!(failure.is_unreachable());
        server.abort();
    }

    #[tokio::test]
    async fn an_address_that_refuses_does_not_stop_the_next() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let good = listener.local_addr().unwrap();
        // A socket bound and never listening refuses connections (kept open
        // for the test, so no other process can take its port).
        let refusing =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        refusing
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        let refused = refusing.local_addr().unwrap().as_socket().unwrap();
        let stream = connect_any(vec![refused, good]).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), good);
        let err = connect_any(vec![refused]).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        let err = connect_any(Vec::new()).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
