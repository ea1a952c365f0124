//! The JUnit XML report (`--report-junit`), written by quick-junit.
//!
//! One test suite per scenario file, one test case per case. A failure's
//! message is the same text the console shows. A `should` failure without
//! `--strict` is a passing test with the warning in its output, matching the
//! exit code.

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::ReportOptions;
use crate::result::{CaseStatus, RunResult};

/// The report as XML text.
pub fn render(outcome: &RunResult, options: &ReportOptions) -> Result<String, String> {
    let mut report = Report::new("webhook-harness");
    report.set_time(outcome.duration);
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    let lead = options.lead.as_ref().map(|l| options.redact(&l.words));
    for c in &outcome.cases {
        // A generated case (fuzz) has no file: its suite is named by its id's prefix.
        let file = match &c.source {
            Some(source) => source.file.as_str(),
            None => c.id.split('.').next().unwrap_or(&c.id),
        };
        let suite = suites.entry(file).or_insert_with(|| {
            order.push(file);
            let mut suite = TestSuite::new(file);
            if let Some(line) = &lead {
                suite.add_property(Property::new("diagnosis", line.as_str()));
                suite.set_system_out(format!("diagnosis: {line}"));
            }
            for note in &outcome.notes {
                suite.add_property(Property::new("note", options.redact(note)));
            }
            if let Some(reason) = &outcome.stopped {
                suite.add_property(Property::new("partial", "true"));
                suite.add_property(Property::new(
                    "stopped",
                    options.redact(&reason.to_string()),
                ));
            }
            suite
        });
        let message = options.redact(&c.message());
        let status = match c.status() {
            CaseStatus::Passed => TestCaseStatus::success(),
            CaseStatus::Skipped if c.fails_run(options.strict) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("not verified (--strict): {message}"));
                s.set_type("not verified");
                s
            }
            CaseStatus::Skipped | CaseStatus::NotRun | CaseStatus::NotApplicable => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(message.clone());
                s
            }
            CaseStatus::Failed if c.fails_run(options.strict) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(options.redact(&headline(c)));
                s.set_type(format!("{} requirement", c.severity.name()));
                s.set_description(message.clone());
                s
            }
            CaseStatus::Failed => TestCaseStatus::success(),
        };
        let mut case = TestCase::new(c.id.as_str(), status);
        case.set_classname(c.id.split('.').next().unwrap_or(&c.id));
        case.set_time(c.duration);
        case.add_property(Property::new("severity", c.severity.name()));
        case.add_property(Property::new("title", c.title.as_str()));
        if !c.receiver_log.is_empty() {
            case.set_system_err(options.redact(&c.receiver_log.join("\n")));
        }
        if c.status() == CaseStatus::Failed && !c.fails_run(options.strict) {
            case.add_property(Property::new("verdict", "warning"));
            case.set_system_out(format!("warning ({}): {message}", c.severity.name()));
        }
        suite.add_test_case(case);
    }
    for name in order {
        if let Some(suite) = suites.remove(name) {
            report.add_test_suite(suite);
        }
    }
    if let Some(snapshots) = &outcome.snapshots {
        let mut suite = TestSuite::new("snapshots");
        for c in &snapshots.cases {
            let status = if c.status.is_failure() {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!(
                    "snapshot {} ({})",
                    c.status.name(),
                    c.file.display()
                ));
                s.set_type("snapshot");
                s.set_description(options.redact(c.diff.as_deref().unwrap_or("")));
                s
            } else {
                TestCaseStatus::success()
            };
            let mut case = TestCase::new(format!("snapshot {}", c.id), status);
            case.set_classname("snapshots");
            case.add_property(Property::new("snapshot", c.status.name()));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report
        .to_string()
        .map(|xml| options.redact(&xml))
        .map_err(|e| format!("cannot write the JUnit report: {e}"))
}

/// The one line a CI page shows for a failed case: what its first failed
/// check expected, and of what.
fn headline(c: &crate::result::CaseResult) -> String {
    match c.first_failure() {
        Some(check) => match &check.outcome {
            crate::result::CheckResult::Failed { expected, actual } => format!(
                "Expected: {expected} (step {}, {}); actual: {actual}",
                check.step, check.what
            ),
            _ => c.title.clone(),
        },
        None => c.title.clone(),
    }
}
