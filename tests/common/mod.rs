//! Receivers written for the tests: a correct one, and variants with one known bug each.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use webhook_harness::event::idempotency_key;
use webhook_harness::receiver::server::{self, HttpRequest, HttpResponse, Server};

/// The webhook id every test receiver expects.
pub mod hostile;
#[cfg(test)] // test binaries only: it runs the harness binary, which examples do not have
pub mod process;

pub const WEBHOOK_ID: &str = "AhALzdz8S";

/// One known bug (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    None,
    /// OPTIONS answered 405.
    OptionsNotAllowed,
    /// OPTIONS answered after 2.5 s.
    OptionsSlow,
    /// Only `webhookId` (camelCase) is accepted as the body's webhook id.
    RequiresCamelWebhookId,
    /// A group with no generations is rejected.
    RejectsEmptyGroup,
    /// A group of more than 20 generations crashes the handler (500).
    FailsLargeGroup,
    /// A group with a Failed member crashes the handler (500).
    CrashesOnFailedMember,
    /// A generation with state Failed is rejected (422).
    RejectsFailedGeneration,
    /// Top-level fields it does not know are rejected (400).
    RejectsUnknownFields,
    /// Bodies with non-ASCII bytes are rejected (400).
    AsciiOnly,
    /// Only the current dialect's key fields are read.
    LegacyUnsupported,
    /// Only the current dialect's key fields are read, and a legacy payload
    /// (which has none of them) is answered 200 and filed under an empty
    /// key: `req.body.data?.id ?? ""`.
    LegacyUnkeyed,
    /// POST /webhook answered 308 to /webhook/.
    Redirects,
    /// A key already seen is answered 409.
    ConflictOnDuplicate,
    /// The effect runs on every delivery.
    NotIdempotent,
    /// Check-then-act with a 300 ms gap: concurrent copies both perform the effect
    /// (wide enough for copies delayed on a loaded 2-core machine).
    RacyDedup,
    /// The first delivery of a group performs the effect, then fails with 503
    /// before recording the key; the retry performs it again.
    FailsFirstGroupAttempt,
    /// Answers 200 to everything and does nothing.
    Stub,
    /// Does not check X-Inference-Webhook-ID.
    IgnoresWebhookId,
    /// Bodies that do not parse crash the handler (500).
    CrashesOnBadInput,
    /// Bodies over 1 MB are refused (413).
    SmallBodyLimit,
    /// Every POST is answered after 1.5 s (against a 1 s bound).
    Slow,
    /// A non-ASCII character anywhere in `data.response` crashes the handler.
    NonAsciiInResponse,
    /// A payload without `data.usage` crashes the handler (generation events).
    RequiresUsage,
    /// A top-level JSON array crashes the handler (500) instead of a 400.
    ArrayIs500,
    /// The first delivery of every tenth new key is answered 503 (before
    /// doing anything); its retry goes through.
    FailsOneInTen,
    /// Not a bug: `webhook.test` is answered 200 as a ping, with no effect.
    IgnoresPing,
    /// Not a bug either: every request (OPTIONS too) is answered after 3 s.
    Answers3sLate,
    /// Checks the webhook id in the body (`webhookId`) instead of the header:
    /// a delivery whose body has none (groups, `webhook.test`, the legacy
    /// dialect) is answered 401.
    ReadsIdFromBody,
    /// Answers 400 to every `slow-group.completed` (a handler that knows
    /// only generations).
    RejectsGroups,
    /// Records the key of every POST (from its header or body), then crashes
    /// (500); a key it has seen is answered 200 as a duplicate.
    RecordsThenCrashes,
    /// Keys every event by its generation id, as a handler written for
    /// generations does: a group by its first member's `generationId`
    /// (`undefined` for an empty group), not by `groupId`.
    KeysGroupsByGenerationId,
    /// Remembers the keys it handled in a set in process memory (the work
    /// itself, counted by the probe, is durable with `--store`): a restart
    /// forgets them, and every worker or replica has a set of its own.
    DedupeInMemory,
    /// Remembers only the last [`DEDUPE_CAPACITY`] keys it handled (an LRU
    /// cache in memory): a duplicate after that many others is done again.
    DedupeBounded,
    /// Remembers a key for [`DEDUPE_TTL`] (a cache entry with an expiry): a
    /// retry that comes later is done again.
    DedupeExpires,
}

/// What a test receiver did: effect counts per key, and keys it completed.
///
/// The effect counts live in process memory, or in a SQLite file shared by
/// every process that opens it ([`Store::durable`]): the correct receiver
/// with durable state, whose record outlives a restart and is shared by
/// replicas and workers.
#[derive(Default)]
pub struct Store {
    counts: Mutex<HashMap<String, u64>>,
    effects: Effects,
    completed: Mutex<HashSet<String>>,
    failed_once: Mutex<HashSet<String>>,
    posts: std::sync::atomic::AtomicU64,
    /// The keys this process remembers as handled, for the bugs whose
    /// dedupe is a cache in memory: [`Bug::DedupeInMemory`],
    /// [`Bug::DedupeBounded`], [`Bug::DedupeExpires`].
    remembered: Mutex<Remembered>,
}

#[derive(Default)]
enum Effects {
    #[default]
    Memory,
    Sqlite(Mutex<rusqlite::Connection>),
}

/// Keys a process remembers, oldest first, with when each was remembered.
#[derive(Default)]
struct Remembered {
    order: std::collections::VecDeque<(String, std::time::Instant)>,
    keys: HashSet<String>,
}

/// How many keys [`Bug::DedupeBounded`] remembers.
pub const DEDUPE_CAPACITY: usize = 1000;
/// How long [`Bug::DedupeExpires`] remembers a key.
pub const DEDUPE_TTL: Duration = Duration::from_secs(3);

impl Store {
    /// A store whose effect counts are kept in the SQLite file at `path`
    /// (created if missing), claimed with one atomic statement.
    pub fn durable(path: &std::path::Path) -> rusqlite::Result<Store> {
        let db = rusqlite::Connection::open(path)?;
        db.busy_timeout(Duration::from_secs(10))?;
        // Several workers open a new file at once: switching it to WAL can
        // answer "busy" despite the busy timeout, so it is tried again (as
        // the examples do).
        for attempt in 1.. {
            let made = db
                .pragma_update(None, "journal_mode", "WAL")
                .and_then(|()| {
                    db.execute_batch(
                        "CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, count INTEGER NOT NULL)",
                    )
                });
            match made {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if matches!(
                        e.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) && attempt < 50 =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
                made => {
                    made?;
                    break;
                }
            }
        }
        Ok(Store {
            effects: Effects::Sqlite(Mutex::new(db)),
            ..Store::default()
        })
    }

    /// Distinct keys seen.
    pub fn count_keys(&self) -> usize {
        match &self.effects {
            Effects::Memory => self.counts.lock().unwrap().len(),
            Effects::Sqlite(db) => db
                .lock()
                .unwrap()
                .query_row("SELECT COUNT(*) FROM effects", [], |r| r.get::<_, i64>(0))
                .unwrap() as usize,
        }
    }

    pub fn count(&self, key: &str) -> u64 {
        match &self.effects {
            Effects::Memory => self.counts.lock().unwrap().get(key).copied().unwrap_or(0),
            Effects::Sqlite(db) => db
                .lock()
                .unwrap()
                .query_row("SELECT count FROM effects WHERE key = ?1", [key], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n as u64)
                .unwrap_or(0),
        }
    }

    /// Performs the effect (whether or not it ran before).
    fn perform(&self, key: &str) {
        match &self.effects {
            Effects::Memory => {
                *self
                    .counts
                    .lock()
                    .unwrap()
                    .entry(key.to_owned())
                    .or_default() += 1
            }
            Effects::Sqlite(db) => {
                db.lock()
                    .unwrap()
                    .execute(
                        "INSERT INTO effects (key, count) VALUES (?1, 1) \
                         ON CONFLICT (key) DO UPDATE SET count = count + 1",
                        [key],
                    )
                    .unwrap();
            }
        }
    }

    /// Performs the effect unless it ran before, atomically; true when it ran now.
    fn perform_once(&self, key: &str) -> bool {
        match &self.effects {
            Effects::Memory => {
                let mut counts = self.counts.lock().unwrap();
                let count = counts.entry(key.to_owned()).or_default();
                let first = *count == 0;
                if first {
                    *count = 1;
                }
                first
            }
            Effects::Sqlite(db) => db
                .lock()
                .unwrap()
                .execute(
                    "INSERT INTO effects (key, count) VALUES (?1, 1) ON CONFLICT (key) DO NOTHING",
                    [key],
                )
                .unwrap()
                == 1,
        }
    }

    /// Whether this process remembers `key` as handled, under `bug`'s cache
    /// (forgetting what its bound or its expiry lets go); remembers it now
    /// when it did not.
    fn remembers(&self, bug: Bug, key: &str) -> bool {
        let mut memory = self.remembered.lock().unwrap();
        let now = std::time::Instant::now();
        if bug == Bug::DedupeExpires {
            while let Some((oldest, at)) = memory.order.front().cloned() {
                if now.duration_since(at) < DEDUPE_TTL {
                    break;
                }
                memory.order.pop_front();
                memory.keys.remove(&oldest);
            }
        }
        if memory.keys.contains(key) {
            return true;
        }
        memory.keys.insert(key.to_owned());
        memory.order.push_back((key.to_owned(), now));
        if bug == Bug::DedupeBounded
            && memory.order.len() > DEDUPE_CAPACITY
            && let Some((oldest, _)) = memory.order.pop_front()
        {
            memory.keys.remove(&oldest);
        }
        false
    }
}

impl Bug {
    /// Every bug, with the name the example receiver takes.
    pub const NAMED: &[(&str, Bug)] = &[
        ("none", Bug::None),
        ("options-not-allowed", Bug::OptionsNotAllowed),
        ("options-slow", Bug::OptionsSlow),
        ("requires-camel-webhook-id", Bug::RequiresCamelWebhookId),
        ("rejects-empty-group", Bug::RejectsEmptyGroup),
        ("fails-large-group", Bug::FailsLargeGroup),
        ("crashes-on-failed-member", Bug::CrashesOnFailedMember),
        ("rejects-failed-generation", Bug::RejectsFailedGeneration),
        ("rejects-unknown-fields", Bug::RejectsUnknownFields),
        ("ascii-only", Bug::AsciiOnly),
        ("legacy-unsupported", Bug::LegacyUnsupported),
        ("legacy-unkeyed", Bug::LegacyUnkeyed),
        ("redirects", Bug::Redirects),
        ("conflict-on-duplicate", Bug::ConflictOnDuplicate),
        ("not-idempotent", Bug::NotIdempotent),
        ("racy-dedup", Bug::RacyDedup),
        ("fails-first-group-attempt", Bug::FailsFirstGroupAttempt),
        ("stub", Bug::Stub),
        ("ignores-webhook-id", Bug::IgnoresWebhookId),
        ("crashes-on-bad-input", Bug::CrashesOnBadInput),
        ("small-body-limit", Bug::SmallBodyLimit),
        ("slow", Bug::Slow),
        ("non-ascii-in-response", Bug::NonAsciiInResponse),
        ("requires-usage", Bug::RequiresUsage),
        ("array-is-500", Bug::ArrayIs500),
        ("fails-one-in-ten", Bug::FailsOneInTen),
        ("ignores-ping", Bug::IgnoresPing),
        ("answers-3s-late", Bug::Answers3sLate),
        ("records-then-crashes", Bug::RecordsThenCrashes),
        ("reads-id-from-body", Bug::ReadsIdFromBody),
        ("rejects-groups", Bug::RejectsGroups),
        (
            "keys-groups-by-generation-id",
            Bug::KeysGroupsByGenerationId,
        ),
        ("dedupe-in-memory", Bug::DedupeInMemory),
        ("dedupe-bounded", Bug::DedupeBounded),
        ("dedupe-expires", Bug::DedupeExpires),
    ];
}

/// A running test receiver.
pub struct TestReceiver {
    pub server: Server,
    pub store: Arc<Store>,
}

impl TestReceiver {
    pub async fn start(bug: Bug) -> TestReceiver {
        Self::start_on(bug, 0).await
    }

    pub async fn start_on(bug: Bug, port: u16) -> TestReceiver {
        let listener = server::bind(([127, 0, 0, 1], port).into()).await.unwrap();
        Self::start_with(bug, listener, Arc::new(Store::default()))
    }

    /// Serves on `listener`, keeping its record in `store`.
    pub fn start_with(
        bug: Bug,
        listener: tokio::net::TcpListener,
        store: Arc<Store>,
    ) -> TestReceiver {
        let state = (bug, store.clone());
        let server = server::serve(listener, move |req| {
            let (bug, store) = state.clone();
            async move { handle(bug, &store, req).await }
        })
        .unwrap();
        TestReceiver { server, store }
    }

    pub fn url(&self) -> String {
        format!("{}/webhook", self.server.base_url())
    }

    pub fn effects_url(&self) -> String {
        format!("{}/test/effects?key={{key}}", self.server.base_url())
    }
}

fn answer(status: u16, message: &str) -> HttpResponse {
    server::json(
        StatusCode::from_u16(status).unwrap(),
        &json!({"success": status < 300, "message": message}),
    )
}

async fn handle(bug: Bug, store: &Store, req: HttpRequest) -> HttpResponse {
    if bug == Bug::Answers3sLate && req.path != "/test/effects" {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    match (&req.method, req.path.as_str()) {
        (&Method::OPTIONS, _) => match bug {
            Bug::OptionsNotAllowed => answer(405, "method not allowed"),
            Bug::OptionsSlow => {
                tokio::time::sleep(Duration::from_millis(2500)).await;
                answer(200, "")
            }
            _ => {
                let mut r = answer(200, "");
                r.headers_mut().insert(
                    "access-control-allow-methods",
                    "POST, OPTIONS".parse().unwrap(),
                );
                r
            }
        },
        (&Method::GET, "/test/effects") => {
            let key = req.query_param("key").unwrap_or_default();
            let count = if bug == Bug::Stub {
                0
            } else {
                store.count(&key)
            };
            server::json(StatusCode::OK, &json!({ "count": count }))
        }
        (&Method::POST, "/webhook") => webhook(bug, store, &req).await,
        _ => answer(404, "not found"),
    }
}

async fn webhook(bug: Bug, store: &Store, req: &HttpRequest) -> HttpResponse {
    if bug == Bug::Stub {
        return answer(200, "ok");
    }
    store
        .posts
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if bug == Bug::RecordsThenCrashes {
        let key = req
            .header("x-inference-generation-id")
            .or(req.header("x-inference-group-id"))
            .map(str::to_owned)
            .or_else(|| {
                serde_json::from_slice::<Value>(&req.body)
                    .ok()
                    .and_then(|v| idempotency_key(&v))
            })
            .unwrap_or_default();
        if !store.perform_once(&key) {
            return answer(200, "duplicate");
        }
        return answer(500, "crashed after recording the key");
    }
    if bug == Bug::Redirects {
        let mut r = answer(308, "moved");
        r.headers_mut()
            .insert("location", "/webhook/".parse().unwrap());
        return r;
    }
    if bug == Bug::Slow {
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    if bug == Bug::SmallBodyLimit && req.body.len() > 1_000_000 {
        return answer(413, "payload too large");
    }
    let checks_header = !matches!(bug, Bug::IgnoresWebhookId | Bug::ReadsIdFromBody);
    if checks_header && req.header("x-inference-webhook-id") != Some(WEBHOOK_ID) {
        return answer(401, "unknown webhook id");
    }
    if bug == Bug::AsciiOnly && !req.body.is_ascii() {
        return answer(400, "non-ASCII body");
    }
    let bad_input = if bug == Bug::CrashesOnBadInput {
        500
    } else {
        400
    };
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(Value::Array(_)) if bug == Bug::ArrayIs500 => return answer(500, "internal error"),
        Ok(_) => return answer(bad_input, "not an object"),
        Err(_) => return answer(bad_input, "invalid JSON"),
    };
    if bug == Bug::ReadsIdFromBody && body["webhookId"] != WEBHOOK_ID {
        return answer(401, "unknown webhook id");
    }
    let event = body["event"].as_str().unwrap_or_default().to_owned();
    if bug == Bug::RejectsGroups && event == "slow-group.completed" {
        return answer(400, "unknown event");
    }
    let data = &body["data"];
    let generations = data["generations"].as_array().cloned().unwrap_or_default();
    if bug == Bug::RejectsEmptyGroup && event == "slow-group.completed" && generations.is_empty() {
        return answer(400, "empty group");
    }
    if bug == Bug::FailsLargeGroup && generations.len() > 20 {
        return answer(500, "too many generations");
    }
    if bug == Bug::CrashesOnFailedMember && generations.iter().any(|g| g["state"] == "Failed") {
        return answer(500, "cannot read choices of a failed member");
    }
    if bug == Bug::RejectsFailedGeneration && data["state"] == "Failed" {
        return answer(422, "generation failed");
    }
    if bug == Bug::RejectsUnknownFields {
        let known = [
            "event",
            "timestamp",
            "webhookId",
            "webhook_id",
            "generation_id",
            "groupId",
            "group_id",
            "data",
        ];
        if body
            .as_object()
            .unwrap()
            .keys()
            .any(|k| !known.contains(&k.as_str()))
        {
            return answer(400, "unknown field");
        }
    }
    if bug == Bug::RequiresCamelWebhookId
        && event != "slow-group.completed"
        && body.get("webhookId").is_none()
    {
        return answer(400, "missing webhookId");
    }
    if bug == Bug::NonAsciiInResponse && !data["response"].to_string().is_ascii() {
        return answer(500, "encoding error");
    }
    if bug == Bug::RequiresUsage && event == "generation.completed" && data.get("usage").is_none() {
        return answer(500, "usage missing");
    }
    let key = if bug == Bug::KeysGroupsByGenerationId && event == "slow-group.completed" {
        Some(
            generations
                .first()
                .and_then(|g| g["generationId"].as_str())
                .unwrap_or("undefined")
                .to_owned(),
        )
    } else if matches!(bug, Bug::LegacyUnsupported | Bug::LegacyUnkeyed) {
        let current = body
            .get("groupId")
            .or_else(|| data.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        match bug {
            Bug::LegacyUnkeyed => Some(current.unwrap_or_default()),
            _ => current,
        }
    } else {
        idempotency_key(&body)
    };
    let Some(key) = key else {
        return answer(400, "no generation or group id");
    };
    if bug == Bug::FailsOneInTen && !store.failed_once.lock().unwrap().contains(&key) {
        let mut seen = store.completed.lock().unwrap();
        if seen.insert(key.clone()) && seen.len().is_multiple_of(10) {
            store.failed_once.lock().unwrap().insert(key);
            return answer(503, "overloaded");
        }
    }
    if bug == Bug::IgnoresPing && event == "webhook.test" {
        return answer(200, "pong");
    }
    match bug {
        Bug::NotIdempotent => store.perform(&key),
        Bug::RacyDedup => {
            if store.count(&key) == 0 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                store.perform(&key);
            }
        }
        Bug::DedupeInMemory | Bug::DedupeBounded | Bug::DedupeExpires => {
            if !store.remembers(bug, &key) {
                store.perform(&key);
            }
        }
        Bug::ConflictOnDuplicate => {
            if !store.perform_once(&key) {
                return answer(409, "duplicate");
            }
        }
        Bug::FailsFirstGroupAttempt if event == "slow-group.completed" => {
            if store.completed.lock().unwrap().contains(&key) {
                return answer(200, "ok");
            }
            store.perform(&key);
            if store.failed_once.lock().unwrap().insert(key.clone()) {
                return answer(503, "downstream unavailable");
            }
            store.completed.lock().unwrap().insert(key);
        }
        _ => {
            store.perform_once(&key);
        }
    }
    // Echoes the webhook id, as careless receivers do: reports must mask it.
    server::json(
        StatusCode::OK,
        &json!({"success": true, "message": "ok", "webhook": req.header("x-inference-webhook-id")}),
    )
}

/// A receiver, correct but for its transport habit: it serves one request
/// per connection without saying so (no `Connection: close`), and drops the
/// connection without an answer when a second request arrives on it. That
/// is uvicorn after an unhandled exception, a keep-alive timeout that just
/// ran out, or a proxy: no fault of the receiver's handling.
pub struct OneShotReceiver {
    pub addr: std::net::SocketAddr,
    pub store: Arc<Store>,
    /// Second requests dropped on a kept-alive connection.
    pub dropped: Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for OneShotReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OneShotReceiver {
    pub async fn start(bug: Bug) -> OneShotReceiver {
        use http_body_util::BodyExt;
        use std::sync::atomic::{AtomicU64, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let store = Arc::new(Store::default());
        let dropped = Arc::new(AtomicU64::new(0));
        let (shared_store, shared_dropped) = (store.clone(), dropped.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (store, dropped) = (shared_store.clone(), shared_dropped.clone());
                tokio::spawn(async move {
                    let second = Arc::new(tokio::sync::Notify::new());
                    let served = Arc::new(AtomicU64::new(0));
                    let on_second = second.clone();
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let (store, served, on_second, dropped) = (
                                store.clone(),
                                served.clone(),
                                on_second.clone(),
                                dropped.clone(),
                            );
                            async move {
                                if served.fetch_add(1, Ordering::SeqCst) > 0 {
                                    dropped.fetch_add(1, Ordering::SeqCst);
                                    on_second.notify_one();
                                    std::future::pending::<()>().await;
                                }
                                let (parts, body) = req.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes())
                                    .unwrap_or_default();
                                let request = HttpRequest {
                                    method: parts.method,
                                    path: parts.uri.path().to_owned(),
                                    query: parts.uri.query().map(str::to_owned),
                                    headers: parts.headers,
                                    body,
                                };
                                Ok::<_, std::convert::Infallible>(
                                    handle(bug, &store, request).await,
                                )
                            }
                        },
                    );
                    let conn = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                    // Dropping the connection closes the socket without an answer.
                    tokio::select! {
                        _ = conn => {}
                        _ = second.notified() => {}
                    }
                });
            }
        });
        OneShotReceiver {
            addr,
            store,
            dropped,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/webhook", self.addr)
    }

    pub fn effects_url(&self) -> String {
        format!("http://{}/test/effects?key={{key}}", self.addr)
    }
}

/// The run configuration the tests use: `jobs` cases at once, the default
/// watchdog, no stop.
pub fn run_config(
    url: impl Into<String>,
    webhook_id: &str,
    effects_url: Option<String>,
    sender: webhook_harness::sender::SenderConfig,
    jobs: usize,
) -> webhook_harness::runner::RunConfig {
    webhook_harness::runner::RunConfig {
        url: url.into(),
        webhook_id: webhook_id.into(),
        effects_url,
        sender,
        jobs,
        down_after: webhook_harness::stop::DEFAULT_THRESHOLD,
        replay: Default::default(),
        stop: Default::default(),
        ..Default::default()
    }
}

/// An address where nothing listens, kept so for as long as the guard
/// lives: a socket bound to a port and never listening, so connections are
/// refused and no other process can take the port meanwhile (a port bound,
/// freed and reused could be).
pub fn refusing_url() -> (socket2::Socket, String) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let port = socket.local_addr().unwrap().as_socket().unwrap().port();
    (socket, format!("http://127.0.0.1:{port}/webhook"))
}

/// A plain HTTP client for the tests' own requests. The crate builds reqwest
/// without a default crypto provider (its sender hands reqwest a rustls
/// configuration on ring), so the process's default is set here first.
pub fn http_client() -> reqwest::Client {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
