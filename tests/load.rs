//! `load` against test receivers: counts add up, errors and double effects are
//! seen, and open loop keeps its rate. No timing thresholds.

mod common;

use std::time::Duration;

use common::{Bug, TestReceiver, WEBHOOK_ID};
use webhook_harness::load::{self, LoadConfig, Mix, Until};
use webhook_harness::sender::SenderConfig;

fn config(receiver: &TestReceiver, stop: Until, duplicates: f64, retries: u32) -> LoadConfig {
    let mut config = config_for(receiver.url(), stop, duplicates, retries);
    config.effects_url = Some(receiver.effects_url());
    config
}

/// A run against `url`, without the effects probe.
fn config_for(url: String, stop: Until, duplicates: f64, retries: u32) -> LoadConfig {
    LoadConfig {
        url,
        webhook_id: WEBHOOK_ID.into(),
        concurrency: 8,
        rate: None,
        until: stop,
        mix: Mix::default(),
        duplicates,
        sizes: Default::default(),
        sender: SenderConfig {
            timeout: Duration::from_secs(5),
            retries,
            backoff: Duration::from_millis(1),
            readiness: false,
            title_case_headers: false,
            tls: Default::default(),
        },
        effects_url: None,
        unanswered_window: Duration::from_secs(10),
        stop: Default::default(),
        hdr_log: None,
        ..Default::default()
    }
}

#[tokio::test]
async fn counts_add_up() {
    let receiver = TestReceiver::start(Bug::None).await;
    let report = load::run(config(&receiver, Until::Deliveries(2000), 0.1, 3), |_| {})
        .await
        .unwrap();
    assert_eq!(report.deliveries, 2000);
    assert!(
        report.duplicates > 100 && report.duplicates < 300,
        "about 10%: {}",
        report.duplicates
    );
    assert_eq!(report.requests, report.deliveries + report.duplicates);
    assert_eq!(report.delivered, report.requests);
    assert_eq!(report.status.success, report.requests);
    assert_eq!(
        (
            report.failed,
            report.retries,
            report.timeouts,
            report.connection_errors
        ),
        (0, 0, 0, 0)
    );
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert!(report.probed >= report.duplicates as usize);
    let keys = receiver.store.count_keys();
    assert_eq!(keys as u64, report.deliveries, "one key per delivery");
    assert!(
        report.latency.p50_us <= report.latency.p99_us
            && report.latency.p99_us <= report.latency.max_us
    );
}

#[tokio::test]
async fn ten_percent_failures_show_as_ten_percent_errors() {
    let receiver = TestReceiver::start(Bug::FailsOneInTen).await;
    let report = load::run(config(&receiver, Until::Deliveries(1000), 0.0, 0), |_| {})
        .await
        .unwrap();
    assert_eq!(
        report.failed, 100,
        "every tenth request failed and was not retried"
    );
    assert!(
        (report.error_rate - 0.1).abs() < 1e-9,
        "{}",
        report.error_rate
    );
    assert_eq!(report.status.server_error, 100);

    // With retries, the sender gets through, and the retries are counted apart.
    let receiver = TestReceiver::start(Bug::FailsOneInTen).await;
    let report = load::run(config(&receiver, Until::Deliveries(1000), 0.0, 3), |_| {})
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(report.requests, 1000 + report.retries);
    assert_eq!(report.status.server_error, report.retries);
}

#[tokio::test]
async fn refusals_say_what_they_were() {
    // A duplicate answered 409: every 4xx went to a copy of a duplicated delivery.
    let receiver = TestReceiver::start(Bug::ConflictOnDuplicate).await;
    let report = load::run(config(&receiver, Until::Deliveries(500), 0.2, 0), |_| {})
        .await
        .unwrap();
    let refused = report.status.client_error;
    assert!(refused > 0, "{report:?}");
    assert_eq!(
        report.refusals_said().as_deref(),
        Some(
            format!("{refused} of {refused} 4xx answers were to duplicate copies (409): answer a duplicate 2xx, as the first copy was, and do nothing").as_str()
        )
    );
    // A 503 now and then, to deliveries sent once: said by status.
    let receiver = TestReceiver::start(Bug::FailsOneInTen).await;
    let report = load::run(config(&receiver, Until::Deliveries(300), 0.0, 0), |_| {})
        .await
        .unwrap();
    assert_eq!(
        report.refusals_said().as_deref(),
        Some("answers that were not 2xx: 503 x30")
    );
    // A correct receiver: nothing to say.
    let receiver = TestReceiver::start(Bug::None).await;
    let report = load::run(config(&receiver, Until::Deliveries(300), 0.2, 0), |_| {})
        .await
        .unwrap();
    assert_eq!(report.refusals_said(), None, "{report:?}");
}

#[tokio::test]
async fn duplicates_reveal_double_effects() {
    let receiver = TestReceiver::start(Bug::NotIdempotent).await;
    let report = load::run(config(&receiver, Until::Deliveries(500), 0.2, 0), |_| {})
        .await
        .unwrap();
    assert!(report.duplicates > 0);
    assert_eq!(
        report.violations.len() as u64,
        report.duplicates,
        "every duplicated key did its work twice"
    );
    assert!(report.violations.iter().all(|(_, count)| *count == 2));
}

#[tokio::test]
async fn open_loop_sends_at_the_given_rate() {
    let receiver = TestReceiver::start(Bug::None).await;
    let mut config = config(&receiver, Until::After(Duration::from_millis(1000)), 0.0, 0);
    config.rate = Some(200.0);
    let report = load::run(config, |_| {}).await.unwrap();
    // Deliveries are scheduled at start + n / rate, so a second holds 200 of
    // them; the last, due 5 ms before the end, may meet the cut on a stalled
    // machine.
    assert!((195..=200).contains(&report.deliveries), "{report:?}");
}

#[tokio::test]
async fn deliveries_cut_by_the_deadline_are_not_called_violations() {
    // Each answer takes 1.5 s: the first deliveries are answered, the next
    // ones are still in flight when the 2.5 s run ends. A cut delivery may
    // rightly have had no effect (yet), so only keys answered 2xx are probed.
    let receiver = TestReceiver::start(Bug::Slow).await;
    let report = load::run(
        config(&receiver, Until::After(Duration::from_millis(2500)), 1.0, 0),
        |_| {},
    )
    .await
    .unwrap();
    assert!(report.cut_by_deadline > 0, "{report:?}");
    // Every delivery is duplicated, half of them as two copies at once:
    // still never more in flight than --concurrency.
    assert!(report.cut_by_deadline <= 8, "{report:?}");
    assert!(report.delivered > 0, "{report:?}");
    assert!(report.probed > 0, "{report:?}");
    assert!(
        report.violations.is_empty(),
        "a false violation: {:?}",
        report.violations
    );
}

/// A server that answers in every way HTTP/1.1 allows, one after the other:
/// a length, chunks with an extension and a trailer written three bytes at
/// a time, `100 Continue` before the answer, 204, HTTP/1.0 read until close,
/// `Connection: close`, a keep-alive answer after which the connection is
/// closed when the next request comes, a body past the 64 KiB read limit, and an answer
/// with bytes after it. Every answer is 2xx: `load` must count every one as
/// delivered, none as an error.
async fn every_framing_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut drop_next = false;
                loop {
                    // One whole request: the head, then Content-Length bytes.
                    let (head, length) = loop {
                        let mut headers = [httparse::EMPTY_HEADER; 32];
                        let mut request = httparse::Request::new(&mut headers);
                        if let Ok(httparse::Status::Complete(n)) = request.parse(&buf) {
                            let length = request
                                .headers
                                .iter()
                                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                                .map(|h| {
                                    std::str::from_utf8(h.value)
                                        .unwrap()
                                        .parse::<usize>()
                                        .unwrap()
                                })
                                .unwrap();
                            break (n, length);
                        }
                        let mut chunk = [0u8; 4096];
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    while buf.len() < head + length {
                        let mut chunk = [0u8; 4096];
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..head + length);
                    if drop_next {
                        // Closed as the request came: no byte of an answer.
                        return;
                    }
                    let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let (answer, close): (Vec<u8>, bool) = match n % 9 {
                        0 => (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(), false),
                        1 => {
                            let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                                5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
                            for piece in wire.chunks(3) {
                                if socket.write_all(piece).await.is_err() {
                                    return;
                                }
                            }
                            (Vec::new(), false)
                        }
                        2 => (
                            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                                .to_vec(),
                            false,
                        ),
                        3 => (b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(), false),
                        4 => (b"HTTP/1.0 200 OK\r\n\r\nread until the end".to_vec(), true),
                        5 => (
                            b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 4\r\n\r\ndone".to_vec(),
                            true,
                        ),
                        // Kept alive by its head, but the next request on it
                        // finds it closing (HTTP/1.1's keep-alive race): that
                        // request must be sent again, not failed.
                        6 => {
                            drop_next = true;
                            (b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello".to_vec(), false)
                        }
                        7 => {
                            let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                            for _ in 0..20 {
                                wire.extend_from_slice(b"1000\r\n");
                                wire.extend(std::iter::repeat_n(b'x', 4096));
                                wire.extend_from_slice(b"\r\n");
                            }
                            wire.extend_from_slice(b"0\r\n\r\n");
                            (wire, false)
                        }
                        // An answer to no request after this one's.
                        _ => (
                            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\
                              HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"
                                .to_vec(),
                            false,
                        ),
                    };
                    if socket.write_all(&answer).await.is_err() || close {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn every_http11_framing_is_read_as_the_answer_it_is() {
    let url = every_framing_server().await;
    let report = load::run(config_for(url, Until::Deliveries(900), 0.0, 0), |_| {})
        .await
        .unwrap();
    assert_eq!(report.deliveries, 900, "{report:?}");
    assert_eq!(report.requests, 900, "{report:?}");
    assert_eq!(
        report.status.success, 900,
        "every answer was 2xx: {report:?}"
    );
    assert_eq!(report.delivered, 900, "{report:?}");
    assert_eq!(
        (
            report.failed,
            report.connection_errors,
            report.timeouts,
            report.status.client_error
        ),
        (0, 0, 0, 0),
        "{report:?}"
    );
    // Each connection closed as a request came after a kept-alive answer
    // (one in nine) made that request go again on a fresh connection; only
    // a worker's last request of the run may have had none after it.
    let resent = report.resent_after_closed_connection;
    assert!((100 - 8..=100).contains(&resent), "{report:?}");
}

/// A receiver that refuses before reading the body (a body limit, a
/// wrong id seen in the head) answers and closes with the body unread; the
/// kernel then resets the connection. The answer that came is the answer:
/// 413, not a connection error.
#[tokio::test]
async fn an_answer_before_the_body_was_read_is_the_answer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                // The head only (it arrives in one read here), then the answer.
                let mut head = [0u8; 256];
                if socket.read(&mut head).await.is_err() {
                    return;
                }
                let _ = socket
                    .write_all(b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    let report = load::run(config_for(url, Until::Deliveries(200), 0.0, 0), |_| {})
        .await
        .unwrap();
    assert_eq!(report.status.client_error, 200, "{report:?}");
    assert_eq!(
        (report.connection_errors, report.failed),
        (0, 200),
        "{report:?}"
    );
}

/// Three runners, each with `--hdr-log`, at once against one receiver
/// (as a CI matrix or a Kubernetes Job would start them); `load merge`
/// gives the sum of their counts and the percentiles of all their requests.
#[test]
fn runners_logs_merge_into_one_report() {
    let receiver = common::process::start_receiver(&[]);
    let dir = std::env::temp_dir().join(format!("wh-load-merge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let started = std::time::Instant::now();
    let out = common::process::three_runners_merged(&dir, &receiver.url);
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    assert!(out.starts_with("merged 3 runner logs"), "{out}");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
    };
    let merged = read("merged.json");
    let reports: Vec<_> = (0..3).map(|n| read(&format!("runner-{n}.json"))).collect();
    let total = |field: &str| {
        reports
            .iter()
            .map(|r| r[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(merged["counts"]["deliveries"], 4500);
    assert_eq!(merged["counts"]["deliveries"], total("deliveries"));
    assert_eq!(merged["counts"]["failed"], total("failed"));
    assert_eq!(merged["counts"]["requests"], total("requests"));
    // Every request of every runner is in the merged histogram.
    assert_eq!(merged["requests"], total("requests"));
    // The merged percentiles lie within the runners' own (they are of all
    // requests, not an average of the runners' figures).
    for p in ["p50_us", "p99_us", "max_us"] {
        let values: Vec<u64> = reports
            .iter()
            .map(|r| r["latency"][p].as_u64().unwrap())
            .collect();
        let m = merged["latency"][p].as_u64().unwrap();
        assert!(
            *values.iter().min().unwrap() <= m && m <= *values.iter().max().unwrap(),
            "{p}: merged {m}, runners {values:?}"
        );
    }
    assert_eq!(
        merged["latency"]["max_us"],
        reports
            .iter()
            .map(|r| r["latency"]["max_us"].as_u64().unwrap())
            .max()
            .unwrap()
    );
    // The span runs from the first runner's start to the last one's end
    // (the union, exact in `hdr_log`'s unit test): at least the longest run,
    // at most the time the three took together.
    let span = merged["span_ms"].as_f64().unwrap();
    let longest = reports
        .iter()
        .map(|r| r["duration_ms"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(
        longest * 0.9 <= span && span <= wall_ms + 50.0,
        "span {span} ms, longest run {longest} ms, all three {wall_ms} ms"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `--hdr-log` file is the standard interval-log format: HdrHistogram's
/// own Python reader (`tests/tools/hdrh.sh`, installed by `.ci/run`) reads
/// every request and the same percentiles as the harness reports.
#[test]
fn hdr_log_is_read_by_hdrhistograms_own_reader() {
    let receiver = common::process::start_receiver(&[]);
    let dir = std::env::temp_dir().join(format!("wh-load-hdrh-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (code, out, err) = common::process::harness_in(
        &dir,
        &[
            "load",
            "--url",
            &receiver.url,
            "--duration",
            "1500ms",
            "--concurrency",
            "4",
            "--hdr-log",
            "run.hlog",
            "--report-json",
            "run.json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let tool = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/hdrh.sh");
    let read = std::process::Command::new(tool)
        .arg(dir.join("run.hlog"))
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&read.stderr)
    );
    let theirs: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    let ours: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(theirs["count"], ours["requests"], "{theirs} {ours}");
    // Ticks every 500 ms and the last one: three in 1.5 s, two if the
    // machine stalls.
    assert!(theirs["intervals"].as_u64().unwrap() >= 2, "{theirs}");
    // Both take a percentile at rank ceil(q * count) and report the bucket's
    // highest equivalent value, so the same requests give the same numbers.
    for (t, o) in [("p50", "p50_us"), ("p99", "p99_us"), ("max", "max_us")] {
        assert_eq!(
            theirs[t].as_u64(),
            ours["latency"][o].as_u64(),
            "{t}: {theirs} {ours}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
