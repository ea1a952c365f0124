//! Recorded deliveries sent again (`replay`, or `run` on a recording): the
//! body byte for byte, the recorded key or a fresh one, optional copies.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use crate::sender::{Attempt, Phase, Request, Sender};

/// How recorded deliveries (raw steps that carry a `key`) are sent again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replay {
    /// Copies sent after each recorded delivery (a duplicate, as a retry
    /// or a second sender would make).
    pub duplicates: u32,
    /// Send the delivery and its copies at once (else one after the other).
    pub concurrent: bool,
    /// Replace each recorded key, in headers and body, with a fresh one, so
    /// a receiver that remembers keys still does the work.
    pub fresh_ids: bool,
}

/// `body` with every `from` replaced by `to` (bytes, no other parsing, so
/// the rest stays byte for byte as it was).
pub(super) fn replace_bytes(body: Bytes, from: &[u8], to: &[u8]) -> Bytes {
    if from.is_empty() || memchr::memmem::find(&body, from).is_none() {
        return body;
    }
    let mut out = BytesMut::with_capacity(body.len());
    let mut rest = &body[..];
    while let Some(at) = memchr::memmem::find(rest, from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out.freeze()
}

/// `url` with `query` added (after `?`, or `&` when it has a query already).
pub(super) fn with_query(url: &str, query: Option<&str>) -> String {
    match query.filter(|q| !q.is_empty()) {
        None => url.to_owned(),
        Some(q) if url.contains('?') => format!("{url}&{q}"),
        Some(q) => format!("{url}?{q}"),
    }
}

/// Sends one request `copies` times: one after the other, or released
/// together on a barrier. The attempts in sending (or completion) order.
pub(super) async fn send_copies(
    sender: &Sender,
    method: &str,
    url: &str,
    headers: Vec<(String, String)>,
    body: Bytes,
    copies: usize,
    concurrent: bool,
) -> Vec<Attempt> {
    let send = |sender: Sender, headers: Arc<Vec<(String, String)>>, body: Bytes| {
        let (method, url) = (method.to_owned(), url.to_owned());
        async move {
            sender
                .send(Request {
                    phase: Phase::Delivery,
                    method: &method,
                    url: &url,
                    headers: &headers,
                    body,
                })
                .await
        }
    };
    let headers = Arc::new(headers);
    if !concurrent || copies <= 1 {
        let mut out = Vec::with_capacity(copies);
        for _ in 0..copies {
            out.push(send(sender.clone(), headers.clone(), body.clone()).await);
        }
        return out;
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(copies));
    let tasks: Vec<_> = (0..copies)
        .map(|_| {
            let (barrier, request) = (
                barrier.clone(),
                send(sender.clone(), headers.clone(), body.clone()),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                request.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(copies);
    for task in tasks {
        if let Ok(attempt) = task.await {
            out.push(attempt);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacing_keeps_every_other_byte() {
        let body = Bytes::from_static(
            b"{\"a\":\"\\u00e9\",\"id\":\"K\",\"n\":1e2,\"w\":\"{{webhook_id}}\"}  ",
        );
        let out = replace_bytes(body.clone(), b"{{webhook_id}}", b"secret");
        assert_eq!(
            &out[..],
            b"{\"a\":\"\\u00e9\",\"id\":\"K\",\"n\":1e2,\"w\":\"secret\"}  "
        );
        assert_eq!(replace_bytes(body.clone(), b"absent", b"x"), body);
        let twice = replace_bytes(Bytes::from_static(b"KxK"), b"K", b"key");
        assert_eq!(&twice[..], b"keyxkey");
    }

    #[test]
    fn a_query_is_added_once() {
        assert_eq!(with_query("http://h/w", Some("a=1")), "http://h/w?a=1");
        assert_eq!(
            with_query("http://h/w?x=2", Some("a=1")),
            "http://h/w?x=2&a=1"
        );
        assert_eq!(with_query("http://h/w", None), "http://h/w");
    }
}
