//! The effects probe: how many times a receiver performed the effect for a key.
//!
//! A URL template with `{key}` (URL-encoded on substitution), answering a bare
//! integer or a JSON object with an integer `count`; one template per
//! replica when the harness serves several.
//!
//! **The one rule for asking it.** The probe is asked about a key
//! [`READS`] times at once, each over a connection of its own and spread
//! over the replicas, because several processes may answer on one URL
//! (gunicorn's workers, a Node cluster) and each may keep its own record:
//! questions asked at once reach different processes, where questions asked
//! one after the other often reach the same idle one. Answers that agree
//! are the count. Answers that differ may be work finishing in the
//! background: the probe is asked [`READS`] more times a moment later, and
//! when these agree on a count at least as high, that is the count. When
//! they still differ, they cannot come from one record: the receiver keeps
//! state per process, a verdict of its own.

use std::time::Duration;

use crate::scenario::values::EffectSpec;
use crate::sender::{Attempt, Phase, Request, Sender};

/// Pause between questions while waiting for an asynchronous receiver.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// How many times the probe is asked about a key at once, in one round.
pub const READS: usize = 3;

/// How long after answers that differ the probe is asked again.
const SETTLE: Duration = Duration::from_millis(50);

/// How long a connection is held open before (and while) a round is asked
/// in [`Probe::read_thoroughly`].
const HOLD: Duration = Duration::from_millis(20);

/// One round of answers, and the last attempt of it.
struct Round {
    counts: Vec<u64>,
    last: Attempt,
}

/// What the probe said about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// The count: the answers agreed (or rose and settled).
    Count(u64),
    /// Answers that cannot come from one record (in the order asked): the
    /// receiver keeps its record of handled keys per process.
    Disagree(Vec<u64>),
}

/// Why the probe gave no reading.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ProbeError {
    /// The probe failed (not 2xx, no answer, not a count), in words.
    Failed(String, Option<Attempt>),
    /// The run was stopped meanwhile.
    Stopped(Option<Attempt>),
}

/// A configured effects probe.
#[derive(Debug, Clone)]
pub struct Probe {
    /// One template per replica (one when the receiver is not replicated).
    templates: Vec<String>,
    sender: Sender,
}

impl Probe {
    /// A probe at `template` (must contain `{key}`), asked through `sender`.
    pub fn new(template: &str, sender: Sender) -> Result<Probe, String> {
        Self::replicated(&[template.to_owned()], sender)
    }

    /// The probe of a run: on every replica when there are several
    /// (`replicas[i]` is replica `i`'s template), else at `template`, else
    /// none.
    pub fn of_run(
        template: Option<&str>,
        replicas: &[String],
        sender: &Sender,
    ) -> Result<Option<Probe>, String> {
        match (template, replicas.len() > 1) {
            (_, true) => Self::replicated(replicas, sender.clone()).map(Some),
            (Some(t), false) => Self::new(t, sender.clone()).map(Some),
            (None, false) => Ok(None),
        }
    }

    /// A probe on every replica: `templates[i]` is replica `i`'s.
    pub fn replicated(templates: &[String], sender: Sender) -> Result<Probe, String> {
        for template in templates {
            Self::check_template(template)?;
        }
        if templates.is_empty() {
            return Err("no effects probe template".into());
        }
        Ok(Probe {
            templates: templates.to_vec(),
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

    /// The probe URL for `key` on the first replica.
    pub fn url(&self, key: &str) -> String {
        self.url_on(0, key)
    }

    /// The probe URL for `key` on replica `replica`.
    fn url_on(&self, replica: usize, key: &str) -> String {
        let encoded: String = form_urlencoded::byte_serialize(key.as_bytes()).collect();
        self.templates[replica % self.templates.len()].replace("{key}", &encoded)
    }

    /// Asks once, the first replica: the count, or what went wrong in words.
    pub async fn count(&self, key: &str) -> (Result<u64, String>, Attempt) {
        self.count_on(0, key).await
    }

    /// Reads `key` by the rule of this module: [`READS`] answers asked at
    /// once, spread over the replicas; when they differ, [`READS`] more a
    /// moment later. The last attempt made comes with the reading.
    pub async fn read(&self, key: &str) -> Result<(Reading, Attempt), ProbeError> {
        let first = self.round(key).await?;
        if first.counts.iter().all(|n| *n == first.counts[0]) {
            return Ok((Reading::Count(first.counts[0]), first.last));
        }
        // Different answers at once: the work may be finishing in the
        // background. A moment later, one record answers one count, at
        // least as high as before; several records go on disagreeing.
        tokio::time::sleep(SETTLE).await;
        let second = self.round(key).await?;
        let highest = first.counts.iter().max().copied().unwrap_or_default();
        let settled = second.counts.iter().all(|n| *n == second.counts[0]);
        if settled && second.counts[0] >= highest {
            return Ok((Reading::Count(second.counts[0]), second.last));
        }
        let mut answers = first.counts;
        answers.extend(second.counts);
        Ok((Reading::Disagree(answers), second.last))
    }

    /// Reads `key` harder, to tell whether several processes answer on the
    /// probe's URL with a record each: a round as [`Probe::read`] asks, a
    /// round asked while a connection is held open without a request (a
    /// process that takes one request at a time and accepted it cannot
    /// answer meanwhile, so the questions reach another), and a last round
    /// as the first. Answers that do not settle on one count, at least as
    /// high as every earlier one, disagree.
    pub async fn read_thoroughly(&self, key: &str) -> Result<(Reading, Attempt), ProbeError> {
        let mut answers = Vec::new();
        let mut last = None;
        for hold in [false, true, false] {
            let round = match hold {
                false => self.round(key).await?,
                true => self.held_round(key).await?,
            };
            answers.extend(round.counts);
            last = Some(round.last);
        }
        let last = last.ok_or_else(|| ProbeError::Failed("not asked".into(), None))?;
        let settled = &answers[answers.len() - READS..];
        let highest = answers.iter().max().copied().unwrap_or_default();
        if settled.iter().all(|n| *n == highest) {
            return Ok((Reading::Count(highest), last));
        }
        Ok((Reading::Disagree(answers), last))
    }

    /// A round asked while a connection to the probe's address is held open
    /// without a request; it is let go a moment after the questions start,
    /// so that a receiver with a single process answers them too.
    async fn held_round(&self, key: &str) -> Result<Round, ProbeError> {
        let address = crate::sender::url::ReceiverUrl::parse(&self.url(key))
            .ok()
            .map(|u| u.authority());
        let held = match address {
            Some(address) => tokio::time::timeout(HOLD, tokio::net::TcpStream::connect(address))
                .await
                .ok()
                .and_then(Result::ok),
            None => None,
        };
        // Time for a process to accept it and wait for its request.
        tokio::time::sleep(HOLD).await;
        let round = self.round(key);
        let release = async move {
            tokio::time::sleep(HOLD).await;
            drop(held);
        };
        let (round, ()) = tokio::join!(round, release);
        round
    }

    /// [`READS`] questions about `key` at once, each on a connection of its
    /// own, spread over the replicas.
    async fn round(&self, key: &str) -> Result<Round, ProbeError> {
        let asked = (0..READS).map(|i| self.count_on(i, key));
        let answers = futures_util::future::join_all(asked).await;
        let mut counts = Vec::with_capacity(READS);
        let mut last = None;
        for (result, attempt) in answers {
            if attempt.outcome == crate::sender::Outcome::Cancelled {
                return Err(ProbeError::Stopped(Some(attempt)));
            }
            match result {
                Ok(n) => counts.push(n),
                Err(message) => return Err(ProbeError::Failed(message, Some(attempt))),
            }
            last = Some(attempt);
        }
        match last {
            Some(last) => Ok(Round { counts, last }),
            None => Err(ProbeError::Failed(
                "the effects probe was not asked".into(),
                None,
            )),
        }
    }

    /// Asks once, replica `replica` (modulo their number).
    async fn count_on(&self, replica: usize, key: &str) -> (Result<u64, String>, Attempt) {
        let url = self.url_on(replica, key);
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

    /// Reads `key` (see [`Probe::read`]) until `expected` holds or `within`
    /// has passed. An upper bound (`<= n`, exactly 0) is read once `within`
    /// has passed, since an asynchronous receiver may still be adding
    /// effects. A reading whose answers disagree ends it at once.
    pub async fn expect(
        &self,
        key: &str,
        expected: EffectSpec,
        within: Duration,
        stop: &crate::stop::Stop,
    ) -> Result<(Reading, Attempt), ProbeError> {
        let deadline = tokio::time::Instant::now() + within;
        let upper_bound = matches!(expected, EffectSpec::AtMost(_) | EffectSpec::Exactly(0));
        if upper_bound {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {}
                _ = stop.stopped() => return Err(ProbeError::Stopped(None)),
            }
        }
        loop {
            let (reading, attempt) = self.read(key).await?;
            match reading {
                Reading::Count(count)
                    if !expected.matches(count) && tokio::time::Instant::now() < deadline =>
                {
                    tokio::select! {
                        _ = tokio::time::sleep(POLL_INTERVAL) => {}
                        _ = stop.stopped() => return Err(ProbeError::Stopped(Some(attempt))),
                    }
                }
                reading => return Ok((reading, attempt)),
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
            templates: vec!["http://127.0.0.1:1/effects?key={key}".into()],
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
