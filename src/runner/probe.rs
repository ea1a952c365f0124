//! The effects probe: how many times a receiver performed the effect for a key.
//!
//! A URL template with `{key}` (URL-encoded on substitution), answering a bare
//! integer or a JSON object with an integer `count`.

use std::time::Duration;

use crate::scenario::values::EffectSpec;
use crate::sender::{Attempt, Phase, Request, Sender};

/// Pause between questions while waiting for an asynchronous receiver.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A configured effects probe.
#[derive(Debug, Clone)]
pub struct Probe {
    template: String,
    sender: Sender,
}

impl Probe {
    /// A probe at `template` (must contain `{key}`), asked through `sender`.
    pub fn new(template: &str, sender: Sender) -> Result<Probe, String> {
        Self::check_template(template)?;
        Ok(Probe {
            template: template.to_owned(),
            sender,
        })
    }

    /// Checks a probe URL template: an http(s) URL with `{key}` in it.
    pub fn check_template(template: &str) -> Result<(), String> {
        if !template.contains("{key}") {
            return Err(format!(
                "`{template}` has no `{{key}}`: write e.g. http://127.0.0.1:3000/test/effects?key={{key}}"
            ));
        }
        let example = template.replace("{key}", "k");
        if let Err(e) = crate::sender::url::ReceiverUrl::parse(&example) {
            return Err(e.explain(template, "http://127.0.0.1:3000/test/effects?key={key}"));
        }
        Ok(())
    }

    /// The probe URL for `key`.
    pub fn url(&self, key: &str) -> String {
        let encoded: String = form_urlencoded::byte_serialize(key.as_bytes()).collect();
        self.template.replace("{key}", &encoded)
    }

    /// Asks once: the count, or what went wrong in words.
    pub async fn count(&self, key: &str) -> (Result<u64, String>, Attempt) {
        let url = self.url(key);
        let attempt = self
            .sender
            .send(Request {
                phase: Phase::Probe,
                method: "GET",
                url: &url,
                headers: &[],
                body: Default::default(),
            })
            .await;
        let result = match attempt.status {
            Some(200..=299) => parse_count(&attempt.body).ok_or_else(|| {
                format!(
                    "the effects probe at {url} answered {:?}, not an integer or {{\"count\": N}}",
                    attempt.body_text().chars().take(100).collect::<String>()
                )
            }),
            Some(status) => Err(format!(
                "the effects probe at {url} answered {status}, not 2xx"
            )),
            None => Err(format!(
                "the effects probe at {url} did not answer: {}",
                attempt
                    .failure
                    .as_ref()
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| "no response".into())
            )),
        };
        (result, attempt)
    }

    /// Asks until `expected` holds or `within` has passed. An upper bound
    /// (`<= n`, exactly 0) is checked once `within` has passed, since an
    /// asynchronous receiver may still be adding effects.
    pub async fn expect(
        &self,
        key: &str,
        expected: EffectSpec,
        within: Duration,
        stop: &crate::sender::stop::Stop,
    ) -> Result<(u64, Attempt), (String, Option<Attempt>)> {
        let deadline = tokio::time::Instant::now() + within;
        let upper_bound = matches!(expected, EffectSpec::AtMost(_) | EffectSpec::Exactly(0));
        if upper_bound {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {}
                _ = stop.stopped() => return Err(("the run was stopped".into(), None)),
            }
        }
        loop {
            let (result, attempt) = self.count(key).await;
            match result {
                Err(message) => return Err((message, Some(attempt))),
                Ok(count) if expected.matches(count) || tokio::time::Instant::now() >= deadline => {
                    return Ok((count, attempt));
                }
                Ok(_) => {
                    tokio::select! {
                        _ = tokio::time::sleep(POLL_INTERVAL) => {}
                        _ = stop.stopped() => return Err(("the run was stopped".into(), None)),
                    }
                }
            }
        }
    }
}

/// Reads `3` or `{"count": 3, ...}`.
pub fn parse_count(body: &[u8]) -> Option<u64> {
    match serde_json::from_slice::<serde_json::Value>(body).ok()? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::Object(map) => map.get("count")?.as_u64(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_for_a_query() {
        let probe = Probe {
            template: "http://127.0.0.1:1/effects?key={key}".into(),
            sender: Sender::new(Default::default()).unwrap(),
        };
        assert_eq!(
            probe.url("a b&c=d/é"),
            "http://127.0.0.1:1/effects?key=a+b%26c%3Dd%2F%C3%A9"
        );
    }

    #[test]
    fn counts_parse_in_both_forms() {
        assert_eq!(parse_count(b"3"), Some(3));
        assert_eq!(parse_count(br#"{"key":"k","count":0}"#), Some(0));
        assert_eq!(parse_count(br#"{"n":1}"#), None);
        assert_eq!(parse_count(b"-1"), None);
        assert_eq!(parse_count(b"nope"), None);
    }
}
