//! Expectations checked against what came back: status, latency, headers,
//! effect counts, each pushed as a [`Check`] of the current step.

use crate::result::CheckResult;
use crate::scenario::model::Expect;
use crate::scenario::values::{EffectSpec, LatencySpec};
use crate::sender::{Attempt, Delivery, DeliveryResult, Outcome, Phase};

use super::CaseRun;

impl CaseRun<'_> {
    pub(super) fn check_delivery(&mut self, expect: &Expect, delivery: &Delivery, label: &str) {
        if delivery.result == DeliveryResult::Stopped {
            // What came back before the stop still counts: a receiver that
            // answered nothing fails here, before the rest is not run.
            self.cut = true;
            if let Some(last) = delivery
                .attempts
                .iter()
                .rev()
                .find(|a| a.outcome != Outcome::Cancelled)
            {
                let context = match (last.phase, delivery.posts()) {
                    (Phase::Readiness, _) | (_, 0) => {
                        "at the readiness check (OPTIONS), then the run was stopped".to_owned()
                    }
                    (_, 1) => "then the run was stopped".to_owned(),
                    (_, posts) => format!("after {posts} POST attempts, then the run was stopped"),
                };
                self.check(expect, last, label, Some(&context));
            }
            return;
        }
        let Some(last) = delivery.attempts.last() else {
            return;
        };
        if last.phase == Phase::Readiness
            && expect.status.as_ref().is_some_and(|s| !s.matches(None))
        {
            let actual = format!(
                "the readiness check (OPTIONS) got {}, so no POST was sent",
                last.answer()
            );
            let expected = expect
                .status
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default();
            return self.fail(label, expected, actual);
        }
        let posts = delivery.posts();
        let after = (posts > 1).then(|| format!("after {posts} POST attempts"));
        self.check(expect, last, label, after.as_deref());
    }

    pub(super) fn check_answer(&mut self, expect: &Expect, attempt: &Attempt, label: &str) {
        self.check(expect, attempt, label, None);
    }

    /// Checks `expect` against `attempt`; `context` (e.g. `after 4 POST
    /// attempts`) is added to what a failure says came back.
    fn check(&mut self, expect: &Expect, attempt: &Attempt, label: &str, context: Option<&str>) {
        if attempt.outcome == Outcome::Cancelled {
            self.cut = true;
            return;
        }
        let answer = || match context {
            Some(c) => format!("{}; {c}", attempt.answer()),
            None => attempt.answer(),
        };
        if let Some(status) = &expect.status {
            let what = format!("status of the {label}");
            if status.matches(attempt.status) {
                self.push(what, CheckResult::Passed);
            } else {
                self.fail(&what, status.to_string(), answer());
            }
        }
        if let Some(latency) = expect.latency {
            let bound = match latency {
                LatencySpec::Below(d) => d,
                LatencySpec::BelowTimeout => self.ctx.sender.config().timeout,
            };
            let what = format!("time to the {label}");
            let answered = attempt.status.is_some() && attempt.outcome != Outcome::Timeout;
            if answered && attempt.latency < bound {
                self.push(what, CheckResult::Passed);
            } else {
                let actual = if answered {
                    format!(
                        "answered in {}",
                        crate::sender::format_duration(attempt.latency)
                    )
                } else {
                    answer()
                };
                self.fail(
                    &what,
                    format!("an answer within {}", crate::sender::format_duration(bound)),
                    actual,
                );
            }
        }
        for (name, value) in &expect.headers {
            let what = format!("header {name} of the {label}");
            match attempt.header(name) {
                Some(v) if v == value => self.push(what, CheckResult::Passed),
                Some(v) => self.fail(&what, format!("{name}: {value}"), format!("{name}: {v}")),
                None => self.fail(
                    &what,
                    format!("{name}: {value}"),
                    format!("no {name} header ({})", answer()),
                ),
            }
        }
    }
}

pub(super) fn effect_words(count: u64, expected: EffectSpec) -> String {
    let base = format!("effect count {count}");
    match expected {
        EffectSpec::Exactly(1) | EffectSpec::AtLeast(_) if count == 0 => {
            format!("{base}: the event was answered but the work was not done")
        }
        EffectSpec::Exactly(0) if count > 0 => format!("{base}: the request was acted on"),
        EffectSpec::AtMost(_) | EffectSpec::Exactly(1) if count > 1 => {
            format!("{base}: the work was done {count} times")
        }
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an effect count says, for each expectation on each side of it.
    #[test]
    fn effect_words_say_what_the_count_means() {
        let not_done = "the event was answered but the work was not done";
        let acted_on = "the request was acted on";
        for (count, expected, said) in [
            (0, EffectSpec::Exactly(1), Some(not_done)),
            (1, EffectSpec::Exactly(1), None),
            (2, EffectSpec::Exactly(1), Some("the work was done 2 times")),
            (0, EffectSpec::Exactly(0), None),
            (1, EffectSpec::Exactly(0), Some(acted_on)),
            (0, EffectSpec::AtMost(1), None),
            (1, EffectSpec::AtMost(1), None),
            (3, EffectSpec::AtMost(1), Some("the work was done 3 times")),
            (0, EffectSpec::AtLeast(1), Some(not_done)),
            (4, EffectSpec::AtLeast(1), None),
        ] {
            let words = effect_words(count, expected);
            let want = match said {
                Some(s) => format!("effect count {count}: {s}"),
                None => format!("effect count {count}"),
            };
            assert_eq!(words, want, "{count} against {expected:?}");
        }
    }
}
