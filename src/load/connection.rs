//! One HTTP/1.1 connection per worker, written and read on the worker's own
//! task: the request is one buffer written at once (a template with its key
//! written in), the answer is read by [`super::http1`] into a buffer the
//! connection keeps. No per-request allocation, no second task per
//! connection, no channel between them. Plain HTTP and HTTPS (with the
//! sender's certificate checks) alike.
//!
//! Connections are kept alive. A receiver may close a kept-alive connection
//! without saying so (uvicorn after an unhandled exception, an expired
//! keep-alive timeout, a proxy); a request sent on it in that moment fails
//! before any byte of an answer arrives. Such a request is sent once more on
//! a fresh connection and counted as resent, so HTTP/1.1's keep-alive race
//! is never blamed on the receiver. A request that fails on a fresh
//! connection, or after part of an answer came, is not resent. A connection
//! on which the server said something unasked while it was idle (a `408`
//! before closing, say) is not used again: that answer belongs to no request.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::http1::{self, Body, Step};
use super::templates::Template;
use crate::sender::url::ReceiverUrl;
use crate::sender::{LeanAttempt, Outcome, SetupError, TlsOptions, tls};

/// Where a receiver is, and how to speak to it.
#[derive(Clone)]
pub struct Endpoint {
    /// `host:port`, for connecting.
    authority: String,
    /// The `Host` header, as the sender writes it.
    host: String,
    /// Path and query.
    path: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("authority", &self.authority)
            .field("path", &self.path)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Why a URL cannot be a load target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// An `https://` URL whose host a certificate cannot name.
    #[error("`{0}` has a host a certificate cannot name")]
    UnnamableHost(String),
    /// The certificate settings are unusable.
    #[error(transparent)]
    Setup(#[from] SetupError),
}

impl Endpoint {
    /// The target of an `http://` or `https://` URL.
    pub fn of(url: &ReceiverUrl, tls_options: &TlsOptions) -> Result<Endpoint, EndpointError> {
        let tls = if url.is_tls() {
            let config = tls::client_config(tls_options).map_err(SetupError::from)?;
            let name = ServerName::try_from(url.host().to_owned())
                .map_err(|_| EndpointError::UnnamableHost(url.to_string()))?;
            Some((TlsConnector::from(Arc::new(config)), name))
        } else {
            None
        };
        // A parsed URL's path and query hold no space, control character or
        // line break: nothing can break the request line.
        Ok(Endpoint {
            authority: url.authority(),
            host: url.host_header(),
            path: url.path_and_query().to_owned(),
            tls,
        })
    }

    /// The request line and `Host` header every request to this target starts with.
    pub fn head_start(&self) -> String {
        format!("POST {} HTTP/1.1\r\nHost: {}\r\n", self.path, self.host)
    }
}

/// A kept-alive connection that reconnects when it breaks.
pub struct Connection {
    target: Endpoint,
    stream: Option<Stream>,
    /// Requests answered on the current connection.
    served: u64,
    /// One timer, reset for every request rather than created anew.
    timer: Pin<Box<tokio::time::Sleep>>,
    /// The request being sent, rendered in place.
    request: Vec<u8>,
    /// What came back and is not consumed yet.
    answer: Vec<u8>,
}

/// Why an exchange ended without a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broken {
    /// Before any byte of an answer: safe to send again on a new connection
    /// when the connection had carried a request before.
    BeforeAnswer,
    /// After part of an answer (or an answer that is not HTTP): not resent.
    InAnswer,
}

/// Bytes asked of the socket per read.
const READ_SIZE: usize = 16 * 1024;

impl Connection {
    /// A connection to `target`, opened on first use.
    pub fn new(target: Endpoint) -> Connection {
        Connection {
            target,
            stream: None,
            served: 0,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            request: Vec::new(),
            answer: Vec::with_capacity(READ_SIZE),
        }
    }

    /// POSTs `template` with `key` written in; reads at most
    /// [`crate::sender::MAX_RESPONSE_BODY`] of the answer's body; all
    /// within `timeout`.
    pub async fn post(&mut self, template: &Template, key: &str, timeout: Duration) -> LeanAttempt {
        let started = Instant::now();
        let Connection {
            target,
            stream,
            served,
            timer,
            request,
            answer,
        } = self;
        timer
            .as_mut()
            .reset(tokio::time::Instant::from_std(started) + timeout);
        template.render_into(key, request);
        let mut resent = false;
        let work = async {
            loop {
                if stream.as_mut().is_some_and(Stream::spoke_unasked) {
                    *stream = None;
                    *served = 0;
                }
                let reused = *served > 0 && stream.is_some();
                match exchange(stream, target, request, answer).await {
                    Ok((status, reusable)) => {
                        *served += 1;
                        if !reusable {
                            *stream = None;
                            *served = 0;
                        }
                        return Some(status);
                    }
                    Err(broken) => {
                        *stream = None;
                        *served = 0;
                        if broken == Broken::BeforeAnswer && reused && !resent {
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
        // One answer with a head of hundreds of KB must not keep that much
        // per connection for the rest of the run (a thousand connections).
        if answer.capacity() > 4 * READ_SIZE {
            answer.clear();
            answer.shrink_to(READ_SIZE);
        }
        let (status, outcome) = match result {
            Ok(Some(status)) => (Some(status), Outcome::of_status(status)),
            Ok(None) => (None, Outcome::ConnectionError),
            Err(()) => {
                // A request cut in the middle leaves the connection unusable.
                *stream = None;
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

/// Opens the connection when there is none.
async fn connect<'a>(
    slot: &'a mut Option<Stream>,
    target: &Endpoint,
) -> Result<&'a mut Stream, Broken> {
    if slot.is_none() {
        let tcp = TcpStream::connect(&target.authority)
            .await
            .map_err(|_| Broken::BeforeAnswer)?;
        let _ = tcp.set_nodelay(true);
        let stream = match &target.tls {
            None => Stream::Plain(tcp),
            Some((connector, name)) => Stream::Tls(Box::new(
                connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|_| Broken::BeforeAnswer)?,
            )),
        };
        *slot = Some(stream);
    }
    slot.as_mut().ok_or(Broken::BeforeAnswer)
}

/// Sends `request` and reads the answer: its status, and whether the
/// connection can carry another request.
async fn exchange(
    slot: &mut Option<Stream>,
    target: &Endpoint,
    request: &[u8],
    answer: &mut Vec<u8>,
) -> Result<(u16, bool), Broken> {
    let stream = connect(slot, target).await?;
    answer.clear();
    let written = async {
        stream.write_all(request).await?;
        stream.flush().await
    };
    // A receiver may answer before it has read the whole request (a 413 or
    // a 401 up front) and close: the write fails, but its answer, when it
    // came, is the answer. With nothing to read it is a broken connection.
    // Writing to the end before reading cannot stall on a receiver that
    // answers early and stops reading without closing: load's largest
    // request (about 48 KB) fits many times over in what the kernel queues
    // for a connection whose peer reads nothing (2.8 MB on Linux loopback,
    // measured with an 8 KB receive buffer on the other side).
    let wrote = written.await.is_ok();
    let mut heard = false;
    // The final head, interim (1xx) heads skipped.
    let head = loop {
        match http1::parse_head(answer) {
            Ok(Some(head)) if head.is_interim() => {
                answer.drain(..head.len);
            }
            Ok(Some(head)) => break head,
            Ok(None) => match read_more(stream, answer).await {
                Ok(n) if n > 0 => heard = true,
                _ if heard => return Err(Broken::InAnswer),
                _ => return Err(Broken::BeforeAnswer),
            },
            Err(_) => return Err(Broken::InAnswer),
        }
    };
    answer.drain(..head.len);
    let status = head.status;
    let mut body = Body::new(head.framing);
    loop {
        // A body that breaks off or is not framed right keeps the status,
        // as in the sender; the connection is not reused.
        let Ok((taken, step)) = body.feed(answer) else {
            return Ok((status, false));
        };
        answer.drain(..taken);
        match step {
            // Bytes after the answer belong to no request: not reused.
            Step::Done { left_over } => {
                return Ok((status, wrote && head.keep_alive && left_over == 0));
            }
            Step::TooLong => return Ok((status, false)),
            Step::More => match read_more(stream, answer).await {
                // The end of the connection ends a body read until then,
                // and breaks off any other.
                Ok(0) | Err(_) => return Ok((status, false)),
                Ok(_) => {}
            },
        }
    }
}

/// Reads once into the spare room of `answer`: the bytes read (0 at the end).
async fn read_more(stream: &mut Stream, answer: &mut Vec<u8>) -> io::Result<usize> {
    answer.reserve(READ_SIZE);
    stream.read_buf(answer).await
}

/// A connection's byte stream.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    /// Whether the server closed the connection or sent something while it
    /// was idle: one poll that never waits (no system call when nothing
    /// arrived: the runtime knows the socket has nothing to read).
    fn spoke_unasked(&mut self) -> bool {
        let mut probe = [0u8; 1];
        let mut cx = Context::from_waker(Waker::noop());
        // Outside the task's budget: a spent budget would answer Pending
        // without looking, and a 408 sent while idle would then be read as
        // the next request's answer.
        let look = std::future::poll_fn(|cx| {
            let mut buf = ReadBuf::new(&mut probe);
            Poll::Ready(Pin::new(&mut *self).poll_read(cx, &mut buf))
        });
        let mut look = std::pin::pin!(tokio::task::coop::unconstrained(look));
        !matches!(look.as_mut().poll(&mut cx), Poll::Ready(Poll::Pending))
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_line_and_host_come_from_the_url() {
        let of = |url: &str| {
            Endpoint::of(&ReceiverUrl::parse(url).unwrap(), &TlsOptions::default()).unwrap()
        };
        // An IPv6 host in one pair of brackets, not two.
        let e = of("http://[::1]:8080/hook?a=1");
        assert_eq!(e.authority, "[::1]:8080");
        assert_eq!(
            e.head_start(),
            "POST /hook?a=1 HTTP/1.1\r\nHost: [::1]:8080\r\n"
        );
        let e = of("http://127.0.0.1/");
        assert_eq!(e.authority, "127.0.0.1:80");
        assert_eq!(e.head_start(), "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        let e = of("https://localhost:8443/");
        assert!(e.tls.is_some());
        assert_eq!(
            e.head_start(),
            "POST / HTTP/1.1\r\nHost: localhost:8443\r\n"
        );
    }

    #[tokio::test]
    async fn a_huge_head_is_not_kept_for_the_rest_of_the_run() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 64 * 1024];
            let big = "x".repeat(300_000);
            for answer in [
                format!("HTTP/1.1 200 OK\r\nX-Big: {big}\r\nContent-Length: 0\r\n\r\n"),
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_owned(),
            ] {
                // Requests here are small: one read holds one.
                if socket.read(&mut request).await.unwrap_or(0) == 0 {
                    return;
                }
                socket.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        let target =
            Endpoint::of(&ReceiverUrl::parse(&url).unwrap(), &TlsOptions::default()).unwrap();
        let template = Template::new(
            crate::contract::EventKind::GenerationCompleted,
            "wh_test",
            0,
            3,
            &target.head_start(),
        )
        .unwrap();
        let mut connection = Connection::new(target);
        let key = "gen_0000000000000000000001";
        for _ in 0..2 {
            let attempt = connection
                .post(&template, key, Duration::from_secs(10))
                .await;
            assert_eq!(attempt.status, Some(200));
            assert!(!attempt.resent);
            assert!(
                connection.answer.capacity() <= 4 * READ_SIZE,
                "{}",
                connection.answer.capacity()
            );
        }
    }
}
