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
