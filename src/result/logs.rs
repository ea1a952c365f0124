//! A receiver's log lines attached to the cases they may explain: the hook
//! behind `run --serve` showing what the receiver wrote while a failing case
//! ran, open to a library caller with its own log (an in-process receiver's
//! tracing output, say).

use std::time::{Duration, Instant};

use super::{CaseStatus, RunResult};

/// How long after a case's end a receiver's log line may still be its own
/// (a line logged after the answer was sent). Read the log this long after
/// the run ended, so that such lines are in it.
pub const LOG_SLACK: Duration = Duration::from_millis(100);

/// The most lines kept for one case (the last ones).
pub const MAX_CASE_LOG: usize = 200;

impl RunResult {
    /// Gives every failing case the lines `lines_during(start, end)` returns
    /// for its span (from its start to [`LOG_SLACK`] after its end), each a
    /// line with the instant it was written. A line written while another
    /// case was under way, or just after the one before ended, is marked
    /// `(may be from ID)`: time alone cannot tell whose it is. At most
    /// [`MAX_CASE_LOG`] lines per case, the last ones.
    pub fn attach_logs(
        &mut self,
        mut lines_during: impl FnMut(Instant, Instant) -> Vec<(Instant, String)>,
    ) {
        // Each case's span: from its start to its end.
        let spans: Vec<(String, Instant, Instant)> = self
            .cases
            .iter()
            .filter_map(|c| Some((c.id.clone(), c.started?, c.started? + c.duration)))
            .collect();
        for case in self
            .cases
            .iter_mut()
            .filter(|c| c.status() == CaseStatus::Failed)
        {
            let Some(&(_, start, end)) = spans.iter().find(|(id, _, _)| *id == case.id) else {
                continue;
            };
            let mut lines: Vec<String> = lines_during(start, end + LOG_SLACK)
                .into_iter()
                .map(|(at, line)| match neighbour(&spans, &case.id, at) {
                    Some(other) => format!("{line}   (may be from {other})"),
                    None => line,
                })
                .collect();
            let skip = lines.len().saturating_sub(MAX_CASE_LOG);
            lines.drain(..skip);
            case.receiver_log = lines;
        }
    }
}

/// The other case a log line written at `at`, in the log of case `id`,
/// may belong to: one under way then, or one that had ended less than
/// [`LOG_SLACK`] before (time alone cannot tell a line logged after the
/// answer of the case before from one of the case that just started).
fn neighbour<'a>(
    spans: &'a [(String, Instant, Instant)],
    id: &str,
    at: Instant,
) -> Option<&'a str> {
    // Of several, the one that ended last.
    spans
        .iter()
        .filter(|(other, _, _)| other != id)
        .filter(|(_, start, stop)| *start <= at && at <= *stop + LOG_SLACK)
        .max_by_key(|(_, _, stop)| *stop)
        .map(|(other, _, _)| other.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{CaseResult, Check, CheckResult};

    /// A case that ran from `start` for `ms` milliseconds, failed or not.
    fn case(id: &str, start: Instant, ms: u64, failed: bool) -> CaseResult {
        let mut c = CaseResult::generated(id.into(), String::new(), &[], Duration::from_millis(ms));
        c.started = Some(start);
        c.checks.push(Check {
            step: 1,
            source: None,
            what: "status".into(),
            outcome: if failed {
                CheckResult::Failed {
                    expected: "2xx".into(),
                    actual: "500".into(),
                }
            } else {
                CheckResult::Passed
            },
            state: None,
        });
        c
    }

    fn run(cases: Vec<CaseResult>) -> RunResult {
        RunResult {
            url: String::new(),
            run_id: String::new(),
            cases,
            notes: Vec::new(),
            duration: Duration::ZERO,
            snapshots: None,
            stopped: None,
        }
    }

    #[test]
    fn a_failing_case_gets_its_lines_and_those_of_a_neighbour_are_marked() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        // a: 0-1000 ms passed; b: 500-2000 ms failed; c: 3000-4000 ms passed.
        let mut result = run(vec![
            case("a", at(0), 1000, false),
            case("b", at(500), 1500, true),
            case("c", at(3000), 1000, false),
        ]);
        let log = [
            (at(100), "before b".to_owned()),
            (at(700), "while a and b ran".to_owned()),
            (at(1050), "a's trailing line".to_owned()),
            (at(1500), "b alone".to_owned()),
            (at(2050), "just after b".to_owned()),
            (at(3500), "during c".to_owned()),
        ];
        let mut asked = Vec::new();
        result.attach_logs(|from, to| {
            asked.push((from, to));
            log.iter()
                .filter(|(t, _)| from <= *t && *t <= to)
                .cloned()
                .collect()
        });
        // Only the failing case is asked for, over its span and the slack.
        assert_eq!(asked, vec![(at(500), at(2000) + LOG_SLACK)]);
        assert_eq!(
            result.cases[1].receiver_log,
            vec![
                "while a and b ran   (may be from a)",
                // Written just after a ended: may be a's late line.
                "a's trailing line   (may be from a)",
                "b alone",
                "just after b"
            ]
        );
        assert!(result.cases[0].receiver_log.is_empty());
        assert!(result.cases[2].receiver_log.is_empty());
    }

    #[test]
    fn a_case_keeps_its_last_lines() {
        let t0 = Instant::now();
        let mut result = run(vec![case("a", t0, 1000, true)]);
        result.attach_logs(|_, _| {
            (0..MAX_CASE_LOG + 5)
                .map(|i| (t0, format!("{i}")))
                .collect()
        });
        let log = &result.cases[0].receiver_log;
        assert_eq!(log.len(), MAX_CASE_LOG);
        assert_eq!(log.first().map(String::as_str), Some("5"));
    }
}
