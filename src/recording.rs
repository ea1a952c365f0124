//! Recordings of real deliveries (`proxy --record`, `receive --record`): one
//! scenario file per delivery that `run` and `replay` execute as it is, and
//! the body beside it byte for byte.
//!
//! `0003-generation.completed-gen_abc.yaml` holds one case: a `raw` step with
//! the request's method, query and headers (`bare`, so only those), its key,
//! and `body_file: 0003-generation.completed-gen_abc.body`, expecting 2xx,
//! then a probe that the event had the effect the contract requires. The
//! webhook id never reaches the disk: `{{webhook_id}}` stands in its place
//! in the headers, the body, the request line and the recorded answer.
//! Headers of the hop (Host, Content-Length, the connection headers) are left
//! out, so a replay is the same request to its new target.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::event::inspect::{Inspection, Remark};
use crate::scenario::model::{
    HeaderValues, RawStep, Recorded, Severity, StepInput, WrittenCase, WrittenFile,
};
use crate::scenario::values::StatusPattern;

/// What stands for the webhook id in recordings.
pub const WEBHOOK_ID_PLACEHOLDER: &str = "{{webhook_id}}";

/// Headers that belong to one hop, not to the request (RFC 9110 7.6.1, and
/// Host and Content-Length, which the new hop sets).
const HOP_HEADERS: [&str; 10] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
];

/// Whether `name` is a header of the hop, left out of forwarding and recordings.
pub fn is_hop_header(name: &str) -> bool {
    HOP_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// The end-to-end headers of a request or an answer: without the headers
/// of the hop, nor those its `Connection` header names (RFC 9110 7.6.1).
pub fn end_to_end(headers: &[(String, String)]) -> Vec<(String, String)> {
    let named: Vec<String> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| v.split(','))
        .map(|token| token.trim().to_ascii_lowercase())
        .filter(|token| !token.is_empty())
        .collect();
    headers
        .iter()
        .filter(|(n, _)| !is_hop_header(n) && !named.contains(&n.to_ascii_lowercase()))
        .cloned()
        .collect()
}

/// Words in a header's name that make it a credential (`Authorization`,
/// `Cookie`, `X-Api-Key`, `X-Auth-Token`, ...): a recording leaves its
/// value out unless `--record-header` names it.
const CREDENTIAL_WORDS: [&str; 9] = [
    "authorization",
    "cookie",
    "token",
    "secret",
    "passw",
    "apikey",
    "api-key",
    "api_key",
    "auth",
];

/// Whether the header `name` carries a credential (the webhook id header
/// aside: it is written as `{{webhook_id}}`).
pub fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name != crate::contract::WEBHOOK_ID_HEADER.to_ascii_lowercase()
        && CREDENTIAL_WORDS.iter().any(|w| name.contains(w))
}

/// One delivery as it arrived, and what it got.
#[derive(Debug)]
pub struct Delivery<'a> {
    /// When it arrived.
    pub at: SystemTime,
    /// The method, e.g. `POST`.
    pub method: &'a str,
    /// The path it was sent to.
    pub path: &'a str,
    /// The query string, without `?`.
    pub query: Option<&'a str>,
    /// Every header as it arrived (names in lower case), in order.
    pub headers: &'a [(String, String)],
    /// The body, byte for byte.
    pub body: &'a [u8],
    /// What the request was found to hold.
    pub inspection: &'a Inspection,
    /// The answer it got, in words: `200 in 12.3ms`, or what failed.
    pub answer: String,
    /// The start of the answer's body, if any.
    pub answer_body: Option<String>,
}

/// Why a recording could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The folder could not be created.
    #[error("cannot create the recording folder {0}: {1}")]
    Folder(PathBuf, std::io::Error),
    /// The path is a file.
    #[error("{0} is a file: give a folder to record into (it is created if needed)")]
    NotAFolder(PathBuf),
    /// A file could not be written.
    #[error("cannot write the recording {0}: {1}")]
    Write(PathBuf, std::io::Error),
    /// The scenario could not be serialised.
    #[error("cannot write the recording as YAML: {0}")]
    Yaml(String),
}

/// Writes recordings into one folder, numbered in order of arrival.
#[derive(Debug)]
pub struct Recorder {
    dir: PathBuf,
    by: &'static str,
    next: AtomicU64,
    secret: Option<String>,
    /// Credential headers whose values are recorded all the same
    /// (`--record-header`), lower-case.
    kept_credentials: Vec<String>,
}

impl Recorder {
    /// Records into `dir` (created if needed); `by` names the command;
    /// `secret` is the receiver's webhook id when known (then a request with
    /// another id is recorded as one to refuse, its id kept). The numbers go
    /// on after those of recordings already there.
    pub fn new(
        dir: &Path,
        by: &'static str,
        secret: Option<String>,
    ) -> Result<Recorder, RecordError> {
        if dir.is_file() {
            return Err(RecordError::NotAFolder(dir.to_owned()));
        }
        std::fs::create_dir_all(dir).map_err(|e| RecordError::Folder(dir.to_owned(), e))?;
        let last = std::fs::read_dir(dir)
            .map_err(|e| RecordError::Folder(dir.to_owned(), e))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.split('-').next()?.parse::<u64>().ok()
            })
            .max()
            .unwrap_or(0);
        Ok(Recorder {
            dir: dir.to_owned(),
            by,
            next: AtomicU64::new(last + 1),
            secret: secret.filter(|s| !s.is_empty()),
            kept_credentials: Vec::new(),
        })
    }

    /// Records the values of these credential headers too (by default a
    /// credential's value is left out of the recording).
    pub fn keeping_credentials(mut self, names: &[String]) -> Recorder {
        self.kept_credentials = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        self
    }

    /// The folder recorded into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The next number, taken when a delivery arrives so that the files
    /// sort in order of arrival whatever order the answers come in.
    pub fn number(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Writes delivery `number`; the path of its scenario file.
    pub fn record(&self, number: u64, delivery: &Delivery<'_>) -> Result<PathBuf, RecordError> {
        let inspection = delivery.inspection;
        let judged = Judged::of(inspection, self.secret.as_deref());
        let secrets = judged.secrets;
        let hide = |text: &str| hide_secrets(text, &secrets);
        let stem = format!(
            "{number:04}-{}-{}",
            file_part(inspection.event.as_deref().unwrap_or("unknown")),
            file_part(inspection.key.as_deref().unwrap_or("nokey"))
        );
        let body_name = format!("{stem}.body");
        let body_path = self.dir.join(&body_name);
        write_body(&body_path, delivery.body, &secrets)
            .map_err(|e| RecordError::Write(body_path.clone(), e))?;

        let mut headers = BTreeMap::new();
        let mut left_out: Vec<String> = Vec::new();
        for (name, value) in &end_to_end(delivery.headers) {
            if is_credential(name) && !self.kept_credentials.contains(&name.to_ascii_lowercase()) {
                if !left_out.contains(name) {
                    left_out.push(name.clone());
                }
                continue;
            }
            HeaderValues::add(&mut headers, name, hide(value));
        }
        let request_line = match delivery.query {
            Some(q) => format!("{} {}?{q}", delivery.method, delivery.path),
            None => format!("{} {}", delivery.method, delivery.path),
        };
        let at = humantime::format_rfc3339_seconds(delivery.at).to_string();
        let event = inspection.event.as_deref().unwrap_or("a request");
        let key = inspection.key.as_deref().unwrap_or("without a key");
        let raw = RawStep {
            method: (delivery.method != "POST").then(|| delivery.method.to_owned()),
            event: inspection.kind,
            bare: true,
            key: inspection.key.clone(),
            query: delivery.query.map(hide),
            headers,
            body_file: Some(body_name.clone()),
            ..RawStep::default()
        };
        let mut steps = vec![StepInput::raw(raw, judged.expect)];
        if judged.probe && inspection.key.is_some() && delivery.method == "POST" {
            steps.push(StepInput::probe_required());
        }
        let file = WrittenFile {
            cases: vec![WrittenCase {
                id: format!("recorded.{stem}"),
                title: format!("{event} {key} (recorded {at})"),
                severity: Severity::Must,
                finding: false,
                requirement: Some(format!(
                    "{} When it was recorded ({at}, by {}), the receiver answered {}.",
                    judged.why,
                    self.by,
                    hide(&delivery.answer)
                )),
                recorded: Some(Recorded {
                    by: self.by.to_owned(),
                    at: at.clone(),
                    request: hide(&request_line),
                    answer: hide(&delivery.answer),
                    answer_body: delivery.answer_body.as_deref().map(hide),
                }),
                steps,
            }],
        };
        let yaml = serde_saphyr::to_string(&file).map_err(|e| RecordError::Yaml(e.to_string()))?;
        let credentials = if left_out.is_empty() {
            String::new()
        } else {
            format!(
                "# Not recorded (credentials): {}; add them to the step's headers, or record with --record-header NAME\n",
                left_out.join(", ")
            )
        };
        let text = format!(
            "# Recorded by webhook-harness {} at {at}: {}\n# Replay: webhook-harness replay <this folder> --url URL (or `run`); the body is in {}\n{credentials}{yaml}",
            self.by,
            hide(&request_line),
            body_name
        );
        let path = self.dir.join(format!("{stem}.yaml"));
        std::fs::write(&path, text).map_err(|e| RecordError::Write(path.clone(), e))?;
        Ok(path)
    }
}

/// How long an answer took, for a recording's `answer`.
pub fn answer_words(status: Option<u16>, latency: Duration, failure: Option<&str>) -> String {
    let took = crate::duration::format(latency);
    match (status, failure) {
        (Some(status), None) => format!("{status} in {took}"),
        (Some(status), Some(failure)) => format!("{status} in {took} ({failure})"),
        (None, Some(failure)) => format!("no answer after {took}: {failure}"),
        (None, None) => format!("no answer after {took}"),
    }
}

/// `text` with each secret replaced by [`WEBHOOK_ID_PLACEHOLDER`].
fn hide_secrets(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| {
        text.replace(secret.as_str(), WEBHOOK_ID_PLACEHOLDER)
    })
}

/// What a recorded request must get when it is sent again, and which ids
/// in it are secrets.
struct Judged {
    /// The expected status: `2xx`, `4xx` or `not 5xx`.
    expect: StatusPattern,
    /// Whether the effect is probed (a delivery the receiver must process).
    probe: bool,
    /// Why, for the case's requirement.
    why: &'static str,
    /// The ids to write as `{{webhook_id}}`.
    secrets: Vec<String>,
}

impl Judged {
    fn of(inspection: &Inspection, known: Option<&str>) -> Judged {
        let header = inspection.webhook_id.as_deref();
        // Without the receiver's id, the ids the request carries are taken
        // for it (the header's, and the body's in case the header is missing).
        let mut secrets: Vec<String> = match known {
            Some(id) => vec![id.to_owned()],
            None => header
                .into_iter()
                .chain(inspection.body_webhook_id.as_deref())
                .map(str::to_owned)
                .collect(),
        };
        secrets.retain(|s| !s.is_empty());
        secrets.dedup();
        let wrong_id = match (known, header) {
            (_, None) => true,
            (Some(id), Some(sent)) => id != sent,
            (None, Some(_)) => false,
        };
        let (expect, probe, why) = if wrong_id {
            (
                StatusPattern::Class(4),
                false,
                "It carries no webhook id, or another than the receiver's: it must be refused (4xx) and not processed.",
            )
        } else if inspection.kind.is_none()
            || inspection.remarks.iter().any(Remark::spoils_delivery)
        {
            (
                StatusPattern::NotClass(5),
                false,
                "It is not a delivery the contract describes (see the proxy's remarks): it must not crash the receiver (no 5xx).",
            )
        } else {
            (
                StatusPattern::Class(2),
                true,
                "A delivery as the sender made it: it must be answered 2xx and processed exactly as the event requires.",
            )
        };
        Judged {
            expect,
            probe,
            why,
            secrets,
        }
    }
}

/// Writes `body` to `path` with every secret replaced by the placeholder,
/// piece by piece (no second copy of a large body in memory).
fn write_body(path: &Path, body: &[u8], secrets: &[String]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut rest = body;
    loop {
        // The earliest occurrence of any secret.
        let next = secrets
            .iter()
            .filter(|s| !s.is_empty())
            .filter_map(|s| memchr::memmem::find(rest, s.as_bytes()).map(|at| (at, s.len())))
            .min();
        let Some((at, len)) = next else { break };
        out.write_all(&rest[..at])?;
        out.write_all(WEBHOOK_ID_PLACEHOLDER.as_bytes())?;
        rest = &rest[at + len..];
    }
    out.write_all(rest)?;
    out.flush()
}

/// A file-name-safe part: letters, digits, `.`, `_`, `-`; at most 48 chars.
fn file_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_replaced_in_pieces_and_names_are_safe() {
        let dir = std::env::temp_dir().join(format!("wh-rec-unit-{}", std::process::id()));
        let path = dir.join("b");
        std::fs::create_dir_all(&dir).unwrap();
        write_body(&path, b"aSECRETbSECRET", &["SECRET".to_owned()]).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"a{{webhook_id}}b{{webhook_id}}"
        );
        assert_eq!(file_part("gen/../x y"), "gen_.._x_y");
        assert!(is_hop_header("Content-Length") && !is_hop_header("x-inference-event"));
        assert!(is_hop_header("Proxy-Authorization") && !is_hop_header("Authorization"));
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            end_to_end(&pairs(&[
                ("Connection", "keep-alive, X-Hop"),
                ("X-Hop", "1"),
                ("Authorization", "Bearer t"),
                ("TE", "trailers"),
                ("X-Custom", "2"),
            ])),
            pairs(&[("Authorization", "Bearer t"), ("X-Custom", "2")])
        );
        for credential in [
            "Authorization",
            "Cookie",
            "X-Api-Key",
            "X-Auth-Token",
            "api_key",
        ] {
            assert!(is_credential(credential), "{credential}");
        }
        for plain in [
            "X-Inference-Webhook-ID",
            "X-Inference-Event",
            "Content-Type",
            "X-Custom",
        ] {
            assert!(!is_credential(plain), "{plain}");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
