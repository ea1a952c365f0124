//! An Inference.net webhook receiver for axum.
//!
//! ```sh
//! WEBHOOK_HARNESS_WEBHOOK_ID=... cargo run --release --example axum_receiver -- [PORT]
//! ```
//!
//! Answers the OPTIONS readiness check, verifies `X-Inference-Webhook-ID` in
//! constant time, accepts both payload dialects up to 10 MB (axum's default
//! body limit is 2 MB), answers malformed JSON 400, performs each event's
//! effect at most once, also for concurrent copies, and answers within
//! milliseconds. The handled keys are kept in SQLite, in the file
//! `WEBHOOK_HARNESS_DB` (default: `webhooks.sqlite3` beside this file), so a
//! restart forgets none and several processes on one file share them. With
//! `WEBHOOK_HARNESS_TEST_PROBE=1` it also serves `GET /test/effects?key=KEY`
//! for webhook-harness.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// Payloads go up to 10 MB; axum's `DefaultBodyLimit` is 2 MB.
const BODY_LIMIT: usize = 10 * 1024 * 1024;
/// How long a write waits for another process's before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

struct AppState {
    webhook_id: String,
    /// The handled keys, in SQLite rather than a `HashMap`: a map is lost at
    /// every restart and is not shared by several workers or replicas, so a
    /// retry that reaches another process would do the work again. The
    /// primary key makes the claim atomic across processes.
    db: Mutex<rusqlite::Connection>,
}

/// Opens the database and makes the table. Several copies may start at once
/// on a new file: switching it to WAL (one writer and many readers at a
/// time, across processes) can report "busy" despite the timeout, so it is
/// tried again.
fn open(path: &str) -> rusqlite::Result<rusqlite::Connection> {
    let db = rusqlite::Connection::open(path)?;
    db.busy_timeout(BUSY_TIMEOUT)?;
    for attempt in 1.. {
        let made = db
            .pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| {
                db.execute_batch(
                    "CREATE TABLE IF NOT EXISTS handled (
                    key TEXT PRIMARY KEY,
                    event TEXT NOT NULL,
                    handled_at TEXT NOT NULL
                )",
                )
            });
        match made {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && attempt < 50 =>
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            made => return made.map(|()| db),
        }
    }
    unreachable!("the loop returns")
}

/// Claims `key` for `event`: true for the first claim of it by any process.
fn claim(db: &rusqlite::Connection, key: &str, event: &str) -> rusqlite::Result<bool> {
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
        .to_string();
    let inserted = db.execute(
        "INSERT INTO handled (key, event, handled_at) VALUES (?1, ?2, ?3) ON CONFLICT(key) DO NOTHING",
        (key, event, at),
    )?;
    Ok(inserted == 1)
}

/// Compares in constant time for equal lengths: every byte is looked at
/// whatever the first difference. Only the length can leak, not the content.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn non_empty(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The idempotency key of each known event, in the current dialect (`data.id`,
/// `groupId`) or else the legacy one (`generation_id`, `group_id`). `None`
/// for events this receiver does not know.
fn key_of(event: &str, body: &Value) -> Option<Option<String>> {
    match event {
        "generation.completed" | "async-embedding.completed" => Some(
            non_empty(body.get("data").and_then(|d| d.get("id")))
                .or_else(|| non_empty(body.get("generation_id"))),
        ),
        "slow-group.completed" => {
            Some(non_empty(body.get("groupId")).or_else(|| non_empty(body.get("group_id"))))
        }
        _ => None,
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "success": false, "message": message })),
    )
        .into_response()
}

/// Heavy work (storing the completion, notifying users, ...) does not belong
/// in the request: push a job to your queue here (an outbox row, SQS, a
/// channel to a worker task) and let a worker do it.
fn hand_off(event: &str, key: &str) {
    let (event, key) = (event.to_owned(), key.to_owned());
    tokio::spawn(async move { println!("processing {event} {key}") });
}

async fn webhook(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let given = headers
        .get("x-inference-webhook-id")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !constant_time_eq(given, state.webhook_id.as_bytes()) {
        return error(StatusCode::UNAUTHORIZED, "unknown webhook");
    }
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if media_type.as_deref() != Some("application/json") {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json",
        );
    }
    // Parsed by hand rather than with axum's `Json` extractor, which answers
    // 422 to JSON of the wrong shape: here anything that is not an object with
    // a string `event` is a 400.
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "malformed JSON");
    };
    let Some(event) = payload.get("event").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected a JSON object with a string `event`",
        );
    };
    if event == "webhook.test" {
        // The dashboard's ping: nothing to do, whatever else it carries.
        return Json(json!({ "success": true, "test": true })).into_response();
    }
    let Some(key) = key_of(event, &payload) else {
        return Json(json!({ "success": true, "ignored": true })).into_response();
    };
    let Some(key) = key else {
        return error(StatusCode::BAD_REQUEST, &format!("{event} without its id"));
    };

    // Claim the key before acting, in one INSERT: of concurrent copies (in
    // this process or another), only the one that inserted the row hands off
    // the work. Off the async workers: a write may wait for another process's.
    let (claiming, claimed_key, claimed_event) = (state.clone(), key.clone(), event.to_owned());
    let claimed = tokio::task::spawn_blocking(move || {
        let db = claiming
            .db
            .lock()
            .map_err(|_| "the database lock is poisoned".to_owned())?;
        claim(&db, &claimed_key, &claimed_event).map_err(|e| e.to_string())
    })
    .await;
    match claimed {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => {
            return Json(json!({ "success": true, "duplicate": true })).into_response();
        }
        Ok(Err(e)) => {
            eprintln!("error: cannot claim {key}: {e}");
            return error(StatusCode::SERVICE_UNAVAILABLE, "try again");
        }
        Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    }
    hand_off(event, &key);
    Json(json!({ "success": true })).into_response()
}

/// Test-only: how many times the effect ran for a key, for webhook-harness,
/// read from the database that every process shares.
async fn test_effects(State(state): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Response {
    let key = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "key")
        .map(|(_, value)| value.into_owned());
    let Some(key) = key else {
        return error(StatusCode::BAD_REQUEST, "give ?key=KEY");
    };
    let read = tokio::task::spawn_blocking(move || {
        let db = state
            .db
            .lock()
            .map_err(|_| "the database lock is poisoned".to_owned())?;
        db.query_row(
            "SELECT count(*) FROM handled WHERE key = ?1",
            [&key],
            |row| row.get::<_, i64>(0),
        )
        .map(|count| (key, count))
        .map_err(|e| e.to_string())
    })
    .await;
    let (key, count) = match read {
        Ok(Ok(read)) => read,
        _ => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    };
    Json(json!({ "key": key, "count": count })).into_response()
}

/// The sender's readiness check: OPTIONS on the endpoint, answered on any path.
async fn readiness(
    method: Method,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if method != Method::OPTIONS {
        return next.run(request).await;
    }
    (
        StatusCode::OK,
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "Content-Type"),
        ],
    )
        .into_response()
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

#[tokio::main]
async fn main() {
    let Some(webhook_id) = std::env::var("WEBHOOK_HARNESS_WEBHOOK_ID")
        .ok()
        .filter(|id| !id.is_empty())
    else {
        eprintln!("error: set WEBHOOK_HARNESS_WEBHOOK_ID to your webhook identifier");
        std::process::exit(2);
    };
    let test_probe = std::env::var("WEBHOOK_HARNESS_TEST_PROBE").as_deref() == Ok("1");
    let port = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
        .unwrap_or_else(|| "3000".into());
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("error: the port must be a number from 0 to 65535, not `{port}`");
        std::process::exit(2);
    };
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let Ok(ip) = host.parse::<std::net::IpAddr>() else {
        eprintln!("error: HOST must be an IP address, not `{host}`");
        std::process::exit(2);
    };

    let path = std::env::var("WEBHOOK_HARNESS_DB")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/receivers/axum/webhooks.sqlite3"
            )
            .into()
        });
    let db = match open(&path) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("error: cannot open the database {path}: {e}; check WEBHOOK_HARNESS_DB");
            std::process::exit(1);
        }
    };
    let state = Arc::new(AppState {
        webhook_id,
        db: Mutex::new(db),
    });
    let mut app = Router::new().route("/webhook", post(webhook));
    if test_probe {
        app = app.route("/test/effects", get(test_effects));
    }
    let app = app
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not found") })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(readiness))
        .with_state(state);

    let listener = match tokio::net::TcpListener::bind(SocketAddr::new(ip, port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {host}:{port}: {e}");
            std::process::exit(1);
        }
    };
    // The port it got, not the one asked for: with port 0 the system picks one.
    let addr = listener.local_addr().map_or(port, |a| a.port());
    println!(
        "listening on http://{host}:{addr}/webhook{}",
        if test_probe {
            " (test probe on /test/effects)"
        } else {
            ""
        }
    );
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        eprintln!("error: the server stopped: {e}");
        std::process::exit(1);
    }
}
