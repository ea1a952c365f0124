//! The built-in suite against receivers written for the tests: the correct
//! one passes every case; each buggy one fails exactly the cases meant to
//! catch its bug.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Bug, TestReceiver, WEBHOOK_ID};
use webhook_harness::result::{Cause, Trait};
use webhook_harness::runner::{self, CaseStatus, RunConfig, RunResult};
use webhook_harness::scenario;
use webhook_harness::sender::SenderConfig;

async fn run_against(bug: Bug) -> RunResult {
    let receiver = TestReceiver::start(bug).await;
    let config = RunConfig {
        url: receiver.url(),
        webhook_id: WEBHOOK_ID.into(),
        effects_url: Some(receiver.effects_url()),
        sender: SenderConfig {
            // 2 s so that a 2.5 s OPTIONS answer times out; 5 s otherwise,
            // far above the 1.5 s answers a slow receiver gives.
            timeout: Duration::from_secs(if bug == Bug::OptionsSlow { 2 } else { 5 }),
            retries: 3,
            backoff: Duration::from_millis(10),
            readiness: true,
            title_case_headers: false,
            tls: Default::default(),
        },
        jobs: 8,
        down_after: webhook_harness::stop::DEFAULT_THRESHOLD,
        replay: Default::default(),
        stop: Default::default(),
        ..Default::default()
    };
    runner::run(&config, scenario::builtin().unwrap(), |_| {})
        .await
        .unwrap()
}

fn failed(outcome: &RunResult) -> BTreeSet<&str> {
    outcome
        .cases
        .iter()
        .filter(|c| c.status() == CaseStatus::Failed)
        .map(|c| c.id.as_str())
        .collect()
}

async fn assert_fails_exactly(bug: Bug, expected: &[&str]) -> RunResult {
    let outcome = run_against(bug).await;
    let expected: BTreeSet<&str> = expected.iter().copied().collect();
    let got = failed(&outcome);
    let messages: Vec<String> = outcome
        .cases
        .iter()
        .filter(|c| c.status() == CaseStatus::Failed)
        .map(|c| format!("{}: {}", c.id, c.message()))
        .collect();
    assert_eq!(got, expected, "{bug:?}\n{}", messages.join("\n"));
    outcome
}

fn message_of(outcome: &RunResult, id: &str) -> String {
    outcome.cases.iter().find(|c| c.id == id).unwrap().message()
}

#[tokio::test]
async fn correct_receiver_passes_every_case() {
    let outcome = assert_fails_exactly(Bug::None, &[]).await;
    // Every case passes but those that need a receiver the harness started
    // (restarts, replicas): in-process, they do not apply.
    for c in &outcome.cases {
        let expected = match c.id.starts_with("durability.") {
            true => CaseStatus::NotApplicable,
            false => CaseStatus::Passed,
        };
        assert_eq!(c.status(), expected, "{}: {}", c.id, c.message());
    }
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
}

#[tokio::test]
async fn options_not_2xx() {
    let outcome = assert_fails_exactly(Bug::OptionsNotAllowed, &["readiness.options-2xx"]).await;
    assert!(message_of(&outcome, "readiness.options-2xx").contains("405"));
    assert!(outcome.notes[0].contains("readiness check (OPTIONS) failed"));
}

#[tokio::test]
async fn options_slower_than_the_timeout() {
    let outcome = assert_fails_exactly(
        Bug::OptionsSlow,
        &["readiness.options-2xx", "readiness.options-in-time"],
    )
    .await;
    assert!(message_of(&outcome, "readiness.options-in-time").contains("no response within"));
}

#[tokio::test]
async fn test_event_webhook_id_quirk() {
    assert_fails_exactly(
        Bug::RequiresCamelWebhookId,
        &[
            "events.webhook-test",
            "dialects.legacy-generation",
            "dialects.legacy-embedding",
            "dialects.legacy-test",
        ],
    )
    .await;
}

#[tokio::test]
async fn payload_variations() {
    assert_fails_exactly(Bug::RejectsEmptyGroup, &["events.group-empty"]).await;
    let outcome = assert_fails_exactly(Bug::FailsLargeGroup, &["events.group-many"]).await;
    // A 500 is retried: the message says how many POSTs got it.
    let message = message_of(&outcome, "events.group-many");
    assert!(message.contains("after 4 POST attempts"), "{message}");
    assert_fails_exactly(Bug::CrashesOnFailedMember, &["events.group-failed-members"]).await;
    let outcome =
        assert_fails_exactly(Bug::RejectsFailedGeneration, &["events.generation-failed"]).await;
    // One POST, refused, in a run nothing stopped: the message says what
    // came back and nothing else (no retries, no stop).
    let message = message_of(&outcome, "events.generation-failed");
    assert!(message.contains("422"), "{message}");
    for not_said in ["POST attempts", "stopped", "readiness"] {
        assert!(!message.contains(not_said), "{message}");
    }
    assert_fails_exactly(Bug::RejectsUnknownFields, &["events.unknown-fields"]).await;
    assert_fails_exactly(Bug::AsciiOnly, &["events.unicode"]).await;
    assert_fails_exactly(Bug::SmallBodyLimit, &["limits.large-payload"]).await;
}

#[tokio::test]
async fn legacy_dialect_not_accepted() {
    let outcome = assert_fails_exactly(
        Bug::LegacyUnsupported,
        &[
            "dialects.legacy-generation",
            "dialects.legacy-embedding",
            "dialects.legacy-group",
            "dialects.legacy-test",
        ],
    )
    .await;
    assert_eq!(
        outcome.summary(false).failed,
        0,
        "legacy cases are `should`: warnings"
    );
    assert_eq!(outcome.summary(false).warnings, 4);
    assert_eq!(
        outcome.summary(true).failed,
        4,
        "--strict makes them failures"
    );
}

#[tokio::test]
async fn legacy_payloads_accepted_but_filed_under_no_key() {
    // 2xx to every legacy delivery, but the work is filed under "": the
    // completions' effect counts read 0 (the test ping may read 0).
    let outcome = assert_fails_exactly(
        Bug::LegacyUnkeyed,
        &[
            "dialects.legacy-generation",
            "dialects.legacy-embedding",
            "dialects.legacy-group",
        ],
    )
    .await;
    let message = message_of(&outcome, "dialects.legacy-group");
    assert!(message.contains("group_id"), "{message}");
    assert!(message.contains("effect count 0"), "{message}");
}

#[tokio::test]
async fn redirect_instead_of_2xx() {
    let outcome = run_against(Bug::Redirects).await;
    let got = failed(&outcome);
    let expected: BTreeSet<&str> = outcome
        .cases
        .iter()
        .map(|c| c.id.as_str())
        .filter(|id| {
            !id.starts_with("readiness.")
                && !id.starts_with("durability.")
                && *id != "idempotency.retry-after-failure"
        })
        .collect();
    assert_eq!(got, expected, "every case that needs a POST answered fails");
    let message = message_of(&outcome, "events.no-redirect");
    assert!(
        message.contains("308") && message.contains("redirecting to /webhook/"),
        "{message}"
    );
}

#[tokio::test]
async fn duplicate_answered_409() {
    let outcome = assert_fails_exactly(
        Bug::ConflictOnDuplicate,
        &["idempotency.duplicate-answered-2xx"],
    )
    .await;
    assert!(message_of(&outcome, "idempotency.duplicate-answered-2xx").contains("409"));
}

#[tokio::test]
async fn effect_performed_twice() {
    let outcome = assert_fails_exactly(
        Bug::NotIdempotent,
        &[
            "idempotency.sequential-duplicate",
            "idempotency.concurrent-copies",
            "idempotency.retry-after-failure",
        ],
    )
    .await;
    let message = message_of(&outcome, "idempotency.concurrent-copies");
    assert!(
        message.contains("effect count 5: the work was done 5 times"),
        "{message}"
    );
}

#[tokio::test]
async fn check_then_act_race() {
    assert_fails_exactly(Bug::RacyDedup, &["idempotency.concurrent-copies"]).await;
}

#[tokio::test]
async fn retry_after_5xx_redoes_the_work() {
    let outcome = assert_fails_exactly(
        Bug::FailsFirstGroupAttempt,
        // The sender's own retry of the first 503 does the work twice too.
        &[
            "idempotency.retry-after-failure",
            "idempotency.group-effect-once",
            "dialects.legacy-group",
        ],
    )
    .await;
    assert!(message_of(&outcome, "idempotency.retry-after-failure").contains("effect count 2"));
}

#[tokio::test]
async fn groups_keyed_by_a_generation_id() {
    let outcome = assert_fails_exactly(
        Bug::KeysGroupsByGenerationId,
        &["idempotency.group-effect-once", "dialects.legacy-group"],
    )
    .await;
    let message = message_of(&outcome, "idempotency.group-effect-once");
    assert!(message.contains("the work was not done"), "{message}");
}

#[tokio::test]
async fn stub_that_always_says_200() {
    let outcome = assert_fails_exactly(
        Bug::Stub,
        &[
            "idempotency.effect-once",
            "idempotency.group-effect-once",
            // Five copies answered 200 and none handled: the effect of one
            // is 1, not 0.
            "idempotency.concurrent-copies",
            "dialects.legacy-generation",
            "dialects.legacy-embedding",
            "dialects.legacy-group",
            "verification.wrong-webhook-id",
            "verification.missing-webhook-id",
            "input.malformed-json",
            "input.non-object-body",
            "input.empty-body",
        ],
    )
    .await;
    let message = message_of(&outcome, "idempotency.effect-once");
    assert!(message.contains("the work was not done"), "{message}");
}

#[tokio::test]
async fn webhook_id_not_checked() {
    assert_fails_exactly(
        Bug::IgnoresWebhookId,
        &[
            "verification.wrong-webhook-id",
            "verification.missing-webhook-id",
        ],
    )
    .await;
}

#[tokio::test]
async fn unparseable_bodies_answered_5xx() {
    assert_fails_exactly(
        Bug::CrashesOnBadInput,
        &[
            "input.malformed-json",
            "input.non-object-body",
            "input.empty-body",
        ],
    )
    .await;
}

#[tokio::test]
async fn slow_answers() {
    let outcome = assert_fails_exactly(Bug::Slow, &["limits.fast-answer"]).await;
    assert!(message_of(&outcome, "limits.fast-answer").contains("an answer within 1.00s"));
}

#[tokio::test]
async fn without_a_probe_effect_checks_are_skipped_not_passed() {
    let receiver = TestReceiver::start(Bug::None).await;
    let config = common::run_config(receiver.url(), WEBHOOK_ID, None, SenderConfig::default(), 4);
    let outcome = runner::run(&config, scenario::builtin().unwrap(), |_| {})
        .await
        .unwrap();
    let skipped: BTreeSet<&str> = outcome
        .cases
        .iter()
        .filter(|c| c.status() == CaseStatus::Skipped)
        .map(|c| c.id.as_str())
        .collect();
    assert!(skipped.contains("idempotency.effect-once"));
    assert!(skipped.contains("verification.wrong-webhook-id"));
    assert!(failed(&outcome).is_empty());
    let message = message_of(&outcome, "idempotency.concurrent-copies");
    assert!(message.contains("no effects probe was given"), "{message}");
}

#[tokio::test]
async fn unreachable_target_is_one_error() {
    let (_nothing, url) = common::refusing_url();
    let config = RunConfig {
        url,
        webhook_id: WEBHOOK_ID.into(),
        effects_url: None,
        sender: SenderConfig::default(),
        jobs: 1,
        down_after: webhook_harness::stop::DEFAULT_THRESHOLD,
        replay: Default::default(),
        stop: Default::default(),
        ..Default::default()
    };
    let err = runner::run(&config, scenario::builtin().unwrap(), |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("connection refused"), "{err}");
}

/// Runs the cases of `yaml` against a correct receiver with its effects probe.
async fn run_yaml_against_a_correct_receiver(yaml: &str, jobs: usize) -> RunResult {
    let receiver = TestReceiver::start(Bug::None).await;
    let config = common::run_config(
        receiver.url(),
        WEBHOOK_ID,
        Some(receiver.effects_url()),
        SenderConfig::default(),
        jobs,
    );
    let scenarios = scenario::parse("custom.yaml", yaml).unwrap();
    runner::run(&config, scenarios, |_| {}).await.unwrap()
}

#[tokio::test]
async fn user_scenarios_use_every_step_kind() {
    let yaml = r#"
cases:
  - id: custom.headers-and-raw
    title: CORS headers, raw bodies, templates, instances
    steps:
      - options: {}
        expect:
          status: 200
          headers: { Access-Control-Allow-Methods: "POST, OPTIONS" }
      - raw:
          body_size: 9.5MB
        expect: { status: 4xx }
      - raw:
          event: slow-group.completed
          body: '{"event": "slow-group.completed", "groupId": "{{key}}", "data": {"groupSize": 0, "status": "completed", "generations": []}}'
        expect: { status: 2xx }
      - probe: { effects: 1, within: 500ms }
      - deliver: { event: slow-group.completed, instance: 1 }
      - probe: { event: slow-group.completed, instance: 1, effects: 1 }
      - probe: { event: slow-group.completed, instance: 0, effects: 1 }
      - raw: { method: GET, bare: true }
        expect: { status: 404 }
  - id: custom.must-fail
    title: A wrong expectation fails with what came back
    steps:
      - deliver: { event: test, add: { data.note: "{{case_id}}/{{run_id}}" } }
        expect: { status: 204 }
"#;
    let outcome = run_yaml_against_a_correct_receiver(yaml, 2).await;
    let first = &outcome.cases[0];
    assert_eq!(first.status(), CaseStatus::Passed, "{}", first.message());
    assert_eq!(first.checks.len(), 9);
    let second = &outcome.cases[1];
    assert_eq!(second.status(), CaseStatus::Failed);
    let message = second.message();
    assert!(
        message.contains("Expected: 204") && message.contains("Actual: 200 (success)"),
        "{message}"
    );
}

/// `{{key}}` in a `set` or an `add` value is the event's key: written into
/// `data.id`, the receiver files the effect under the key the probe asks for
/// (under the literal text `{{key}}` if it were not filled in).
#[tokio::test]
async fn templates_are_filled_in_set_and_add_values() {
    let yaml = r#"
cases:
  - id: custom.templates
    title: templates in set and add
    steps:
      - deliver: { event: generation.completed, add: { data.id: "{{key}}" } }
      - probe: { effects: 1 }
      - deliver: { event: generation.completed, instance: 1, set: { data.id: "{{ key }}" } }
      - probe: { event: generation.completed, instance: 1, effects: 1 }
"#;
    let outcome = run_yaml_against_a_correct_receiver(yaml, 1).await;
    let case = &outcome.cases[0];
    assert_eq!(case.status(), CaseStatus::Passed, "{}", case.message());
}

#[tokio::test]
async fn the_missing_probe_is_noted_only_when_a_case_reads_effects() {
    let receiver = TestReceiver::start(Bug::None).await;
    let config = common::run_config(receiver.url(), WEBHOOK_ID, None, SenderConfig::default(), 1);
    let no_probe = scenario::parse(
        "plain.yaml",
        "cases:\n  - id: a\n    title: t\n    steps:\n      - options: {}\n",
    )
    .unwrap();
    let outcome = runner::run(&config, no_probe, |_| {}).await.unwrap();
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
    let with_probe = scenario::parse(
        "probe.yaml",
        "cases:\n  - id: a\n    title: t\n    steps:\n      - deliver: { event: generation }\n      - probe: { effects: required }\n",
    )
    .unwrap();
    let outcome = runner::run(&config, with_probe, |_| {}).await.unwrap();
    assert!(
        outcome.notes.iter().any(|n| n.contains("No effects probe")),
        "{:?}",
        outcome.notes
    );
}

/// The diagnosis of a run against `bug`, in words.
async fn diagnosis_of(bug: Bug) -> Option<(Cause, String)> {
    run_against(bug)
        .await
        .diagnosis()
        .map(|d| (d.cause.clone(), d.to_string()))
}

#[tokio::test]
async fn refusals_that_share_a_trait_are_one_diagnosis() {
    // The id read from the body: every delivery without webhookId there
    // (groups, webhook.test, the legacy dialect) is refused.
    let (cause, words) = diagnosis_of(Bug::ReadsIdFromBody).await.expect("diagnosed");
    assert!(
        matches!(&cause, Cause::Pattern { status: 401, trait_: Trait::Field { name, present: false }, .. } if name == "webhookId"),
        "{cause:?}: {words}"
    );
    let shape = regex::Regex::new(
        r"^(\d+) of (\d+) deliveries without webhookId in the body were answered 401, and all \d+ deliveries answered 2xx had it$",
    )
    .unwrap();
    let counts = shape.captures(&words).expect(&words);
    assert_eq!(counts[1], counts[2], "every one of them: {words}");
    assert!(
        cause_fix(&cause).contains("read X-Inference-Webhook-ID"),
        "{cause:?}"
    );

    let (cause, words) = diagnosis_of(Bug::LegacyUnsupported)
        .await
        .expect("diagnosed");
    assert_eq!(
        cause,
        Cause::Pattern {
            status: 400,
            trait_: Trait::Dialect(webhook_harness::event::Dialect::Legacy),
            accepted: match &cause {
                Cause::Pattern { accepted, .. } => *accepted,
                _ => 0,
            },
        },
        "{words}"
    );
    assert!(
        words.starts_with("4 of 4 deliveries in the legacy dialect were answered 400"),
        "{words}"
    );

    let (cause, words) = diagnosis_of(Bug::RejectsGroups).await.expect("diagnosed");
    assert!(
        matches!(
            cause,
            Cause::Pattern {
                status: 400,
                trait_: Trait::Event(webhook_harness::event::EventKind::SlowGroupCompleted),
                ..
            }
        ),
        "{cause:?}: {words}"
    );
}

fn cause_fix(cause: &Cause) -> String {
    match cause {
        Cause::Pattern { status, trait_, .. } => trait_.fix(*status),
        _ => String::new(),
    }
}

#[tokio::test]
async fn no_diagnosis_for_a_correct_receiver_or_a_single_mistake() {
    for bug in [
        Bug::None,
        Bug::IgnoresPing,
        Bug::SmallBodyLimit,
        Bug::ConflictOnDuplicate,
        Bug::RejectsFailedGeneration,
        Bug::AsciiOnly,
        Bug::CrashesOnBadInput,
        Bug::NotIdempotent,
    ] {
        assert_eq!(diagnosis_of(bug).await, None, "{bug:?}");
    }
}

/// A receiver whose readiness check passed at the start of the run and
/// fails later: the delivery's failure says that no POST was sent because
/// of the OPTIONS answer, not that the POST was refused.
#[tokio::test]
async fn a_readiness_check_that_fails_mid_run_is_said_so() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("OPTIONS"))
        .respond_with(ResponseTemplate::new(200))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("OPTIONS"))
        .respond_with(ResponseTemplate::new(405))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let scenarios = scenario::parse(
        "mid-run.yaml",
        "cases:\n  - id: mid-run\n    title: a delivery\n    steps:\n      - deliver: { event: generation.completed }\n",
    )
    .unwrap();
    let config = RunConfig {
        url: format!("{}/webhook", server.uri()),
        webhook_id: WEBHOOK_ID.into(),
        sender: SenderConfig {
            timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(10),
            ..SenderConfig::default()
        },
        down_after: webhook_harness::stop::DEFAULT_THRESHOLD,
        ..Default::default()
    };
    let outcome = runner::run(&config, scenarios, |_| {}).await.unwrap();
    let case = &outcome.cases[0];
    assert_eq!(case.status(), CaseStatus::Failed, "{}", case.message());
    let message = case.message();
    assert!(
        message.contains("the readiness check (OPTIONS) got 405")
            && message.contains("so no POST was sent"),
        "{message}"
    );
    assert!(!message.contains("stopped"), "{message}");
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method == wiremock::http::Method::POST)
        .count();
    assert_eq!(posts, 0);
}

/// A latency bound is met only by an answer: a request whose connection was
/// reset is not "in time", however fast the reset came.
#[tokio::test]
async fn a_latency_bound_is_not_met_by_a_reset() {
    use common::hostile::{self, Hostile};
    let url = hostile::start(Hostile::ResetAfterRead).await;
    let scenarios = scenario::parse(
        "latency.yaml",
        "cases:\n  - id: latency\n    title: in time\n    steps:\n      - raw: {}\n        expect: { status: any, latency: < 5s }\n",
    )
    .unwrap();
    let config = RunConfig {
        url,
        webhook_id: WEBHOOK_ID.into(),
        sender: SenderConfig {
            timeout: Duration::from_secs(5),
            retries: 0,
            ..SenderConfig::default()
        },
        // The resets are the point: no confirming that the receiver is down.
        down_after: 1000,
        ..Default::default()
    };
    let outcome = runner::run(&config, scenarios, |_| {}).await.unwrap();
    let case = &outcome.cases[0];
    assert_eq!(case.status(), CaseStatus::Failed, "{}", case.message());
    let message = case.message();
    assert!(message.contains("an answer within 5.00s"), "{message}");
    assert!(!message.contains("answered in"), "{message}");
}

/// An expected response header passes with its value and fails with another.
#[tokio::test]
async fn an_expected_header_must_have_its_value() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("OPTIONS"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    for (at, content_type) in [("/right", "application/json"), ("/wrong", "text/plain")] {
        Mock::given(method("POST"))
            .and(path(at))
            .respond_with(ResponseTemplate::new(200).insert_header("content-type", content_type))
            .mount(&server)
            .await;
    }
    for (at, passes) in [("right", true), ("wrong", false)] {
        let yaml = format!(
            "cases:\n  - id: header-{at}\n    title: a header\n    steps:\n      - raw: {{}}\n        expect: {{ status: 2xx, headers: {{ Content-Type: application/json }} }}\n"
        );
        let config = RunConfig {
            url: format!("{}/{at}", server.uri()),
            webhook_id: WEBHOOK_ID.into(),
            sender: SenderConfig {
                timeout: Duration::from_secs(5),
                ..SenderConfig::default()
            },
            down_after: webhook_harness::stop::DEFAULT_THRESHOLD,
            ..Default::default()
        };
        let scenarios = scenario::parse("header.yaml", &yaml).unwrap();
        let outcome = runner::run(&config, scenarios, |_| {}).await.unwrap();
        let case = &outcome.cases[0];
        let message = case.message();
        if passes {
            assert_eq!(case.status(), CaseStatus::Passed, "{message}");
        } else {
            assert_eq!(case.status(), CaseStatus::Failed, "{message}");
            assert!(message.contains("Content-Type: text/plain"), "{message}");
        }
    }
}

/// A delivery the run's stop cut short still fails on what came back before
/// the stop (a POST that timed out), and says the run was stopped.
#[tokio::test]
async fn a_delivery_cut_short_by_the_stop_fails_on_what_came_back() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("OPTIONS"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(20)))
        .mount(&server)
        .await;
    let scenarios = scenario::parse(
        "cut.yaml",
        "cases:\n  - id: cut\n    title: a delivery\n    steps:\n      - deliver: { event: generation.completed }\n",
    )
    .unwrap();
    let stop = webhook_harness::stop::Stop::new();
    // Far after the first POST's 1 s timeout, far before its retry (30 s).
    stop.fire_after(Duration::from_secs(5));
    let config = RunConfig {
        url: format!("{}/webhook", server.uri()),
        webhook_id: WEBHOOK_ID.into(),
        sender: SenderConfig {
            timeout: Duration::from_secs(1),
            retries: 3,
            backoff: Duration::from_secs(30),
            ..SenderConfig::default()
        },
        down_after: webhook_harness::stop::DEFAULT_THRESHOLD,
        stop,
        ..Default::default()
    };
    let outcome = runner::run(&config, scenarios, |_| {}).await.unwrap();
    let case = &outcome.cases[0];
    assert_eq!(case.status(), CaseStatus::Failed, "{}", case.message());
    let message = case.message();
    assert!(
        message.contains("no response within") && message.contains("then the run was stopped"),
        "{message}"
    );
}
