//! Payload templates for load: built once, each delivery copies one and
//! writes its fresh key in place, so the hot path does no JSON work.

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::event::{Event, EventKind};

/// Length of every generated key: a 4-character prefix and 20 characters.
pub const KEY_LEN: usize = 24;

/// A serialized payload with the places its key occupies.
#[derive(Debug, Clone)]
pub struct Template {
    pub kind: EventKind,
    body: Vec<u8>,
    key_offsets: Vec<usize>,
    headers: HeaderMap,
    key_header: HeaderName,
}

impl Template {
    /// A template of `kind`, padded to about `pad` bytes (0: as built).
    pub fn new(
        kind: EventKind,
        webhook_id: &str,
        pad: usize,
        group_size: usize,
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
        let body = event.body().to_vec();
        let key_offsets = find_all(&body, key.as_bytes());
        let mut headers = HeaderMap::new();
        let key_header = HeaderName::from_bytes(crate::contract::key_header(kind).as_bytes())
            .map_err(|e| e.to_string())?;
        for (name, value) in event.headers() {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
            if name == key_header {
                continue;
            }
            let value = HeaderValue::from_str(&value).map_err(|e| format!("header {name}: {e}"))?;
            headers.insert(name, value);
        }
        Ok(Template {
            kind,
            body,
            key_offsets,
            headers,
            key_header,
        })
    }

    /// The prefix of this template's keys (`gen_` or `grp_`).
    pub fn prefix(&self) -> &'static str {
        if self.kind.is_group() { "grp_" } else { "gen_" }
    }

    /// The body and headers of a delivery with `key` (exactly [`KEY_LEN`]
    /// bytes). The key header shares the body's bytes: no copy of its own.
    pub fn render(&self, key: &str) -> (Bytes, HeaderMap) {
        let mut body = self.body.clone();
        for &at in &self.key_offsets {
            body[at..at + KEY_LEN].copy_from_slice(key.as_bytes());
        }
        let body = Bytes::from(body);
        let mut headers = self.headers.clone();
        let value = match self.key_offsets.first() {
            Some(&at) => HeaderValue::from_maybe_shared(body.slice(at..at + KEY_LEN)),
            None => HeaderValue::from_str(key),
        };
        if let Ok(value) = value {
            headers.insert(self.key_header.clone(), value);
        }
        (body, headers)
    }

    /// Adds a header to every delivery of this template (e.g. `Host`).
    pub fn add_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.headers.insert(name, value);
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
            let t = Template::new(kind, "wh", 0, 3).unwrap();
            let k = key(t.prefix(), "abcdef", 42);
            assert_eq!(k.len(), KEY_LEN);
            let (body, headers) = t.render(&k);
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(
                crate::event::idempotency_key(&json).as_deref(),
                Some(k.as_str())
            );
            let header = if kind.is_group() {
                "x-inference-group-id"
            } else {
                "x-inference-generation-id"
            };
            assert_eq!(headers.get(header).unwrap(), k.as_str());
            assert_eq!(headers.get("x-inference-event").unwrap(), kind.name());
        }
    }
}
