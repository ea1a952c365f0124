//! The answer to a load request, read as HTTP/1.1 (RFC 9112): the status of
//! the final response head (1xx interim heads skipped), how its body is
//! delimited, whether the connection can carry another request, and the body
//! consumed without being kept.
//!
//! Pure: the connection feeds it the bytes it reads. The head is parsed by
//! `httparse` (hyper's parser), with hyper's client limits: at most 100
//! headers and a head of at most [`MAX_HEAD`] bytes.

use crate::sender::MAX_RESPONSE_BODY;

/// The largest response head read (hyper's default read buffer limit).
pub const MAX_HEAD: usize = 8192 + 4096 * 100;

/// At most this many headers in a response head (hyper's default).
const MAX_HEADERS: usize = 100;

/// Why bytes are not an HTTP/1.1 answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// The head does not parse (or has more than 100 headers).
    Head,
    /// The head is longer than [`MAX_HEAD`].
    HeadTooLong,
    /// `Content-Length` is not one number.
    ContentLength,
    /// A chunk of a chunked body is not framed as RFC 9112 7.1 says.
    Chunk,
}

/// How a response body ends (RFC 9112 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: 1xx, 204, 304.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding` ending in `chunked`.
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

/// A parsed response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub framing: Framing,
    /// Whether the server lets the connection carry another request.
    pub keep_alive: bool,
    /// Bytes the head took, blank line included.
    pub len: usize,
}

impl Head {
    /// An interim (1xx) head that a final head follows; 101 is final.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }
}

/// Parses a head at the start of `buf`: `Ok(None)` when more bytes are needed.
pub fn parse_head(buf: &[u8]) -> Result<Option<Head>, Malformed> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
            return Err(Malformed::HeadTooLong);
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(Malformed::Head),
    };
    if len > MAX_HEAD {
        return Err(Malformed::HeadTooLong);
    }
    let status = response.code.ok_or(Malformed::Head)?;
    let http10 = response.version == Some(0);
    let mut close = false;
    let mut keep_alive_token = false;
    let mut chunked = None;
    let mut length: Option<u64> = None;
    for header in response.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("connection") {
            for token in tokens(header.value) {
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // The last coding decides; a later header continues the list.
            if let Some(last) = tokens(header.value).last() {
                chunked = Some(last.eq_ignore_ascii_case(b"chunked"));
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            if tokens(header.value).next().is_none() {
                return Err(Malformed::ContentLength);
            }
            for value in tokens(header.value) {
                let n = parse_length(value).ok_or(Malformed::ContentLength)?;
                if length.is_some_and(|l| l != n) {
                    return Err(Malformed::ContentLength);
                }
                length = Some(n);
            }
        }
    }
    // HTTP/1.0 keeps a connection only when asked to, and never with a
    // transfer coding (RFC 9112 6.1); after a final 1xx (101: another
    // protocol) the connection is not HTTP/1.1's any more.
    let mut keep_alive = if http10 {
        keep_alive_token && !close && chunked.is_none()
    } else {
        !close
    };
    if (100..200).contains(&status) {
        keep_alive = false;
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Empty
    } else if let Some(chunked) = chunked {
        // Both headers: Transfer-Encoding wins, and the connection is not
        // trusted with another request (RFC 9112 6.3, item 3).
        if length.is_some() {
            keep_alive = false;
        }
        if chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        }
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        Framing::UntilClose
    };
    if framing == Framing::UntilClose {
        keep_alive = false;
    }
    Ok(Some(Head {
        status,
        framing,
        keep_alive,
        len,
    }))
}

/// The comma-separated elements of a header value, trimmed, empty ones left out.
fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(|t| t.trim_ascii())
        .filter(|t| !t.is_empty())
}

fn parse_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// Where a body read stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// More bytes are needed.
    More,
    /// The body ended; the bytes after it (none, for a server that waits for
    /// the next request) are the count given.
    Done { left_over: usize },
    /// More than [`MAX_RESPONSE_BODY`] bytes of body: reading stops there.
    TooLong,
}

/// Consumes a body as it arrives, keeping none of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    state: State,
    /// Body bytes seen (chunk framing not counted).
    read: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length { left: u64 },
    UntilClose,
    ChunkSize,
    ChunkData { left: u64 },
    ChunkEnd,
    Trailers,
    Done,
}

impl Body {
    pub fn new(framing: Framing) -> Body {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length { left: n },
            Framing::Chunked => State::ChunkSize,
            Framing::UntilClose => State::UntilClose,
        };
        Body { state, read: 0 }
    }

    /// Consumes what it can of `buf`: how many bytes it took, and where the
    /// body stands. Bytes not taken with `Step::More` must be fed again
    /// with more after them.
    pub fn feed(&mut self, buf: &[u8]) -> Result<(usize, Step), Malformed> {
        let mut at = 0;
        loop {
            if self.read > MAX_RESPONSE_BODY as u64 {
                return Ok((at, Step::TooLong));
            }
            let rest = &buf[at..];
            match self.state {
                State::Done => {
                    return Ok((
                        at,
                        Step::Done {
                            left_over: rest.len(),
                        },
                    ));
                }
                State::Length { left } | State::ChunkData { left } => {
                    if rest.is_empty() {
                        return Ok((at, Step::More));
                    }
                    let take = left.min(rest.len() as u64);
                    at += take as usize;
                    self.read += take;
                    let left = left - take;
                    self.state = match self.state {
                        State::Length { .. } if left == 0 => State::Done,
                        State::Length { .. } => State::Length { left },
                        _ if left == 0 => State::ChunkEnd,
                        _ => State::ChunkData { left },
                    };
                }
                State::UntilClose => {
                    self.read += rest.len() as u64;
                    at = buf.len();
                    if self.read > MAX_RESPONSE_BODY as u64 {
                        return Ok((at, Step::TooLong));
                    }
                    return Ok((at, Step::More));
                }
                State::ChunkSize => match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Complete((taken, 0))) => {
                        at += taken;
                        self.state = State::Trailers;
                    }
                    Ok(httparse::Status::Complete((taken, size))) => {
                        at += taken;
                        self.state = State::ChunkData { left: size };
                    }
                    // A size line (extensions included) that never ends
                    // must not grow the buffer without end.
                    Ok(httparse::Status::Partial) if rest.len() > MAX_HEAD => {
                        return Err(Malformed::Chunk);
                    }
                    Ok(httparse::Status::Partial) => return Ok((at, Step::More)),
                    Err(_) => return Err(Malformed::Chunk),
                },
                State::ChunkEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        at += 2;
                        self.state = State::ChunkSize;
                    }
                    [] | [b'\r'] => return Ok((at, Step::More)),
                    _ => return Err(Malformed::Chunk),
                },
                // Trailer fields, one line each, until an empty line.
                State::Trailers => match memchr::memchr(b'\n', rest) {
                    Some(0) => return Err(Malformed::Chunk),
                    Some(end) if rest[end - 1] == b'\r' => {
                        at += end + 1;
                        if end == 1 {
                            self.state = State::Done;
                        }
                    }
                    Some(_) => return Err(Malformed::Chunk),
                    None if rest.len() > MAX_HEAD => return Err(Malformed::Chunk),
                    None => return Ok((at, Step::More)),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn head(text: &str) -> Head {
        parse_head(text.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn framing_and_keep_alive_follow_rfc_9112() {
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!(
            (h.status, h.framing, h.keep_alive),
            (200, Framing::Length(5), true)
        );
        assert_eq!(h.len, 38);
        let h = head("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n");
        assert!(!h.keep_alive);
        let h = head("HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n");
        assert_eq!((h.framing, h.keep_alive), (Framing::Chunked, true));
        let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n");
        assert_eq!((h.framing, h.keep_alive), (Framing::Chunked, false));
        let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert_eq!((h.framing, h.keep_alive), (Framing::UntilClose, false));
        let h = head("HTTP/1.1 500 Oops\r\n\r\n");
        assert_eq!(
            (h.status, h.framing, h.keep_alive),
            (500, Framing::UntilClose, false)
        );
        let h = head("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n");
        assert!(!h.keep_alive);
        let h = head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n");
        assert!(h.keep_alive);
        for status in [204, 304, 100, 103] {
            let h = head(&format!("HTTP/1.1 {status} X\r\nContent-Length: 9\r\n\r\n"));
            assert_eq!(h.framing, Framing::Empty, "{status}");
        }
        assert!(head("HTTP/1.1 100 Continue\r\n\r\n").is_interim());
        let h = head("HTTP/1.1 101 Switching\r\n\r\n");
        assert!(!h.is_interim() && !h.keep_alive);
        let h =
            head("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\n");
        assert!(!h.keep_alive);
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n");
        assert_eq!(h.framing, Framing::Length(7));
    }

    #[test]
    fn what_is_not_http_is_malformed() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-"), Ok(None));
        assert_eq!(parse_head(b""), Ok(None));
        assert_eq!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n"), Err(Malformed::Head));
        for cl in ["-1", "1 2", "0x10", "", "3, 4"] {
            let text = format!("HTTP/1.1 200 OK\r\nContent-Length: {cl}\r\n\r\n");
            assert_eq!(
                parse_head(text.as_bytes()),
                Err(Malformed::ContentLength),
                "{cl}"
            );
        }
        let many: String = (0..101).map(|i| format!("X-{i}: y\r\n")).collect();
        let text = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
        assert_eq!(parse_head(text.as_bytes()), Err(Malformed::Head));
        let long = format!("HTTP/1.1 200 OK\r\nX: {}", "y".repeat(MAX_HEAD));
        assert_eq!(parse_head(long.as_bytes()), Err(Malformed::HeadTooLong));
    }

    /// Feeds `wire` in pieces cut at `cuts`, as a connection would.
    fn consume(framing: Framing, wire: &[u8], cuts: &[usize]) -> Result<(Step, u64), Malformed> {
        let mut body = Body::new(framing);
        let mut pending = Vec::new();
        let mut last = 0;
        let mut ends: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
        ends.push(wire.len());
        ends.sort_unstable();
        for end in ends {
            pending.extend_from_slice(&wire[last..end]);
            last = end;
            let (taken, step) = body.feed(&pending)?;
            pending.drain(..taken);
            if step != Step::More {
                return Ok((step, body.read));
            }
        }
        Ok((Step::More, body.read))
    }

    #[test]
    fn chunked_bodies_with_extensions_and_trailers() {
        let wire = b"5;name=value\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n";
        assert_eq!(
            consume(Framing::Chunked, wire, &[]),
            Ok((Step::Done { left_over: 0 }, 5))
        );
        let wire = b"3\r\nabc\r\n0\r\n\r\nHTTP/1.1";
        assert_eq!(
            consume(Framing::Chunked, wire, &[]),
            Ok((Step::Done { left_over: 8 }, 3))
        );
        assert_eq!(
            consume(Framing::Chunked, b"3\r\nabcX\r\n", &[]),
            Err(Malformed::Chunk)
        );
        assert_eq!(
            consume(Framing::Chunked, b"zz\r\n", &[]),
            Err(Malformed::Chunk)
        );
        // Lines that never end are refused once longer than a head may be.
        let endless = format!("5;{}", "e".repeat(MAX_HEAD));
        assert_eq!(
            consume(Framing::Chunked, endless.as_bytes(), &[]),
            Err(Malformed::Chunk)
        );
        let endless = format!("0\r\nX: {}", "t".repeat(MAX_HEAD));
        assert_eq!(
            consume(Framing::Chunked, endless.as_bytes(), &[]),
            Err(Malformed::Chunk)
        );
        assert_eq!(consume(Framing::Length(4), b"ab", &[]), Ok((Step::More, 2)));
        assert_eq!(
            consume(Framing::UntilClose, b"abc", &[]),
            Ok((Step::More, 3))
        );
    }

    #[test]
    fn a_body_past_the_limit_stops_the_read() {
        let big = vec![b'x'; MAX_RESPONSE_BODY + 10];
        let (step, _) = consume(Framing::Length(big.len() as u64), &big, &[]).unwrap();
        assert_eq!(step, Step::TooLong);
        let (step, _) = consume(Framing::UntilClose, &big, &[]).unwrap();
        assert_eq!(step, Step::TooLong);
        let mut chunked = format!("{:x}\r\n", big.len()).into_bytes();
        chunked.extend_from_slice(&big);
        let (step, _) = consume(Framing::Chunked, &chunked, &[7, 9000]).unwrap();
        assert_eq!(step, Step::TooLong);
    }

    proptest! {
        /// However the bytes are cut into reads, a chunked body is read whole
        /// and ends exactly where it ends.
        #[test]
        fn cuts_do_not_change_the_result(
            chunks in proptest::collection::vec(1usize..300, 0..6),
            cuts in proptest::collection::vec(0usize..5000, 0..12),
            extension in any::<bool>(),
        ) {
            let mut wire = Vec::new();
            for &n in &chunks {
                let ext = if extension { ";a=b" } else { "" };
                wire.extend_from_slice(format!("{n:X}{ext}\r\n").as_bytes());
                wire.extend(std::iter::repeat_n(b'z', n));
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b"0\r\nT: v\r\n\r\n");
            let total: usize = chunks.iter().sum();
            let got = consume(Framing::Chunked, &wire, &cuts);
            prop_assert_eq!(got, Ok((Step::Done { left_over: 0 }, total as u64)));
            let got = consume(Framing::Length(total as u64), &vec![b'q'; total], &cuts);
            prop_assert_eq!(got, Ok((Step::Done { left_over: 0 }, total as u64)));
        }
    }
}
