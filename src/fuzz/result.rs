//! The fuzz run in the result model every report reads.

use crate::result::{CaseResult, Check, CheckResult, RunResult};

use super::{Category, Finding, FuzzResult};

impl FuzzResult {
    /// The fuzz run in the result model the reports read: one case per kind of
    /// input, a failed check per finding naming its reproducer (`reproducers`,
    /// in the order of the findings).
    pub fn run_result(&self, url: &str, reproducers: &[std::path::PathBuf]) -> RunResult {
        let outcome = self;
        let cases = outcome
            .per_category
            .iter()
            .map(|(category, count)| {
                let findings: Vec<&Finding> = outcome
                    .findings
                    .iter()
                    .filter(|f| f.input.category == *category)
                    .collect();
                let checks = if findings.is_empty() {
                    vec![Check {
                        state: None,
                        step: 1,
                        source: None,
                        what: format!("{count} generated inputs"),
                        outcome: CheckResult::Passed,
                    }]
                } else {
                    findings
                        .iter()
                        .map(|f| Check {
                            state: None,
                            step: 1,
                            source: None,
                            what: format!(
                                "case {} ({}){}",
                                f.case,
                                f.input.description,
                                outcome
                                    .findings
                                    .iter()
                                    .position(|g| std::ptr::eq(g, *f))
                                    .and_then(|i| reproducers.get(i))
                                    .map(|p| format!("; reproducer {}", p.display()))
                                    .unwrap_or_default()
                            ),
                            outcome: CheckResult::Failed {
                                expected: match category {
                                    Category::Valid => "2xx and the effect once".into(),
                                    _ => "no 5xx and no dropped connection".into(),
                                },
                                actual: f.reason.clone(),
                            },
                        })
                        .collect()
                };
                CaseResult {
                    checks,
                    steps: vec![crate::result::StepRecord {
                        step: 1,
                        action: format!("fuzz {}", category.name()),
                        concurrent: true,
                        attempts: findings.iter().filter_map(|f| f.attempt.clone()).collect(),
                    }],
                    ..CaseResult::generated(
                        format!("fuzz.{}", category.name()),
                        format!(
                            "{count} generated {} inputs (seed {})",
                            category.name(),
                            outcome.seed
                        ),
                        match category {
                            Category::Valid => &["every-event", "unknown-fields", "effect-once"],
                            Category::Invalid => &["refuse-with-4xx"],
                            Category::Headers => &["every-event"],
                        },
                        outcome.duration,
                    )
                }
            })
            .collect();
        RunResult {
            url: url.to_owned(),
            run_id: String::new(),
            cases,
            notes: Vec::new(),
            duration: outcome.duration,
            snapshots: None,
            stopped: outcome.stopped.clone(),
        }
    }
}
