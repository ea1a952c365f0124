//! The reference receiver: a correct webhook endpoint, the Rust counterpart of
//! the seed page's Bun server, with an effects probe.
//!
//! - `OPTIONS` (any path): 200 with the CORS headers of the reference receiver.
//! - `POST /webhook`: 401 when a webhook id is configured and the
//!   `X-Inference-Webhook-ID` header differs; 400 for a body that is not a JSON
//!   object with a string `event` (and, for known events, an idempotency key);
//!   otherwise the effect (recording the delivery) runs at most once per key and
//!   the answer is 200 `{"success":true}`. Unknown event names: 200, ignored.
//! - `GET /test/effects?key=KEY`: `{"key": KEY, "count": N}`, the times the effect ran
//!   (also at `/effects`, its earlier path).
//! - `GET /test/effects`: totals `{"keys", "effects", "deliveries"}`.

pub mod effects;
#[doc(hidden)]
pub mod server;

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use crate::event::{EventKind, idempotency_key};
use crate::recording::Recorder;
use crate::secret;

pub use effects::{Effects, KeyStats, Totals};
#[doc(hidden)]
pub use server::{HttpRequest, HttpResponse, ServeError, Server};

/// Path the reference receiver takes webhooks on.
pub const WEBHOOK_PATH: &str = "/webhook";
/// Path of the effects probe: the path the example receivers and the
/// README use for a receiver's test-only probe, so one path is written
/// everywhere.
pub const EFFECTS_PATH: &str = "/test/effects";
/// The probe's earlier path, still answered.
const EFFECTS_PATH_BEFORE: &str = "/effects";

/// How the reference receiver behaves.
#[derive(Debug, Clone, Default)]
pub struct ReceiverConfig {
    /// When set, requests must carry this `X-Inference-Webhook-ID` (else 401).
    pub webhook_id: Option<String>,
    /// Print one line per webhook to standard output.
    pub log: bool,
    /// Print the webhook id in full in log lines.
    pub show_secrets: bool,
    /// Serve HTTPS with this PEM certificate chain and key.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// Record every delivery (`POST /webhook`) as a replayable scenario.
    pub record: Option<Arc<Recorder>>,
}

/// A running reference receiver.
#[derive(Debug)]
pub struct Receiver {
    server: Server,
    effects: Arc<Effects>,
    scheme: &'static str,
}

impl Receiver {
    /// Starts on `addr` (use port 0 for a free port).
    pub async fn start(addr: SocketAddr, config: ReceiverConfig) -> Result<Receiver, ServeError> {
        let tls = match &config.tls {
            Some((cert, key)) => Some(server::tls_acceptor(cert, key)?),
            None => None,
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = server::bind(addr).await?;
        let effects = Arc::new(Effects::default());
        let state = Arc::new((config, effects.clone()));
        let server = server::serve_with(listener, tls, move |req| {
            let state = state.clone();
            async move { handle(&state.0, &state.1, req) }
        })
        .map_err(|source| ServeError::Listen { addr, source })?;
        Ok(Receiver {
            server,
            effects,
            scheme,
        })
    }

    /// Starts on 127.0.0.1 with a free port.
    pub async fn start_local(config: ReceiverConfig) -> Result<Receiver, ServeError> {
        Self::start(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The webhook endpoint, e.g. `http://127.0.0.1:3000/webhook`.
    pub fn url(&self) -> String {
        format!("{}://{}{WEBHOOK_PATH}", self.scheme, self.addr())
    }

    /// The effects probe template, e.g. `http://127.0.0.1:3000/test/effects?key={key}`.
    pub fn effects_url(&self) -> String {
        format!(
            "{}://{}{EFFECTS_PATH}?key={{key}}",
            self.scheme,
            self.addr()
        )
    }

    /// The effect store, for in-process checks.
    pub fn effects(&self) -> &Effects {
        &self.effects
    }

    /// Stops the receiver.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

fn handle(config: &ReceiverConfig, effects: &Effects, req: HttpRequest) -> HttpResponse {
    match (&req.method, req.path.as_str()) {
        (&Method::OPTIONS, _) => readiness(),
        (&Method::POST, WEBHOOK_PATH) => {
            let (arrived, started) = (std::time::SystemTime::now(), std::time::Instant::now());
            let number = config.record.as_ref().map(|r| r.number());
            let (status, body) = webhook(config, effects, &req);
            if let (Some(recorder), Some(number)) = (&config.record, number) {
                record(
                    recorder,
                    number,
                    &req,
                    arrived,
                    started.elapsed(),
                    status,
                    &body,
                );
            }
            server::json(status, &body)
        }
        (&Method::GET, EFFECTS_PATH | EFFECTS_PATH_BEFORE) => match req.query_param("key") {
            Some(key) => server::json(
                StatusCode::OK,
                &json!({"key": key, "count": effects.get(&key).effects}),
            ),
            None => server::json(StatusCode::OK, &json!(effects.totals())),
        },
        _ => server::respond(StatusCode::NOT_FOUND, "text/plain", "Not Found"),
    }
}

fn readiness() -> HttpResponse {
    let mut response = server::respond(StatusCode::OK, "text/plain", "");
    let headers = response.headers_mut();
    headers.insert(
        "access-control-allow-origin",
        hyper::header::HeaderValue::from_static("*"),
    );
    headers.insert(
        "access-control-allow-methods",
        hyper::header::HeaderValue::from_static("POST, OPTIONS"),
    );
    headers.insert(
        "access-control-allow-headers",
        hyper::header::HeaderValue::from_static("Content-Type"),
    );
    response
}

fn refusal(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (status, json!({"success": false, "error": message}))
}

/// The reference receiver's answer to a webhook: its status and JSON body.
fn webhook(config: &ReceiverConfig, effects: &Effects, req: &HttpRequest) -> (StatusCode, Value) {
    let given_id = req.header(crate::contract::WEBHOOK_ID_HEADER);
    if let Some(expected) = &config.webhook_id
        && given_id != Some(expected.as_str())
    {
        log(
            config,
            format_args!(
                "rejected: X-Inference-Webhook-ID {} does not match (401)",
                given_id
                    .map(|g| secret::display(g, config.show_secrets))
                    .unwrap_or_else(|| "missing".into())
            ),
        );
        return refusal(StatusCode::UNAUTHORIZED, "unknown webhook id");
    }
    // Only the event and the key are read: a 9.5 MB completion is checked,
    // not copied.
    let payload = match crate::event::skeleton::parse(&req.body, &crate::contract::FIELDS_READ) {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(_) => return refusal(StatusCode::BAD_REQUEST, "the body must be a JSON object"),
        Err(e) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                &format!("the body is not valid JSON: {e}"),
            );
        }
    };
    let Some(event) = payload
        .get(crate::contract::EVENT_FIELD)
        .and_then(Value::as_str)
    else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "the body has no string field `event`",
        );
    };
    if EventKind::from_wire(event).is_none() {
        log(
            config,
            format_args!("ignored unknown event {event:?} (200)"),
        );
        return (StatusCode::OK, json!({"success": true, "ignored": true}));
    }
    let Some(key) = idempotency_key(&payload) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "the body has no generation or group id",
        );
    };
    let first = effects.record(&key);
    let id_shown = given_id
        .map(|g| secret::display(g, config.show_secrets))
        .unwrap_or_else(|| "none".into());
    log(
        config,
        format_args!(
            "received {event} key={key} webhook_id={id_shown} {} (200)",
            if first {
                "effect performed"
            } else {
                "duplicate, effect skipped"
            }
        ),
    );
    (StatusCode::OK, json!({"success": true}))
}

/// Writes the delivery into the recording folder; a failure is said on
/// standard error and the receiver goes on.
fn record(
    recorder: &Recorder,
    number: u64,
    req: &HttpRequest,
    at: std::time::SystemTime,
    took: std::time::Duration,
    status: StatusCode,
    answer: &Value,
) {
    let headers = req.header_pairs();
    let inspection = crate::event::inspect::inspect(|name| req.header(name), &req.body);
    let delivery = crate::recording::Delivery {
        at,
        method: req.method.as_str(),
        path: &req.path,
        query: req.query.as_deref(),
        headers: &headers,
        body: &req.body,
        inspection: &inspection,
        answer: crate::recording::answer_words(Some(status.as_u16()), took, None),
        answer_body: Some(answer.to_string()),
    };
    if let Err(e) = recorder.record(number, &delivery) {
        crate::output::errln!("error: {e}; the delivery was answered but not recorded");
    }
}

fn log(config: &ReceiverConfig, line: std::fmt::Arguments<'_>) {
    if config.log {
        crate::output::outln!("{}", crate::output::escape_controls(&line.to_string()));
    }
}
