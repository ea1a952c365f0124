//! Verdicts that must hold against receivers written the way customers write
//! them: connections closed without notice, a `webhook.test` ping that is
//! ignored, templates spelled with spaces.

mod common;

use std::time::Duration;

use common::hostile::{BodyLimitReceiver, Close};
use common::process::{Process, harness_in};
use common::{Bug, OneShotReceiver, TestReceiver, WEBHOOK_ID};
use webhook_harness::event::{Event, EventKind};
use webhook_harness::fuzz::{self, FuzzConfig};
use webhook_harness::load::{self, LoadConfig, Mix, Until};
use webhook_harness::runner::{self, CaseStatus, RunConfig};
use webhook_harness::scenario::{self, values::EffectSpec};
use webhook_harness::sender::SenderConfig;
use webhook_harness::stop::DEFAULT_THRESHOLD;

fn run_config(url: String, effects_url: String) -> RunConfig {
    RunConfig {
        url,
        webhook_id: WEBHOOK_ID.into(),
        effects_url: Some(effects_url),
        sender: SenderConfig {
            timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(10),
            ..SenderConfig::default()
        },
        jobs: 4,
        down_after: DEFAULT_THRESHOLD,
        replay: Default::default(),
        stop: Default::default(),
        ..Default::default()
    }
}

fn fuzz_config(url: String, effects_url: String, cases: u64) -> FuzzConfig {
    FuzzConfig {
        url,
        webhook_id: WEBHOOK_ID.into(),
        effects_url: Some(effects_url),
        cases,
        seed: 11,
        timeout: Duration::from_secs(5),
        jobs: 8,
        only: None,
        max_findings: 1,
        max_shrink_steps: 50,
        max_shrink_time: Duration::from_secs(30),
        tls: Default::default(),
        stop: Default::default(),
        ..Default::default()
    }
}

/// The whole suite passes, `should` cases included (as under `--strict`),
/// but for the durability cases, which need `--serve` to apply.
async fn assert_suite_passes(config: &RunConfig) {
    let outcome = runner::run(config, scenario::builtin().unwrap(), |_| {})
        .await
        .unwrap();
    let not_passed: Vec<String> = outcome
        .cases
        .iter()
        .filter(|c| {
            !(c.status() == CaseStatus::Passed
                || c.status() == CaseStatus::NotApplicable && c.id.starts_with("durability."))
        })
        .map(|c| format!("{}: {}", c.id, c.message()))
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
}

#[tokio::test]
async fn connections_closed_without_notice_are_not_blamed_on_the_receiver() {
    let receiver = OneShotReceiver::start(Bug::None).await;

    // run: every case and every probe, strict.
    assert_suite_passes(&run_config(receiver.url(), receiver.effects_url())).await;

    // fuzz: no finding.
    let fuzzed = fuzz::run(
        &fuzz_config(receiver.url(), receiver.effects_url(), 300),
        |_| {},
    )
    .await
    .unwrap();
    assert!(
        fuzzed.findings.is_empty(),
        "{:?}",
        fuzzed.findings.first().map(|f| &f.reason)
    );

    // load without retries: no error, and the closed connections were met.
    let report = load::run(
        LoadConfig {
            url: receiver.url(),
            webhook_id: WEBHOOK_ID.into(),
            concurrency: 4,
            rate: None,
            until: Until::Deliveries(400),
            mix: Mix::default(),
            duplicates: 0.1,
            sizes: Default::default(),
            sender: SenderConfig {
                timeout: Duration::from_secs(5),
                retries: 0,
                ..SenderConfig::default()
            },
            effects_url: Some(receiver.effects_url()),
            unanswered_window: Duration::from_secs(30),
            stop: Default::default(),
            hdr_log: None,
            ..Default::default()
        },
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(report.connection_errors, 0, "{report:?}");
    assert!(report.violations.is_empty(), "{report:?}");
    assert!(report.probe_error.is_none(), "{report:?}");
    assert!(
        report.resent_after_closed_connection > 0,
        "kept-alive connections were reused: {report:?}"
    );
    assert!(receiver.dropped.load(std::sync::atomic::Ordering::SeqCst) > 0);
}

#[tokio::test]
async fn a_receiver_that_ignores_the_test_ping_is_correct() {
    let receiver = TestReceiver::start(Bug::IgnoresPing).await;
    assert_suite_passes(&run_config(receiver.url(), receiver.effects_url())).await;
    let fuzzed = fuzz::run(
        &fuzz_config(receiver.url(), receiver.effects_url(), 2000),
        |_| {},
    )
    .await
    .unwrap();
    assert!(
        fuzzed.findings.is_empty(),
        "{:?}",
        fuzzed.findings.first().map(|f| &f.reason)
    );
}

#[test]
fn the_suite_and_the_fuzz_oracle_read_one_effect_rule() {
    for kind in EventKind::ALL {
        let rule = kind.effect_rule();
        let spec = EffectSpec::Required.resolve(kind);
        for count in 0..4 {
            assert_eq!(spec.matches(count), rule.allows(count), "{kind} {count}");
        }
    }
    assert!(EventKind::WebhookTest.effect_rule().allows(0));
    assert!(!EventKind::GenerationCompleted.effect_rule().allows(0));
}

#[tokio::test]
async fn every_template_spelling_that_validates_is_substituted() {
    let receiver = TestReceiver::start(Bug::None).await;
    // The body's key is written with spaces inside the braces; if it were
    // sent literally, the receiver would store `{{key }}` and the probe of
    // the real key would count 0.
    let yaml = r#"
cases:
  - id: spaced
    title: t
    steps:
      - raw:
          headers: { X-Inference-Generation-ID: "{{  key}}" }
          body_json:
            event: generation.completed
            webhookId: "{{ webhook_id}}"
            data: { id: "{{key }}", state: Success }
        expect: { status: 2xx }
      - probe: { effects: 1 }
"#;
    let scenarios = scenario::parse("spaced.yaml", yaml).unwrap();
    let outcome = runner::run(
        &run_config(receiver.url(), receiver.effects_url()),
        scenarios,
        |_| {},
    )
    .await
    .unwrap();
    let case = &outcome.cases[0];
    assert_eq!(case.status(), CaseStatus::Passed, "{}", case.message());
}

/// How often each early-close test repeats: whether the harness's write
/// fails before or after the receiver's answer is read depends on timing.
const EARLY_CLOSE_ROUNDS: usize = 10;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wh-trust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A body limit of 1 MiB, as Go's `MaxBytesReader` and Fastify have.
const LIMIT: usize = 1 << 20;

#[test]
fn a_receiver_that_refuses_a_large_body_early_and_closes_is_a_verdict_in_run() {
    for close in [Close::Plain, Close::Reset] {
        let receiver = BodyLimitReceiver::start(LIMIT, close);
        let dir = temp_dir(&format!("run-{close:?}"));
        for round in 0..EARLY_CLOSE_ROUNDS {
            let report = dir.join(format!("run-{round}.json"));
            let (code, stdout, stderr) = harness_in(
                &dir,
                &[
                    "run",
                    "--url",
                    &receiver.url,
                    "--jobs",
                    "4",
                    "--timeout",
                    "10s",
                    "--report-json",
                    report.to_str().unwrap(),
                ],
                &[],
            );
            let said = format!("{close:?} round {round}: exit {code}\n{stdout}{stderr}");
            assert_eq!(code, 1, "{said}");
            assert!(stdout.contains("FAIL limits.large-payload"), "{said}");
            assert!(stdout.contains("Actual: 413 (client error)"), "{said}");
            // A 4xx is not retried: the early answer was read, not lost.
            assert!(!stdout.contains("POST attempts"), "{said}");
            assert!(
                stdout.contains("Raise the limit to at least 10 MB"),
                "{said}"
            );
            assert!(stdout.contains(" passed, 1 failed, "), "{said}");
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
            assert_eq!(json["partial"], false, "{said}");
            assert_eq!(json["summary"]["total"], 34, "{said}");
        }
        assert!(receiver.refused.load(std::sync::atomic::Ordering::SeqCst) >= 10);
    }
}

#[test]
fn a_receiver_that_refuses_a_large_body_early_keeps_fuzz_findings() {
    for close in [Close::Plain, Close::Reset] {
        let receiver = BodyLimitReceiver::start(LIMIT, close);
        let dir = temp_dir(&format!("fuzz-{close:?}"));
        for round in 0..EARLY_CLOSE_ROUNDS {
            // Seed 1's third case is a 4.5 MB payload.
            let out = dir.join(format!("findings-{round}"));
            let (code, stdout, stderr) = harness_in(
                &dir,
                &[
                    "fuzz",
                    "--url",
                    &receiver.url,
                    "--seed",
                    "1",
                    "--cases",
                    "50",
                    "--only",
                    "valid",
                    "--max-shrink-steps",
                    "5",
                    "--out",
                    out.to_str().unwrap(),
                ],
                &[],
            );
            let said = format!("{close:?} round {round}: exit {code}\n{stdout}{stderr}");
            assert_eq!(code, 1, "{said}");
            assert!(stdout.contains("finding 1: case 3 of seed 1"), "{said}");
            assert!(stdout.contains("answered 413 (client error)"), "{said}");
            assert!(out.join("fuzz.s1-c3.yaml").is_file(), "{said}");
        }
    }
}

#[test]
fn a_receiver_that_refuses_a_large_body_early_is_what_send_says() {
    for close in [Close::Plain, Close::Reset] {
        let receiver = BodyLimitReceiver::start(LIMIT, close);
        let dir = temp_dir(&format!("send-{close:?}"));
        for round in 0..EARLY_CLOSE_ROUNDS {
            let (code, stdout, stderr) = harness_in(
                &dir,
                &[
                    "send",
                    "generation",
                    "--size",
                    "9.5MB",
                    "--url",
                    &receiver.url,
                ],
                &[],
            );
            let said = format!("{close:?} round {round}: exit {code}\n{stdout}{stderr}");
            assert_eq!(code, 1, "{said}");
            assert!(stdout.contains("-> 413 in "), "{said}");
            assert!(
                stdout.contains("dropped: the receiver answered 4xx"),
                "{said}"
            );
            assert!(stdout.contains("(2 attempts, 1 POST)"), "{said}");
            assert!(
                stdout.contains("hint: raise the receiver's body limit"),
                "{said}"
            );
        }
    }
}

#[test]
fn the_proxy_answers_its_sender_what_an_early_refusal_said_and_stays_up() {
    use std::io::{Read, Write};
    for close in [Close::Plain, Close::Reset] {
        let receiver = BodyLimitReceiver::start(LIMIT, close);
        let mut proxy =
            Process::start(&["proxy", "--listen", "127.0.0.1:0", "--to", &receiver.url]);
        let listening = proxy.wait_for(|l| l.starts_with("proxy: listening on "));
        let address = listening
            .trim_start_matches("proxy: listening on http://")
            .split(',')
            .next()
            .unwrap()
            .to_owned();
        let body = Event::builder(EventKind::GenerationCompleted)
            .pad_to(9_500_000)
            .build()
            .unwrap();
        let body = body.body();
        for round in 0..EARLY_CLOSE_ROUNDS {
            let mut stream = std::net::TcpStream::connect(&address).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .unwrap();
            let head = format!(
                "POST /webhook HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nX-Inference-Event: generation.completed\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(body).unwrap();
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
            let answer = String::from_utf8_lossy(&answer);
            assert!(
                answer.starts_with("HTTP/1.1 413"),
                "{close:?} round {round}: {answer}\n{}",
                proxy.text()
            );
        }
        proxy.wait_for(|l| l.contains("-> 413 in "));
        assert_eq!(proxy.interrupt(), 0, "{}", proxy.text());
        let text = proxy.text();
        assert_eq!(
            text.matches("4xx: the sender drops the event").count(),
            EARLY_CLOSE_ROUNDS,
            "{text}"
        );
    }
}

#[test]
fn a_closed_standard_output_ends_the_command_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_webhook-harness"))
        .args(["run", "--jobs", "1"])
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `run | head -1`: one line read, then the reader goes away.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("webhook-harness: 34 cases"), "{first}");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 0 when it had written everything before the reader went away.
    use std::os::unix::process::ExitStatusExt;
    assert!(
        matches!(out.status.code(), Some(0 | 141)) || out.status.signal() == Some(libc::SIGPIPE),
        "{:?} {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
