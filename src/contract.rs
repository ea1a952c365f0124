//! The contract of the Inference.net sender, as facts in one place: the
//! events and dialects, the headers on every POST, where the idempotency key
//! lives, the retry policy, the status classes, and the effect each event
//! must have. Everything else reads them from here (`docs/sender-contract.md` says them in words).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;

/// The `User-Agent` of the sender.
pub const USER_AGENT: &str = "inference.net-Webhook/1.0";

/// The four events the sender emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `generation.completed`: a chat generation finished.
    GenerationCompleted,
    /// `async-embedding.completed`: an asynchronous embedding finished.
    AsyncEmbeddingCompleted,
    /// `slow-group.completed`: a group of generations finished.
    SlowGroupCompleted,
    /// `webhook.test`: the dashboard's test event.
    WebhookTest,
}

impl EventKind {
    /// Every event, in catalog order.
    pub const ALL: [EventKind; 4] = [
        EventKind::GenerationCompleted,
        EventKind::AsyncEmbeddingCompleted,
        EventKind::SlowGroupCompleted,
        EventKind::WebhookTest,
    ];

    /// The wire name, e.g. `generation.completed`.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::GenerationCompleted => "generation.completed",
            EventKind::AsyncEmbeddingCompleted => "async-embedding.completed",
            EventKind::SlowGroupCompleted => "slow-group.completed",
            EventKind::WebhookTest => "webhook.test",
        }
    }

    /// Whether the event is keyed by a group id rather than a generation id.
    pub fn is_group(self) -> bool {
        self == EventKind::SlowGroupCompleted
    }

    /// The effect a delivery of this event must have on a receiver: the one
    /// statement of it that the suite's `effects: required` and the fuzz
    /// oracle both read. Completions must be handled exactly once; the
    /// dashboard's `webhook.test` is a ping that a receiver may ignore.
    /// (Duplicates of any event: [`EffectRule::AtMostOnce`] more.)
    pub fn effect_rule(self) -> EffectRule {
        match self {
            EventKind::WebhookTest => EffectRule::AtMostOnce,
            _ => EffectRule::ExactlyOnce,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl EventKind {
    /// The event with this wire name, if any (no aliases).
    pub fn from_wire(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl FromStr for EventKind {
    type Err = String;

    /// Accepts the wire name or a short alias (`generation`, `embedding`, `group`, `test`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(kind) = EventKind::from_wire(s) {
            return Ok(kind);
        }
        match s {
            "generation" => Ok(EventKind::GenerationCompleted),
            "embedding" => Ok(EventKind::AsyncEmbeddingCompleted),
            "group" => Ok(EventKind::SlowGroupCompleted),
            "test" => Ok(EventKind::WebhookTest),
            _ => Err(format!(
                "unknown event `{s}`: expected one of generation.completed, async-embedding.completed, slow-group.completed, webhook.test (or generation, embedding, group, test)"
            )),
        }
    }
}

/// How many times a receiver may handle one idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectRule {
    /// Handled once: the event was answered 2xx, so its work is done.
    ExactlyOnce,
    /// Handled at most once: a ping, or a duplicate, may be ignored.
    AtMostOnce,
}

impl EffectRule {
    /// Whether an effect count satisfies the rule.
    pub fn allows(self, count: u64) -> bool {
        match self {
            EffectRule::ExactlyOnce => count == 1,
            EffectRule::AtMostOnce => count <= 1,
        }
    }
}

impl fmt::Display for EffectRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EffectRule::ExactlyOnce => "1",
            EffectRule::AtMostOnce => "at most 1",
        })
    }
}

/// The two payload dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// The seed page's camelCase schema (the default).
    #[default]
    Current,
    /// The quick-reference page's snake_case schema.
    Legacy,
}

impl Dialect {
    /// The name used on the command line and in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Current => "current",
            Dialect::Legacy => "legacy",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "current" => Ok(Dialect::Current),
            "legacy" => Ok(Dialect::Legacy),
            _ => Err(format!(
                "unknown dialect `{s}`: expected `current` or `legacy`"
            )),
        }
    }
}

/// Deserializes from the names accepted by `FromStr`, with its error
/// message; serializes as its name (what `Display` writes).
macro_rules! named_enum_serde {
    ($ty:ty, $schema_name:literal, $description:literal, [$($name:literal),*]) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = String::deserialize(d)?;
                name.parse().map_err(serde::de::Error::custom)
            }
        }

        #[cfg(test)]
        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $schema_name.into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "description": $description,
                    "type": "string",
                    "enum": [$($name),*]
                })
            }
        }
    };
}

named_enum_serde!(
    EventKind,
    "Event",
    "An event name, or its short alias.",
    [
        "generation.completed",
        "async-embedding.completed",
        "slow-group.completed",
        "webhook.test",
        "generation",
        "embedding",
        "group",
        "test"
    ]
);
named_enum_serde!(
    Dialect,
    "Dialect",
    "The payload dialect.",
    ["current", "legacy"]
);

/// `X-Inference-Event`: the event name.
pub const EVENT_HEADER: &str = "X-Inference-Event";
/// `X-Inference-Webhook-ID`: the webhook identifier (a secret).
pub const WEBHOOK_ID_HEADER: &str = "X-Inference-Webhook-ID";
/// `X-Inference-Generation-ID`: the key of generation, embedding and test events.
pub const GENERATION_ID_HEADER: &str = "X-Inference-Generation-ID";
/// `X-Inference-Group-ID`: the key of group events.
pub const GROUP_ID_HEADER: &str = "X-Inference-Group-ID";

/// The header that carries the idempotency key of `kind`.
pub fn key_header(kind: EventKind) -> &'static str {
    if kind.is_group() {
        GROUP_ID_HEADER
    } else {
        GENERATION_ID_HEADER
    }
}

/// The headers the sender puts on every POST of `kind`, in a stable order
/// (the key header only when there is a key).
pub fn headers(
    kind: EventKind,
    webhook_id: &str,
    key: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("Content-Type", "application/json".to_owned()),
        ("User-Agent", USER_AGENT.to_owned()),
        (EVENT_HEADER, kind.name().to_owned()),
        (WEBHOOK_ID_HEADER, webhook_id.to_owned()),
    ];
    if let Some(key) = key {
        headers.push((key_header(kind), key.to_owned()));
    }
    headers
}

/// Where the idempotency key of `kind` lives in a payload of `dialect`, as a
/// dotted path: `data.id` or `generation_id` (generation, embedding and test
/// events), `groupId` or `group_id` (group events).
pub fn key_path(kind: EventKind, dialect: Dialect) -> &'static str {
    match (kind.is_group(), dialect) {
        (true, Dialect::Current) => "groupId",
        (true, Dialect::Legacy) => "group_id",
        (false, Dialect::Current) => "data.id",
        (false, Dialect::Legacy) => "generation_id",
    }
}

/// Where a payload names its event: the top-level `event`.
pub const EVENT_FIELD: &str = "event";

/// Where the idempotency key of any payload in either dialect can be, in the
/// order it is looked for: `groupId`, `group_id`, `generation_id`, `data.id`.
pub const KEY_LOCATIONS: [&[&str]; 4] = [
    &["groupId"],
    &["group_id"],
    &["generation_id"],
    &["data", "id"],
];

/// Every place in a payload the contract reads: its event, then the
/// [`KEY_LOCATIONS`] (derived from them, so a new key location is read too).
pub const FIELDS_READ: [&[&str]; KEY_LOCATIONS.len() + 1] = {
    let mut fields: [&[&str]; KEY_LOCATIONS.len() + 1] = [&[EVENT_FIELD]; KEY_LOCATIONS.len() + 1];
    let mut i = 0;
    while i < KEY_LOCATIONS.len() {
        fields[i + 1] = KEY_LOCATIONS[i];
        i += 1;
    }
    fields
};

/// The dialect of a payload, told by the names of its top-level fields: the
/// legacy dialect has its key at the top level (`generation_id`,
/// `group_id`, from [`key_path`]). `complete`: whether `fields` are all of
/// them (without a legacy key among them, it is then the current dialect;
/// with only some, it cannot be told).
pub fn dialect_of_fields(fields: &[String], complete: bool) -> Option<Dialect> {
    let legacy = EventKind::ALL
        .iter()
        .any(|kind| fields.iter().any(|f| f == key_path(*kind, Dialect::Legacy)));
    match (legacy, complete) {
        (true, _) => Some(Dialect::Legacy),
        (false, true) => Some(Dialect::Current),
        (false, false) => None,
    }
}

/// The idempotency key of any payload in either dialect: the first string
/// found at one of the [`KEY_LOCATIONS`].
pub fn idempotency_key(json: &Value) -> Option<String> {
    KEY_LOCATIONS.iter().find_map(|path| {
        path.iter()
            .try_fold(json, |value, key| value.get(key))?
            .as_str()
            .map(str::to_owned)
    })
}

/// The class of an HTTP status, as the sender treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    /// 1xx as a final answer: not success, not retried.
    Informational,
    /// 2xx: handled.
    Success,
    /// 3xx: not success; a sender does not follow redirects.
    Redirect,
    /// 4xx: the event is dropped, not retried.
    ClientError,
    /// 5xx: retried.
    ServerError,
    /// 600 and above: not success, not retried.
    Other,
}

impl StatusClass {
    /// The class of `status`.
    pub fn of(status: u16) -> StatusClass {
        match status {
            100..=199 => StatusClass::Informational,
            200..=299 => StatusClass::Success,
            300..=399 => StatusClass::Redirect,
            400..=499 => StatusClass::ClientError,
            500..=599 => StatusClass::ServerError,
            _ => StatusClass::Other,
        }
    }
}

/// The sender's retry policy: after a 5xx, a timeout or a connection
/// failure it retries, `retries` times, waiting `backoff`, then twice as
/// long before each further retry (the contract's 3 retries with
/// exponential backoff; the base delay is not published).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The delay before the first retry.
    pub backoff: Duration,
}

/// What the sender does after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The attempt's answer is final (success, dropped, redirect, ...).
    Done,
    /// Retry after this long.
    RetryAfter(Duration),
    /// Retryable, but the retries are used up.
    GiveUp,
}

/// What an attempt came to, in the terms the retry policy needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// A status came back.
    Status(StatusClass),
    /// No answer within the timeout, or the connection failed.
    Nothing,
}

impl RetryPolicy {
    /// The contract's policy with the harness's default base delay (1 s).
    pub const CONTRACT: RetryPolicy = RetryPolicy {
        retries: 3,
        backoff: Duration::from_secs(1),
    };

    /// The delay before retry number `retry` (1-based): `backoff * 2^(retry-1)`.
    pub fn backoff_before(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor)
    }

    /// How long after the first attempt the last retry comes, the attempts
    /// themselves aside: the sum of the delays.
    pub fn last_retry_after(&self) -> Duration {
        (1..=self.retries).fold(Duration::ZERO, |sum, retry| {
            sum.saturating_add(self.backoff_before(retry))
        })
    }

    /// Whether the sender retries after such an answer.
    pub fn retries_after(answer: Answered) -> bool {
        matches!(
            answer,
            Answered::Nothing | Answered::Status(StatusClass::ServerError)
        )
    }

    /// What follows an attempt that came to `answer`, when `retries_made`
    /// retries were made before it.
    pub fn next(&self, answer: Answered, retries_made: u32) -> Next {
        if !Self::retries_after(answer) {
            Next::Done
        } else if retries_made >= self.retries {
            Next::GiveUp
        } else {
            Next::RetryAfter(self.backoff_before(retries_made + 1))
        }
    }
}

/// The per-attempt timeout of the sender.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The largest payload the sender posts (10 MB).
pub const MAX_PAYLOAD: usize = 10_000_000;

/// One rule of the contract a receiver must meet: its id (the anchor
/// `rule-ID` of its line in `docs/sender-contract.md`), what it says, and
/// why no case can verify it, when none can. Built-in cases name the rules
/// they verify (`rules:`); `list --rules` prints the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The id cases cite: `effect-once`.
    pub id: &'static str,
    /// The rule in one line.
    pub says: &'static str,
    /// Why no case verifies it, when none can.
    pub untestable: Option<&'static str>,
}

/// The rules of the contract, in the order of `docs/sender-contract.md`.
pub const RULES: &[Rule] = &[
    Rule {
        id: "readiness",
        says: "answer the OPTIONS readiness check on the endpoint with 2xx, in time: until then no event is posted",
        untestable: None,
    },
    Rule {
        id: "every-event",
        says: "answer each of the four events 2xx, whatever its content: Success or Failed, groups of any size, any Unicode",
        untestable: None,
    },
    Rule {
        id: "test-event-webhook-id",
        says: "read webhook.test's webhook id from `webhook_id` (snake_case), not `webhookId`",
        untestable: None,
    },
    Rule {
        id: "no-redirect",
        says: "answer at the configured URL itself: redirects are not followed",
        untestable: None,
    },
    Rule {
        id: "verify-webhook-id",
        says: "compare X-Inference-Webhook-ID with your webhook id; answer a missing or different one 4xx and do nothing",
        untestable: None,
    },
    Rule {
        id: "both-dialects",
        says: "accept both payload dialects, `current` and `legacy`, each keyed where it keeps its key",
        untestable: None,
    },
    Rule {
        id: "unknown-fields",
        says: "ignore fields you do not know",
        untestable: None,
    },
    Rule {
        id: "key-location",
        says: "key each event by its idempotency key: the generation id, or a group's group id (not one of its generations')",
        untestable: None,
    },
    Rule {
        id: "refuse-with-4xx",
        says: "answer 4xx, never 5xx, what you will never accept (a body you cannot parse): a 5xx is retried in vain",
        untestable: None,
    },
    Rule {
        id: "answer-in-time",
        says: "answer each attempt within the 30 s timeout (well within: hand slow work to a queue)",
        untestable: None,
    },
    Rule {
        id: "body-10mb",
        says: "accept bodies up to 10 MB",
        untestable: None,
    },
    Rule {
        id: "delivery-delay",
        says: "expect the first delivery up to 60 s after the work finished",
        untestable: Some("the delay is the sender's: nothing a receiver does can meet or break it"),
    },
    Rule {
        id: "effect-once",
        says: "give each completion exactly one effect per idempotency key, however many copies arrive, one after another, at once, after a restart or on another replica",
        untestable: None,
    },
    Rule {
        id: "test-at-most-once",
        says: "give webhook.test at most one effect: it is a ping, doing nothing is fine",
        untestable: None,
    },
    Rule {
        id: "duplicates-2xx",
        says: "answer every copy of an event 2xx, duplicates too (not 409)",
        untestable: None,
    },
    Rule {
        id: "retried-work-not-redone",
        says: "after a 5xx, a timeout or a dropped connection the identical request comes again: work already done is not done again",
        untestable: None,
    },
];

/// The rule with `id`.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The rules with `ids`, skipping any that is not one.
pub fn rules(ids: &[&str]) -> Vec<&'static Rule> {
    ids.iter().filter_map(|id| rule(id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What each event may count after its deliveries: exactly one for a
    /// completion, none or one for the ping.
    #[test]
    fn effect_rules_allow_what_the_contract_says() {
        for (rule, allowed) in [
            (EffectRule::ExactlyOnce, [false, true, false]),
            (EffectRule::AtMostOnce, [true, true, false]),
        ] {
            for (count, allowed) in allowed.into_iter().enumerate() {
                assert_eq!(rule.allows(count as u64), allowed, "{rule:?} {count}");
            }
        }
        assert_eq!(EventKind::WebhookTest.effect_rule(), EffectRule::AtMostOnce);
        assert_eq!(
            EventKind::SlowGroupCompleted.effect_rule(),
            EffectRule::ExactlyOnce
        );
    }

    #[test]
    fn retry_policy_follows_the_contract() {
        let p = RetryPolicy {
            retries: 3,
            backoff: Duration::from_millis(100),
        };
        let server_error = Answered::Status(StatusClass::ServerError);
        assert_eq!(
            p.next(server_error, 0),
            Next::RetryAfter(Duration::from_millis(100))
        );
        assert_eq!(
            p.next(Answered::Nothing, 1),
            Next::RetryAfter(Duration::from_millis(200))
        );
        assert_eq!(
            p.next(server_error, 2),
            Next::RetryAfter(Duration::from_millis(400))
        );
        assert_eq!(p.next(server_error, 3), Next::GiveUp);
        for done in [
            StatusClass::Success,
            StatusClass::ClientError,
            StatusClass::Redirect,
        ] {
            assert_eq!(p.next(Answered::Status(done), 0), Next::Done);
        }
        assert!(p.backoff_before(200) >= Duration::from_secs(1));
        assert_eq!(p.last_retry_after(), Duration::from_millis(700));
        assert_eq!(
            RetryPolicy::CONTRACT.last_retry_after(),
            Duration::from_secs(7)
        );
    }

    #[test]
    fn key_locations_are_where_the_reader_finds_them() {
        for kind in EventKind::ALL {
            for dialect in [Dialect::Current, Dialect::Legacy] {
                let mut json = serde_json::json!({"data": {}});
                let path = key_path(kind, dialect);
                let pointer = format!("/{}", path.replace('.', "/"));
                let (parent, last) = pointer.rsplit_once('/').unwrap();
                let target = if parent.is_empty() {
                    &mut json
                } else {
                    json.pointer_mut(parent).unwrap()
                };
                target[last] = Value::String("k".into());
                assert_eq!(
                    idempotency_key(&json).as_deref(),
                    Some("k"),
                    "{kind} {dialect}"
                );
            }
        }
        assert_eq!(key_header(EventKind::SlowGroupCompleted), GROUP_ID_HEADER);
    }

    #[test]
    fn statuses_have_classes() {
        assert_eq!(StatusClass::of(204), StatusClass::Success);
        assert_eq!(StatusClass::of(101), StatusClass::Informational);
        assert_eq!(StatusClass::of(700), StatusClass::Other);
    }
}
