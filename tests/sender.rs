//! The sender against wiremock: one test per row of the contract's retry table.

mod common;

use std::time::Duration;

use webhook_harness::event::{Event, EventKind};
use webhook_harness::sender::{DeliveryResult, Outcome, Phase, Sender, SenderConfig};
use wiremock::matchers::{body_bytes, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn sender() -> Sender {
    Sender::new(SenderConfig {
        timeout: Duration::from_secs(10),
        retries: 3,
        backoff: Duration::from_millis(5),
        readiness: true,
        title_case_headers: false,
        tls: Default::default(),
    })
    .unwrap()
}

/// A sender that makes one attempt (no readiness check, no retry) within `timeout`.
fn single_attempt(timeout: Duration) -> Sender {
    Sender::new(SenderConfig {
        timeout,
        retries: 0,
        readiness: false,
        ..SenderConfig::default()
    })
    .unwrap()
}

async fn server_answering(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("OPTIONS"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/webhook"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

fn event() -> Event {
    Event::builder(EventKind::GenerationCompleted)
        .build()
        .unwrap()
}

async fn posts(server: &MockServer) -> usize {
    let requests = server.received_requests().await.unwrap();
    requests
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count()
}

#[tokio::test]
async fn success_is_sent_once() {
    let server = server_answering(200).await;
    let d = sender()
        .deliver(&format!("{}/webhook", server.uri()), &event())
        .await;
    assert_eq!(d.result, DeliveryResult::Delivered);
    assert_eq!(posts(&server).await, 1);
    assert_eq!(d.attempts.len(), 2, "OPTIONS then POST");
}

#[tokio::test]
async fn client_error_is_dropped_without_retry() {
    let server = server_answering(422).await;
    let d = sender()
        .deliver(&format!("{}/webhook", server.uri()), &event())
        .await;
    assert_eq!(d.result, DeliveryResult::Dropped);
    assert_eq!(posts(&server).await, 1);
}

#[tokio::test]
async fn server_error_is_retried_up_to_the_retry_count() {
    let server = server_answering(503).await;
    let d = sender()
        .deliver(&format!("{}/webhook", server.uri()), &event())
        .await;
    assert_eq!(d.result, DeliveryResult::GaveUp);
    assert_eq!(posts(&server).await, 4, "first attempt + 3 retries");
    let waits: Vec<_> = d.attempts.iter().filter_map(|a| a.retry_in).collect();
    assert_eq!(
        waits,
        [5, 10, 20].map(Duration::from_millis),
        "exponential backoff"
    );
}

#[tokio::test]
async fn server_error_then_success_stops_retrying() {
    let server = MockServer::start().await;
    Mock::given(method("OPTIONS"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let d = sender().deliver(&server.uri(), &event()).await;
    assert_eq!(d.result, DeliveryResult::Delivered);
    assert_eq!(posts(&server).await, 3);
}

#[tokio::test]
async fn slow_response_times_out_and_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("OPTIONS"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let sender = Sender::new(SenderConfig {
        timeout: Duration::from_millis(100),
        retries: 1,
        backoff: Duration::from_millis(1),
        readiness: true,
        title_case_headers: false,
        tls: Default::default(),
    })
    .unwrap();
    let d = sender.deliver(&server.uri(), &event()).await;
    assert_eq!(d.result, DeliveryResult::GaveUp);
    let post_outcomes: Vec<_> = d
        .attempts
        .iter()
        .filter(|a| a.phase == Phase::Delivery)
        .map(|a| a.outcome)
        .collect();
    assert_eq!(post_outcomes, [Outcome::Timeout, Outcome::Timeout]);
}

#[tokio::test]
async fn redirect_is_reported_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("OPTIONS"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/webhook"))
        .respond_with(ResponseTemplate::new(308).insert_header("location", "/elsewhere"))
        .mount(&server)
        .await;
    let d = sender()
        .deliver(&format!("{}/webhook", server.uri()), &event())
        .await;
    assert_eq!(d.result, DeliveryResult::Redirected);
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests.iter().all(|r| r.url.path() != "/elsewhere"),
        "redirect followed"
    );
    assert_eq!(posts(&server).await, 1);
}

#[tokio::test]
async fn refused_connection_is_retried() {
    let (_nothing, url) = common::refusing_url();
    let d = sender().deliver(&url, &event()).await;
    assert_eq!(d.result, DeliveryResult::GaveUp);
    assert_eq!(d.attempts.len(), 4);
    for a in &d.attempts {
        assert_eq!(a.outcome, Outcome::ConnectionError);
        assert_eq!(
            a.failure.as_ref().map(|f| f.to_string()).as_deref(),
            Some("connection refused"),
            "{a:?}"
        );
    }
}

#[tokio::test]
async fn options_precedes_post_with_exact_headers_and_body() {
    let event = Event::builder(EventKind::SlowGroupCompleted)
        .webhook_id("AhALzdz8S")
        .build()
        .unwrap();
    let key = event.key().unwrap().to_owned();
    let server = MockServer::start().await;
    Mock::given(method("OPTIONS"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(header("content-type", "application/json"))
        .and(header("user-agent", "inference.net-Webhook/1.0"))
        .and(header("x-inference-event", "slow-group.completed"))
        .and(header("x-inference-webhook-id", "AhALzdz8S"))
        .and(header("x-inference-group-id", key.as_str()))
        .and(body_bytes(event.body().to_vec()))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let d = sender().deliver(&server.uri(), &event).await;
    assert_eq!(d.result, DeliveryResult::Delivered);
    let requests = server.received_requests().await.unwrap();
    let methods: Vec<_> = requests
        .iter()
        .map(|r| r.method.as_str().to_owned())
        .collect();
    assert_eq!(methods, ["OPTIONS", "POST"]);
    assert!(
        requests[1]
            .headers
            .get("x-inference-generation-id")
            .is_none()
    );
}

#[tokio::test]
async fn readiness_failure_stops_before_post() {
    let server = MockServer::start().await;
    Mock::given(method("OPTIONS"))
        .respond_with(ResponseTemplate::new(405))
        .mount(&server)
        .await;
    let d = sender().deliver(&server.uri(), &event()).await;
    assert_eq!(d.result, DeliveryResult::NotReady);
    assert_eq!(posts(&server).await, 0);
}

#[tokio::test]
async fn no_readiness_skips_options() {
    let server = server_answering(200).await;
    let sender = Sender::new(SenderConfig {
        readiness: false,
        ..SenderConfig::default()
    })
    .unwrap();
    let d = sender
        .deliver(&format!("{}/webhook", server.uri()), &event())
        .await;
    assert!(d.delivered());
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
}

#[tokio::test]
async fn large_response_body_is_capped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 1024 * 1024]))
        .mount(&server)
        .await;
    let sender = Sender::new(SenderConfig {
        readiness: false,
        ..SenderConfig::default()
    })
    .unwrap();
    let d = sender.deliver(&server.uri(), &event()).await;
    let a = &d.attempts[0];
    assert_eq!(a.body.len(), 64 * 1024);
    assert!(a.body_truncated);
    assert!(a.failure.as_ref().unwrap().to_string().contains("64 KiB"));
}

/// A receiver that keeps connections alive (no `connection: close`) and
/// tells, per connection, whether the sender closed it after the answer.
async fn keep_alive_receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<bool>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 64 * 1024];
                // The head, then as many body bytes as it announces.
                let body_len = loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&seen[..end]).to_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        break end + 4 + len;
                    }
                };
                while seen.len() < body_len {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                }
                socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                    .await
                    .unwrap();
                // Well before the sender's 10 s timeout could end it.
                let closed = matches!(
                    tokio::time::timeout(Duration::from_secs(3), socket.read(&mut buf)).await,
                    Ok(Ok(0))
                );
                let _ = tx.send(closed);
            });
        }
    });
    (format!("http://localhost:{port}/webhook"), rx)
}

#[tokio::test]
async fn every_request_has_a_connection_of_its_own_closed_after_the_answer() {
    // `localhost` may name ::1 first, where nothing listens: the sender
    // goes on to 127.0.0.1.
    let (url, mut closed) = keep_alive_receiver().await;
    let d = sender().deliver(&url, &event()).await;
    assert!(d.delivered(), "{:?}", d.attempts);
    assert_eq!(d.attempts.len(), 2, "OPTIONS then POST");
    // One connection per request, each closed by the sender once answered,
    // though the receiver would have kept it open.
    for _ in 0..2 {
        assert_eq!(closed.recv().await, Some(true));
    }
    assert!(closed.try_recv().is_err(), "a third connection");
}

#[tokio::test]
async fn a_body_that_stalls_keeps_its_status_and_is_said_to_stall() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 64 * 1024];
        let _ = socket.read(&mut buf).await;
        // 3 bytes of the 100 announced, then nothing, the connection open.
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc")
            .await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    });
    let d = single_attempt(Duration::from_millis(800))
        .deliver(&url, &event())
        .await;
    let a = &d.attempts[0];
    assert_eq!(a.status, Some(200));
    assert_eq!(a.outcome, Outcome::Success);
    assert_eq!(&a.body[..], b"abc");
    // Not "closed early": the harness gave up on the body, the receiver did
    // not close anything.
    assert_eq!(
        a.failure,
        Some(webhook_harness::sender::Failure::BodyStalled { read: 3 })
    );
}

#[tokio::test]
async fn a_handshake_that_never_ends_within_a_short_timeout_is_a_timeout() {
    // Accepts and never answers the TLS hello. With a timeout under the
    // connect limit, the timeout alone decides: always a timeout (retried),
    // never sometimes a failure to connect.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/webhook", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let d = single_attempt(Duration::from_millis(500))
        .deliver(&url, &event())
        .await;
    let a = &d.attempts[0];
    assert_eq!(a.outcome, Outcome::Timeout, "{:?}", a.failure);
    server.abort();
}
