//! `raw` steps: a request written out in full, or a recorded delivery sent
//! again (its body byte for byte, its key or a fresh one, with copies).

use bytes::Bytes;

use super::recorded;
use super::{CaseRun, filler_json};
use crate::event::EventKind;
use crate::scenario::model::{Expect, RawStep};
use crate::sender::event_headers;

impl CaseRun<'_> {
    pub(super) async fn raw(&mut self, r: &RawStep, expect: &Expect) {
        let kind = r.event.unwrap_or(EventKind::GenerationCompleted);
        self.last = Some((kind, r.instance));
        let key = match &r.key {
            Some(recorded) => self.recorded_key(kind, r.instance, recorded),
            None => self.key_of(kind, r.instance),
        };
        let base = if r.bare {
            Vec::new()
        } else {
            match self.builder(kind, r.instance).build() {
                Ok(event) => event_headers(&event),
                Err(_) => Vec::new(),
            }
        };
        let mut headers = self.headers(base, &r.headers, &key);
        let mut body: Bytes = if let Some(path) = &r.body_path {
            match read_body_file(path).await {
                Ok(bytes) => recorded::replace_bytes(
                    bytes.into(),
                    b"{{webhook_id}}",
                    self.ctx.webhook_id.as_bytes(),
                ),
                Err(e) => {
                    return self.fail(
                        "body_file",
                        "a readable body file",
                        format!("cannot read {}: {e}", path.display()),
                    );
                }
            }
        } else if let Some(text) = &r.body {
            self.template(text, &key).into_bytes().into()
        } else if let Some(json) = &r.body_json {
            serde_json::to_vec(&self.template_json(json, &key))
                .unwrap_or_default()
                .into()
        } else if let Some(size) = r.body_size {
            filler_json(size.0).into()
        } else {
            Bytes::new()
        };
        // Under --fresh-ids the recorded key gives way to a fresh one everywhere.
        if let Some(recorded) = r.key.as_deref().filter(|k| !k.is_empty() && *k != key) {
            body = recorded::replace_bytes(body, recorded.as_bytes(), key.as_bytes());
            for (_, value) in &mut headers {
                *value = value.replace(recorded, &key);
            }
        }
        let replica = self.ctx.urls[self.replicas_for(r.replica, 1)[0]].clone();
        let url = recorded::with_query(&replica, r.query.as_deref());
        let method = r.method.as_deref().unwrap_or("POST");
        let replay = self.ctx.replay;
        let copies = if r.key.is_some() {
            1 + replay.duplicates as usize
        } else {
            1
        };
        if let Some(step) = self.steps.last_mut() {
            step.concurrent = copies > 1 && replay.concurrent;
        }
        let attempts = recorded::send_copies(
            &self.ctx.sender,
            method,
            &url,
            headers,
            body,
            copies,
            replay.concurrent,
        )
        .await;
        let total = attempts.len();
        for (i, attempt) in attempts.into_iter().enumerate() {
            let label = if total > 1 {
                format!("answer to copy {} of {total}", i + 1)
            } else {
                "answer".to_owned()
            };
            self.check_answer(expect, &attempt, &label);
            self.record(attempt);
        }
    }

    /// The key of a recorded request: as recorded, or under `--fresh-ids` a
    /// fresh one made for this case; the probe reads it either way.
    fn recorded_key(&mut self, kind: EventKind, instance: u32, recorded: &str) -> String {
        if self.ctx.replay.fresh_ids {
            return self.key_of(kind, instance);
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = self.keys.entry((kind, instance)) {
            slot.insert(recorded.to_owned());
            self.key_order.push(recorded.to_owned());
        }
        recorded.to_owned()
    }
}

/// A body file's bytes, at most [`crate::scenario::MAX_BODY_FILE`] of them
/// (it was checked when the scenario was loaded; it may have grown since).
async fn read_body_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let limit = crate::scenario::MAX_BODY_FILE;
    let mut bytes = Vec::new();
    tokio::fs::File::open(path)
        .await?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .await?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "it grew past {} MiB since the scenario was loaded",
            limit / (1024 * 1024)
        )));
    }
    Ok(bytes)
}
