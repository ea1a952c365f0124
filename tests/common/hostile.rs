//! Receivers that misbehave at the socket level, each a real TCP server on
//! 127.0.0.1 that writes exactly what it is told to.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One way of misbehaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostile {
    /// Accepts, reads, never answers.
    Silent,
    /// Sends the status line, then nothing.
    StatusLineThenStall,
    /// Sends a response one byte a second.
    Drip,
    /// Resets the connection before reading the request.
    ResetBeforeRead,
    /// Reads the request, then resets.
    ResetAfterRead,
    /// Promises 1000 bytes of body, sends 10, closes.
    CloseMidBody,
    /// Answers bytes that are not HTTP.
    NotHttp,
    /// A status line whose code is not a number.
    InvalidStatus,
    /// A header line without a colon.
    MalformedHeaders,
    /// A chunked body that never ends.
    EndlessBody,
    /// `100 Continue`, then nothing.
    ContinueOnly,
    /// A good answer with `Connection: close`, then closes.
    ConnectionClose,
    /// An HTTP/1.0 answer.
    Http10,
}

impl Hostile {
    pub const ALL: [Hostile; 13] = [
        Hostile::Silent,
        Hostile::StatusLineThenStall,
        Hostile::Drip,
        Hostile::ResetBeforeRead,
        Hostile::ResetAfterRead,
        Hostile::CloseMidBody,
        Hostile::NotHttp,
        Hostile::InvalidStatus,
        Hostile::MalformedHeaders,
        Hostile::EndlessBody,
        Hostile::ContinueOnly,
        Hostile::ConnectionClose,
        Hostile::Http10,
    ];
}

/// Starts a hostile server; returns its `http://127.0.0.1:PORT/webhook` URL.
pub async fn start(kind: Hostile) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(handle(kind, stream));
        }
    });
    format!("http://{addr}/webhook")
}

/// Reads until the end of the request head (and a little body), or gives up.
async fn read_request(stream: &mut TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                seen.extend_from_slice(&buf[..n]);
                if seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    // Drain what of the body has arrived without waiting for all of it.
                    let _ = tokio::time::timeout(Duration::from_millis(20), stream.read(&mut buf))
                        .await;
                    return;
                }
            }
            _ => return,
        }
    }
}

fn reset(stream: TcpStream) {
    // Linger 0: closing sends RST instead of FIN.
    if let Ok(std) = stream.into_std() {
        let socket = socket2::SockRef::from(&std);
        let _ = socket.set_linger(Some(Duration::ZERO));
        drop(std);
    }
}

async fn handle(kind: Hostile, mut stream: TcpStream) {
    let hold = Duration::from_secs(30);
    match kind {
        Hostile::ResetBeforeRead => return reset(stream),
        _ => read_request(&mut stream).await,
    }
    match kind {
        Hostile::ResetBeforeRead => {}
        Hostile::Silent => tokio::time::sleep(hold).await,
        Hostile::StatusLineThenStall => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n").await;
            tokio::time::sleep(hold).await;
        }
        Hostile::Drip => {
            for b in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" {
                if stream.write_all(&[*b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        Hostile::ResetAfterRead => reset(stream),
        Hostile::CloseMidBody => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
                .await;
        }
        Hostile::NotHttp => {
            let _ = stream
                .write_all(b"SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n")
                .await;
        }
        Hostile::InvalidStatus => {
            let _ = stream
                .write_all(b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
        Hostile::MalformedHeaders => {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nthis line has no colon\r\nContent-Length: 0\r\n\r\n",
                )
                .await;
        }
        Hostile::EndlessBody => {
            if stream
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await
                .is_err()
            {
                return;
            }
            let chunk = [b'x'; 16 * 1024];
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            while stream.write_all(&framed).await.is_ok() {}
        }
        Hostile::ContinueOnly => {
            let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
            tokio::time::sleep(hold).await;
        }
        Hostile::ConnectionClose => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 16\r\n\r\n{\"success\":true}")
                .await;
        }
        Hostile::Http10 => {
            let _ = stream
                .write_all(b"HTTP/1.0 200 OK\r\n\r\n{\"success\":true}")
                .await;
        }
    }
}

/// How a body-limited receiver closes after its early answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// What of the body has arrived is read, then the socket is closed: a
    /// FIN, and a reset for every byte that arrives after it (Node and
    /// Python servers; the writer then sees a broken pipe).
    Plain,
    /// Closed with linger 0: a reset at once.
    Reset,
}

/// A receiver with a body limit, the way Go's `http.MaxBytesReader`,
/// Fastify and Express's body parsers refuse a large body: the request's
/// head is read, a `Content-Length` over `limit` is answered 413 at once,
/// and the connection is closed while the body is still being written.
/// Other requests are read whole and answered 200 `{"success":true}`
/// (`OPTIONS` 204). Each connection on a thread of its own, std only, so
/// that it serves while a test waits on a child process.
pub struct BodyLimitReceiver {
    pub url: String,
    /// Requests answered 413 before their body was read.
    pub refused: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl BodyLimitReceiver {
    pub fn start(limit: usize, close: Close) -> BodyLimitReceiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/webhook", listener.local_addr().unwrap());
        let refused = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = refused.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let counter = counter.clone();
                std::thread::spawn(move || serve_limited(stream, limit, close, &counter));
            }
        });
        BodyLimitReceiver { url, refused }
    }
}

fn serve_limited(
    mut stream: std::net::TcpStream,
    limit: usize,
    close: Close,
    refused: &std::sync::atomic::AtomicU64,
) {
    use std::io::{Read, Write};
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let head_end = loop {
        if let Some(i) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut buf) {
            Ok(n) if n > 0 => seen.extend_from_slice(&buf[..n]),
            _ => return,
        }
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if head.starts_with("options") {
        let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        return;
    }
    if length > limit {
        refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _ = stream.write_all(
            b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/plain\r\nContent-Length: 22\r\nConnection: close\r\n\r\nrequest body too large",
        );
        match close {
            Close::Plain => {
                // What has arrived is read, so that closing sends a FIN.
                let _ = stream.set_nonblocking(true);
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            }
            Close::Reset => {
                let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            }
        }
        return;
    }
    let mut body = seen.len() - head_end;
    while body < length {
        match stream.read(&mut buf) {
            Ok(n) if n > 0 => body += n,
            _ => return,
        }
    }
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\nConnection: close\r\n\r\n{\"success\":true}",
    );
}
