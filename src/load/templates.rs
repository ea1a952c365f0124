//! Payload templates for load: built once, each delivery copies one and
//! writes its fresh key in place, so the hot path does no JSON work.

use crate::event::{Event, EventKind};

/// Length of every generated key: a 4-character prefix and 20 characters.
pub const KEY_LEN: usize = 24;

/// A whole HTTP/1.1 request (request line, `Host`, the contract's headers,
/// `Content-Length`, the serialized payload) with the places its key occupies.
#[derive(Debug, Clone)]
pub struct Template {
    pub kind: EventKind,
    request: Vec<u8>,
    key_offsets: Vec<usize>,
}

impl Template {
    /// A template of `kind`, padded to about `pad` bytes (0: as built),
    /// whose request begins with `head_start` (request line and `Host`).
    pub fn new(
        kind: EventKind,
        webhook_id: &str,
        pad: usize,
        group_size: usize,
        head_start: &str,
    ) -> Result<Template, String> {
        let mut builder = Event::builder(kind)
            .webhook_id(webhook_id)
            .group_size(group_size);
        if pad > 0 {
            builder = builder.pad_to(pad);
        }
        let event = builder.build().map_err(|e| e.to_string())?;
        let key = event.key().ok_or("the template has no key")?.to_owned();
        if key.len() != KEY_LEN {
            return Err(format!("template key {key} is not {KEY_LEN} characters"));
        }
        let mut request = head_start.as_bytes().to_vec();
        for (name, value) in event.headers() {
            // A value with a line break would end the head early.
            if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
                return Err(format!("header {name}: control character in `{value}`"));
            }
            request.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        let body = event.body();
        request.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        request.extend_from_slice(body);
        let key_offsets = find_all(&request, key.as_bytes());
        Ok(Template {
            kind,
            request,
            key_offsets,
        })
    }

    /// The prefix of this template's keys (`gen_` or `grp_`).
    pub fn prefix(&self) -> &'static str {
        if self.kind.is_group() { "grp_" } else { "gen_" }
    }

    /// Writes the request of a delivery with `key` (exactly [`KEY_LEN`]
    /// bytes) into `out`: a copy of the template, the key written over the
    /// template's in the header and the body.
    pub fn render_into(&self, key: &str, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.request);
        if key.len() != KEY_LEN {
            return;
        }
        for &at in &self.key_offsets {
            out[at..at + KEY_LEN].copy_from_slice(key.as_bytes());
        }
    }
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// A key for delivery `n` of a run tagged `tag` (6 characters): `gen_<tag><n:014>`.
pub fn key(prefix: &str, tag: &str, n: u64) -> String {
    format!("{prefix}{tag}{:014}", n % 100_000_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_moves_the_key_everywhere() {
        for kind in EventKind::ALL {
            let t = Template::new(
                kind,
                "wh",
                0,
                3,
                "POST /hook?a=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n",
            )
            .unwrap();
            let k = key(t.prefix(), "abcdef", 42);
            assert_eq!(k.len(), KEY_LEN);
            let mut out = Vec::new();
            t.render_into(&k, &mut out);
            // The request, read back as a server reads it.
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut request = httparse::Request::new(&mut headers);
            let httparse::Status::Complete(head) = request.parse(&out).unwrap() else {
                panic!("incomplete head");
            };
            assert_eq!(
                (request.method, request.path),
                (Some("POST"), Some("/hook?a=1"))
            );
            let header = |name: &str| {
                let h = request
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name));
                std::str::from_utf8(h.unwrap().value).unwrap().to_owned()
            };
            let body = &out[head..];
            assert_eq!(header("content-length"), body.len().to_string());
            assert_eq!(header("host"), "127.0.0.1:9");
            let json: serde_json::Value = serde_json::from_slice(body).unwrap();
            assert_eq!(
                crate::event::idempotency_key(&json).as_deref(),
                Some(k.as_str())
            );
            assert_eq!(header(crate::contract::key_header(kind)), k);
            assert_eq!(header("x-inference-event"), kind.name());
        }
    }
}
