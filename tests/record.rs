//! Real deliveries as test cases: `proxy` forwards byte for byte and records,
//! `receive --record` records, `replay` sends recordings again. Processes
//! where the issue asks for them, the library where a test needs to see the
//! bytes a receiver got.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::process::Process;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use webhook_harness::contract::EventKind;
use webhook_harness::event::{Dialect, Event};
use webhook_harness::proxy::{Proxy, ProxyConfig};
use webhook_harness::receiver::server::{self, HttpRequest};
use webhook_harness::recording::Recorder;

const BIN: &str = env!("CARGO_BIN_EXE_webhook-harness");
const SECRET: &str = common::WEBHOOK_ID;

fn harness(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wh-record-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn files_with(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// No file in `dir` holds the secret.
fn assert_no_secret(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            memchr_find(&bytes, SECRET.as_bytes()).is_none(),
            "the secret is in {}",
            path.display()
        );
    }
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn send_through_proxy_records_and_replay_checks_effects() {
    let receiver = Process::start(&["receive", "--port", "0", "--webhook-id", SECRET]);
    let url = receiver
        .wait_for(|l| l.starts_with("Listening on "))
        .trim_start_matches("Listening on ")
        .to_owned();
    let dir = temp_dir("through");
    let dir_arg = dir.to_str().unwrap();
    let mut proxy = Process::start(&[
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--to",
        &url,
        "--record",
        dir_arg,
    ]);
    let listening = proxy.wait_for(|l| l.starts_with("proxy: listening on "));
    let proxy_url = format!(
        "{}/webhook",
        listening
            .trim_start_matches("proxy: listening on ")
            .split(',')
            .next()
            .unwrap()
    );
    for kind in EventKind::ALL {
        for dialect in ["current", "legacy"] {
            let (code, out) = harness(&[
                "send",
                kind.name(),
                "--dialect",
                dialect,
                "--url",
                &proxy_url,
                "--webhook-id",
                SECRET,
                "--unique-ids",
            ]);
            assert_eq!(code, 0, "{out}");
        }
    }
    proxy.wait_for(|l| l.starts_with("#0008 "));
    assert_eq!(proxy.interrupt(), 0);
    let text = proxy.text();
    let handled = text
        .lines()
        .filter(|l| l.starts_with('#') && l.ends_with("handled (2xx in time)"))
        .count();
    assert_eq!(handled, 8, "{text}");
    let ready = text
        .lines()
        .filter(|l| l.starts_with("OPTIONS ") && l.ends_with("readiness check passed"))
        .count();
    assert_eq!(ready, 8, "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(
        !text.contains("sender: "),
        "the harness sends nothing the contract does not describe: {text}"
    );
    assert!(
        text.contains("stopped: 16 exchanges (8 deliveries); statuses: 2xx 16"),
        "{text}"
    );
    assert_eq!(files_with(&dir, "yaml").len(), 8);
    assert_eq!(files_with(&dir, "body").len(), 8);
    assert_no_secret(&dir);

    // Replayed as recorded, with copies at once: one effect each.
    let effects = url.replace("/webhook", "/test/effects?key={key}");
    let (code, out) = harness(&[
        "replay",
        dir_arg,
        "--url",
        &url,
        "--webhook-id",
        SECRET,
        "--effects-url",
        &effects,
        "--duplicates",
        "2",
        "--concurrent",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("8 passed, 0 failed"), "{out}");

    // Against a receiver that does the work on every delivery: caught.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let buggy = rt.block_on(common::TestReceiver::start(common::Bug::NotIdempotent));
    let (code, out) = harness(&[
        "replay",
        dir_arg,
        "--url",
        &buggy.url(),
        "--webhook-id",
        SECRET,
        "--effects-url",
        &buggy.effects_url(),
        "--duplicates",
        "1",
        "--fresh-ids",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("effect count 2: the work was done 2 times"),
        "{out}"
    );
    // Fresh ids: none of the recorded keys reached the receiver.
    let recorded_key = std::fs::read_to_string(&files_with(&dir, "yaml")[0])
        .unwrap()
        .lines()
        .find_map(|l| l.trim().strip_prefix("key: ").map(str::to_owned))
        .unwrap();
    assert_eq!(buggy.store.count(&recorded_key), 0);
    let _ = std::fs::remove_dir_all(dir);
}

/// A receiver that keeps every body it gets, and counts requests in flight.
struct Capture {
    server: server::Server,
    bodies: Arc<Mutex<Vec<Bytes>>>,
    most_in_flight: Arc<AtomicUsize>,
}

async fn capture(delay: Duration) -> Capture {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let (in_flight, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let listener = server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let (kept, counting, top) = (bodies.clone(), in_flight.clone(), most.clone());
    let server = server::serve(listener, move |req: HttpRequest| {
        let (kept, counting, top) = (kept.clone(), counting.clone(), top.clone());
        async move {
            let now = counting.fetch_add(1, Ordering::SeqCst) + 1;
            top.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            if req.method == hyper::Method::POST {
                kept.lock().unwrap().push(req.body.clone());
            }
            counting.fetch_sub(1, Ordering::SeqCst);
            server::respond(
                hyper::StatusCode::OK,
                "application/json",
                "{\"success\":true}",
            )
        }
    })
    .unwrap();
    Capture {
        server,
        bodies,
        most_in_flight: most,
    }
}

fn proxy_config(to: String, dir: &Path) -> ProxyConfig {
    ProxyConfig {
        to,
        sender: webhook_harness::sender::SenderConfig {
            retries: 0,
            readiness: false,
            ..Default::default()
        },
        record: Some(Arc::new(Recorder::new(dir, "proxy", None).unwrap())),
    }
}

async fn post(url: &str, key: &str, body: Bytes) -> u16 {
    common::http_client()
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", webhook_harness::event::USER_AGENT)
        .header("X-Inference-Event", "generation.completed")
        .header("X-Inference-Webhook-ID", SECRET)
        .header("X-Inference-Generation-ID", key)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Bodies whose bytes a re-serialising forwarder would change.
fn tricky_bodies() -> Vec<(String, Bytes)> {
    let mut large = format!(
        "{{\"event\":\"generation.completed\",\"webhookId\":\"{SECRET}\",\"data\":{{\"id\":\"gen_large\",\"pad\":\""
    )
    .into_bytes();
    large.resize(10_000_000 - 3, b'x');
    large.extend_from_slice(b"\"}}");
    vec![
        (
            "gen_order".into(),
            Bytes::from(format!(
                "{{\"webhookId\":\"{SECRET}\",\"data\":{{\"z\":1,\"id\":\"gen_order\",\"a\":2}},\"event\":\"generation.completed\"}}"
            )),
        ),
        (
            "gen_space".into(),
            Bytes::from_static(b"{\n  \"event\" : \"generation.completed\" ,\n\t\"data\":{ \"id\":\"gen_space\" }   }\n"),
        ),
        (
            "gen_escape".into(),
            Bytes::from_static(
                br#"{"event":"generation.completed","data":{"id":"gen_escape","t":"caf\u00e9 caf\u00C9 \"q\" \/ \ud83d\ude80"}}"#,
            ),
        ),
        (
            "gen_numbers".into(),
            Bytes::from_static(
                br#"{"event":"generation.completed","data":{"id":"gen_numbers","a":1.0,"b":1e2,"c":-0.0,"d":12345678901234567890,"e":1E-7}}"#,
            ),
        ),
        (
            "gen_text".into(),
            Bytes::from("{\"event\":\"generation.completed\",\"data\":{\"id\":\"gen_text\",\"t\":\"é 漢字 🚀 \u{200f}עברית\u{200e} e\u{301}\"}}"),
        ),
        ("gen_large".into(), Bytes::from(large)),
    ]
}

#[test]
fn bodies_are_forwarded_recorded_and_replayed_byte_for_byte() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = temp_dir("bytes");
    let bodies = tricky_bodies();
    let (target, proxy) = rt.block_on(async {
        let target = capture(Duration::ZERO).await;
        let proxy = Proxy::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            proxy_config(format!("{}/webhook", target.server.base_url()), &dir),
            |_| {},
        )
        .await
        .unwrap();
        for (key, body) in &bodies {
            let url = format!("http://{}/webhook", proxy.addr());
            assert_eq!(post(&url, key, body.clone()).await, 200);
        }
        (target, proxy)
    });
    // Forwarded: the receiver got every byte as sent.
    let got = target.bodies.lock().unwrap().clone();
    assert_eq!(got.len(), bodies.len());
    for ((key, sent), forwarded) in bodies.iter().zip(&got) {
        assert!(sent == forwarded, "{key}: the forwarded body differs");
    }
    // Recorded: the body file is the body, the secret written as a placeholder.
    let recorded = files_with(&dir, "body");
    assert_eq!(recorded.len(), bodies.len());
    for ((key, sent), file) in bodies.iter().zip(&recorded) {
        let bytes = std::fs::read(file).unwrap();
        let restored = String::from_utf8(bytes)
            .unwrap()
            .replace("{{webhook_id}}", SECRET);
        assert!(
            restored.as_bytes() == &sent[..],
            "{key}: the recorded body differs"
        );
    }
    assert_no_secret(&dir);
    // Replayed: the receiver gets the same bytes again.
    target.bodies.lock().unwrap().clear();
    let (code, out) = harness(&[
        "replay",
        dir.to_str().unwrap(),
        "--url",
        &format!("{}/webhook", target.server.base_url()),
        "--webhook-id",
        SECRET,
    ]);
    assert_eq!(code, 0, "{out}");
    let replayed = target.bodies.lock().unwrap().clone();
    assert_eq!(replayed.len(), bodies.len());
    for ((key, sent), again) in bodies.iter().zip(&replayed) {
        assert!(sent == again, "{key}: the replayed body differs");
    }
    rt.block_on(async {
        proxy.shutdown().await;
        target.server.shutdown().await;
    });
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_thousand_deliveries_at_once_are_forwarded_at_once_and_recorded_apart() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = temp_dir("thousand");
    let (target, keys) = rt.block_on(async {
        let target = capture(Duration::from_millis(50)).await;
        let proxy = Proxy::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            proxy_config(format!("{}/webhook", target.server.base_url()), &dir),
            |_| {},
        )
        .await
        .unwrap();
        let url = format!("http://{}/webhook", proxy.addr());
        let mut tasks = tokio::task::JoinSet::new();
        let mut keys = Vec::new();
        for _ in 0..1000 {
            let event = Event::builder(EventKind::GenerationCompleted)
                .dialect(Dialect::Current)
                .webhook_id(SECRET)
                .unique_ids()
                .build()
                .unwrap();
            let key = event.key().unwrap().to_owned();
            keys.push(key.clone());
            let (url, body) = (url.clone(), event.body().clone());
            tasks.spawn(async move { post(&url, &key, body).await });
        }
        while let Some(status) = tasks.join_next().await {
            assert_eq!(status.unwrap(), 200);
        }
        proxy.shutdown().await;
        (target, keys)
    });
    assert_eq!(target.bodies.lock().unwrap().len(), 1000);
    assert!(
        target.most_in_flight.load(Ordering::SeqCst) > 1,
        "the proxy forwarded one at a time"
    );
    let yaml = files_with(&dir, "yaml");
    assert_eq!(yaml.len(), 1000);
    assert_eq!(files_with(&dir, "body").len(), 1000);
    // Each recording is whole and its own: it loads, and names its own key.
    let scenarios = webhook_harness::scenario::load(std::slice::from_ref(&dir)).unwrap();
    assert_eq!(scenarios.len(), 1000);
    let mut seen: Vec<String> = scenarios
        .iter()
        .map(|s| match &s.case.steps[0].value.action {
            webhook_harness::scenario::Action::Raw(raw) => {
                let body = std::fs::read(raw.body_path.as_ref().unwrap()).unwrap();
                let key = raw.key.clone().unwrap();
                assert!(
                    memchr_find(&body, key.as_bytes()).is_some(),
                    "{key}: not in its own body"
                );
                key
            }
            other => panic!("not a raw step: {other:?}"),
        })
        .collect();
    seen.sort();
    let mut keys = keys;
    keys.sort();
    assert_eq!(seen, keys);
    rt.block_on(target.server.shutdown());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn with_the_receiver_down_the_proxy_answers_502_and_keeps_running() {
    let (_nothing, dead) = common::refusing_url();
    let mut proxy = Process::start(&["proxy", "--listen", "127.0.0.1:0", "--to", &dead]);
    let listening = proxy.wait_for(|l| l.starts_with("proxy: listening on "));
    let proxy_url = format!(
        "{}/webhook",
        listening
            .trim_start_matches("proxy: listening on ")
            .split(',')
            .next()
            .unwrap()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = Bytes::from_static(br#"{"event":"generation.completed","data":{"id":"gen_down"}}"#);
    for _ in 0..2 {
        assert_eq!(rt.block_on(post(&proxy_url, "gen_down", body.clone())), 502);
    }
    proxy.wait_for(|l| l.contains("receiver unreachable (502 to the sender)"));
    assert_eq!(proxy.interrupt(), 0);
    let text = proxy.text();
    assert_eq!(
        text.matches("start your receiver, or check --to").count(),
        2,
        "{text}"
    );
    assert!(text.contains("statuses: no answer 2"), "{text}");
}

#[test]
fn receive_records_what_it_receives_in_the_same_format() {
    let dir = temp_dir("receive");
    let dir_arg = dir.to_str().unwrap();
    let mut receiver = Process::start(&[
        "receive",
        "--port",
        "0",
        "--webhook-id",
        SECRET,
        "--record",
        dir_arg,
    ]);
    let url = receiver
        .wait_for(|l| l.starts_with("Listening on "))
        .trim_start_matches("Listening on ")
        .to_owned();
    let (code, out) = harness(&[
        "send",
        "slow-group.completed",
        "--url",
        &url,
        "--webhook-id",
        SECRET,
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(receiver.interrupt(), 0);
    let yaml = files_with(&dir, "yaml");
    assert_eq!(yaml.len(), 1);
    let text = std::fs::read_to_string(&yaml[0]).unwrap();
    for expected in [
        "by: receive",
        "answer: 200 in ",
        "event: slow-group.completed",
        "x-inference-webhook-id: \"{{webhook_id}}\"",
        "effects: required",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(
        !text.contains("content-length"),
        "a header of the hop: {text}"
    );
    assert_no_secret(&dir);
    let (code, out) = harness(&["validate", dir_arg]);
    assert_eq!(code, 0, "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn hostile_receivers_and_senders_leave_the_proxy_bounded_and_answering() {
    use common::hostile::{self, Hostile};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = temp_dir("hostile");
    rt.block_on(async {
        let body = Bytes::from_static(br#"{"event":"generation.completed","data":{"id":"gen_h"}}"#);
        // Receivers: silence (504 at the proxy's timeout), garbage and an
        // endless body (a bounded answer), a reset (502).
        for (kind, expected) in [
            (Hostile::Silent, 504),
            (Hostile::NotHttp, 502),
            (Hostile::ResetBeforeRead, 502),
            (Hostile::EndlessBody, 200),
        ] {
            let url = hostile::start(kind).await;
            let mut config = proxy_config(url, &dir);
            config.sender.timeout = Duration::from_secs(1);
            let proxy = Proxy::start(SocketAddr::from(([127, 0, 0, 1], 0)), config, |_| {})
                .await
                .unwrap();
            let status = post(
                &format!("http://{}/webhook", proxy.addr()),
                "gen_h",
                body.clone(),
            )
            .await;
            assert_eq!(status, expected, "{kind:?}");
            proxy.shutdown().await;
        }
        // A sender that announces a body and stops sending: the proxy does not
        // wait for ever, and goes on answering others.
        let target = capture(Duration::ZERO).await;
        let proxy = Proxy::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            proxy_config(format!("{}/webhook", target.server.base_url()), &dir),
            |_| {},
        )
        .await
        .unwrap();
        let mut stalled = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(
            &mut stalled,
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{\"event\"",
        )
        .await
        .unwrap();
        let status = post(
            &format!("http://{}/webhook", proxy.addr()),
            "gen_h",
            body.clone(),
        )
        .await;
        assert_eq!(status, 200);
        // An oversized body is refused, not held.
        let huge = Bytes::from(vec![b' '; 17 * 1024 * 1024]);
        let answer = common::http_client()
            .post(format!("http://{}/webhook", proxy.addr()))
            .body(huge)
            .send()
            .await;
        // 413, or the connection closed while the rest was still being sent:
        // either way it is refused, and the proxy goes on answering.
        if let Ok(answer) = answer {
            assert_eq!(answer.status().as_u16(), 413);
        }
        let status = post(
            &format!("http://{}/webhook", proxy.addr()),
            "gen_h",
            body.clone(),
        )
        .await;
        assert_eq!(status, 200, "the proxy answers after an oversized body");
        drop(stalled);
        proxy.shutdown().await;
    });
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn requests_the_receiver_must_refuse_are_recorded_as_such_and_hold_no_secret() {
    let receiver = Process::start(&["receive", "--port", "0", "--webhook-id", SECRET]);
    let url = receiver
        .wait_for(|l| l.starts_with("Listening on "))
        .trim_start_matches("Listening on ")
        .to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for known in [Some(SECRET), None] {
        let dir = temp_dir(if known.is_some() {
            "refuse-known"
        } else {
            "refuse"
        });
        let recorder = Recorder::new(&dir, "proxy", known.map(str::to_owned)).unwrap();
        let config = ProxyConfig {
            record: Some(Arc::new(recorder)),
            ..proxy_config(url.clone(), &dir)
        };
        rt.block_on(async {
            let proxy = Proxy::start(SocketAddr::from(([127, 0, 0, 1], 0)), config, |_| {})
                .await
                .unwrap();
            let to = format!("http://{}/webhook", proxy.addr());
            let client = common::http_client();
            let event = Event::builder(EventKind::GenerationCompleted)
                .webhook_id(SECRET)
                .unique_ids()
                .build()
                .unwrap();
            let key = event.key().unwrap().to_owned();
            // A delivery as the sender makes it.
            assert_eq!(post(&to, &key, event.body().clone()).await, 200);
            // The same body without the id header: refused, the body's id hidden.
            let missing = client
                .post(&to)
                .header("Content-Type", "application/json")
                .header("X-Inference-Event", "generation.completed")
                .header("X-Inference-Generation-ID", "gen_missing")
                .body(event.body().clone())
                .send()
                .await
                .unwrap();
            assert_eq!(missing.status().as_u16(), 401);
            // Malformed JSON with the right id: refused with 400.
            let broken = client
                .post(&to)
                .header("Content-Type", "application/json")
                .header("X-Inference-Event", "generation.completed")
                .header("X-Inference-Webhook-ID", SECRET)
                .header("X-Inference-Generation-ID", "gen_broken")
                .body("{\"event\": \"generation.completed\", ")
                .send()
                .await
                .unwrap();
            assert_eq!(broken.status().as_u16(), 400);
            proxy.shutdown().await;
        });
        assert_no_secret(&dir);
        let yaml: Vec<String> = files_with(&dir, "yaml")
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        assert_eq!(yaml.len(), 3);
        assert!(
            yaml[0].contains("status: 2xx") && yaml[0].contains("effects: required"),
            "{}",
            yaml[0]
        );
        assert!(
            yaml[1].contains("status: 4xx") && !yaml[1].contains("effects:"),
            "{}",
            yaml[1]
        );
        assert!(
            yaml[2].contains("status: not 5xx") && !yaml[2].contains("effects:"),
            "{}",
            yaml[2]
        );
        // Replayed against the same correct receiver: every verdict holds.
        let effects = url.replace("/webhook", "/test/effects?key={key}");
        let (code, out) = harness(&[
            "replay",
            dir.to_str().unwrap(),
            "--url",
            &url,
            "--webhook-id",
            SECRET,
            "--effects-url",
            &effects,
            "--duplicates",
            "1",
        ]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("3 passed, 0 failed"), "{out}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// What the proxy forwards and records of a request's headers: the
/// end-to-end ones (`Authorization`, a custom `X-...`) reach the receiver
/// and the recording; the hop-by-hop ones (RFC 9110 7.6.1: `Connection` and
/// the headers it names, `Proxy-Authorization`, `Keep-Alive`, `TE`,
/// `Trailer`, `Upgrade`, `Proxy-Connection`) reach neither
/// (`Transfer-Encoding` frames the body, so it is not sent beside a
/// `Content-Length`). Sent as raw bytes, so that no client library adds or
/// drops any.
#[test]
fn end_to_end_headers_are_forwarded_and_recorded_hop_by_hop_ones_are_not() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = temp_dir("hop-headers");
    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let (status, forwarded) = rt.block_on(async {
        let listener = server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let kept = received.clone();
        let target = server::serve(listener, move |req: HttpRequest| {
            let kept = kept.clone();
            async move {
                if req.method == hyper::Method::POST {
                    *kept.lock().unwrap() = req.header_pairs();
                }
                server::respond(hyper::StatusCode::OK, "application/json", "{}")
            }
        })
        .unwrap();
        let proxy = Proxy::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            proxy_config(format!("{}/webhook", target.base_url()), &dir),
            |_| {},
        )
        .await
        .unwrap();
        let body = Event::builder(EventKind::GenerationCompleted)
            .webhook_id(SECRET)
            .build()
            .unwrap();
        let key = body.key().unwrap().to_owned();
        let body = body.body().clone();
        let head = format!(
            "POST /webhook HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             X-Inference-Event: generation.completed\r\nX-Inference-Webhook-ID: {SECRET}\r\n\
             X-Inference-Generation-ID: {key}\r\nAuthorization: Bearer gateway-token\r\n\
             X-Custom: kept\r\nConnection: keep-alive, X-Named-By-Connection\r\n\
             X-Named-By-Connection: dropped\r\nKeep-Alive: timeout=5\r\n\
             Proxy-Authorization: Basic cHJveHk6cHc=\r\nProxy-Connection: keep-alive\r\n\
             TE: trailers\r\nTrailer: X-Checksum\r\nUpgrade: h2c\r\nContent-Length: {}\r\n\r\n",
            proxy.addr(),
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body).await.unwrap();
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
            .await
            .unwrap()
            .unwrap();
        let status = String::from_utf8_lossy(&answer[..n])
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        drop(target);
        (status, received.lock().unwrap().clone())
    });
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let names: Vec<String> = forwarded
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    for kept in [
        "authorization",
        "x-custom",
        "x-inference-event",
        "x-inference-webhook-id",
    ] {
        assert!(
            names.iter().any(|n| n == kept),
            "{kept} was not forwarded: {names:?}"
        );
    }
    for hop in [
        "x-named-by-connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "upgrade",
        "trailer",
    ] {
        assert!(
            !names.iter().any(|n| n == hop),
            "{hop} was forwarded: {names:?}"
        );
    }
    let recorded = std::fs::read_to_string(&files_with(&dir, "yaml")[0])
        .unwrap()
        .to_ascii_lowercase();
    assert!(recorded.contains("x-custom: kept"), "{recorded}");
    // A credential the sender's gateway added is left out, and said so.
    assert!(
        recorded.contains("# not recorded (credentials): authorization;"),
        "{recorded}"
    );
    for hop in [
        "x-named-by-connection",
        "keep-alive: timeout",
        "proxy-authorization",
        "proxy-connection",
        "upgrade:",
        "\nte:",
        "trailer:",
    ] {
        assert!(!recorded.contains(hop), "{hop} was recorded:\n{recorded}");
    }
    assert!(!recorded.contains("gateway-token"), "{recorded}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `--record-header NAME` keeps that credential in recordings, and only
/// that one: `receive --record` with `--record-header authorization` writes
/// the `Authorization` value, and still leaves `Cookie` out, saying so.
#[test]
fn record_header_keeps_the_named_credential_only() {
    use std::io::{Read, Write};
    let dir = temp_dir("record-header");
    std::fs::create_dir_all(&dir).unwrap();
    let dir_arg = dir.display().to_string();
    let receiver = common::process::start_receiver(&[
        "--webhook-id",
        SECRET,
        "--record",
        &dir_arg,
        "--record-header",
        "Authorization",
    ]);
    let event = Event::builder(EventKind::GenerationCompleted)
        .webhook_id(SECRET)
        .unique_ids()
        .build()
        .unwrap();
    let key = event.key().unwrap().to_owned();
    let addr = receiver
        .url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         X-Inference-Event: generation.completed\r\nX-Inference-Webhook-ID: {SECRET}\r\n\
         X-Inference-Generation-ID: {key}\r\nAuthorization: Bearer gateway-token\r\n\
         Cookie: session=browser-cookie\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        event.body().len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(event.body()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The recording is written once the answer is out.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let file = loop {
        if let Some(file) = files_with(&dir, "yaml").into_iter().next() {
            break file;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no recording in {dir_arg}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let recorded = std::fs::read_to_string(file).unwrap().to_ascii_lowercase();
    assert!(
        recorded.contains("authorization: bearer gateway-token"),
        "{recorded}"
    );
    assert!(!recorded.contains("browser-cookie"), "{recorded}");
    assert!(
        recorded.contains("# not recorded (credentials): cookie;"),
        "{recorded}"
    );
    drop(receiver);
    let _ = std::fs::remove_dir_all(dir);
}
