//! The conformance suite from a Rust receiver's own tests, in one builder:
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use webhook_harness::conformance::Conformance;
//!
//! let report = Conformance::new("http://127.0.0.1:8080/webhook")
//!     .webhook_id("AhALzdz8S")
//!     .effects_url("http://127.0.0.1:8080/test/effects?key={key}")
//!     .filter("idempotency.*")
//!     .run()
//!     .await?;
//! std::fs::write("junit.xml", report.junit()?)?;
//! assert!(report.passed(true), "{}", report.failures_text());
//! # Ok(())
//! # }
//! ```
//!
//! The same run as `webhook-harness run`, with the same verdicts, and the
//! same writers for its reports. What it does not do: start the receiver
//! (`--serve`: serve it yourself, on port 0), nor restart it, so the
//! durability cases are not applicable.

use std::time::Duration;

use crate::report::ReportOptions;
use crate::result::{CaseResult, CaseStatus, RunResult};
use crate::runner::{RunConfig, RunError};
use crate::scenario::{self, Scenario, ScenarioError};

/// A conformance run to make: the receiver, its webhook id, its effects
/// probe, the suite (the built-in one unless given), which of its cases.
#[derive(Debug, Clone)]
pub struct Conformance {
    config: RunConfig,
    suite: Option<Vec<Scenario>>,
    filter: Option<String>,
}

/// Why a conformance run could not be made (a case that fails is a verdict
/// in the [`Report`], not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConformanceError {
    /// The built-in suite or a given file did not load.
    #[error(transparent)]
    Suite(#[from] ScenarioError),
    /// The receiver could not be reached, or the settings are wrong.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The filter matches no case.
    #[error("no case matches the filter `{0}`; `webhook-harness list` shows the ids")]
    NoCase(String),
}

impl Conformance {
    /// A run against the receiver at `url`, with the built-in suite, the
    /// sender's contract settings and the default webhook id.
    pub fn new(url: impl Into<String>) -> Conformance {
        Conformance {
            config: RunConfig {
                url: url.into(),
                webhook_id: crate::event::DEFAULT_WEBHOOK_ID.to_owned(),
                jobs: 1,
                down_after: crate::stop::DEFAULT_THRESHOLD,
                ..RunConfig::default()
            },
            suite: None,
            filter: None,
        }
    }

    /// The webhook id the receiver expects.
    pub fn webhook_id(mut self, id: impl Into<String>) -> Conformance {
        self.config.webhook_id = id.into();
        self
    }

    /// The receiver's effects probe, a URL template with `{key}`.
    pub fn effects_url(mut self, template: impl Into<String>) -> Conformance {
        self.config.effects_url = Some(template.into());
        self
    }

    /// The time allowed per request (the contract's 30 s by default).
    pub fn timeout(mut self, timeout: Duration) -> Conformance {
        self.config.sender.timeout = timeout;
        self
    }

    /// Cases run at once (1 by default).
    pub fn jobs(mut self, jobs: usize) -> Conformance {
        self.config.jobs = jobs.max(1);
        self
    }

    /// The cases to run instead of the built-in suite (from
    /// [`scenario::builtin`], [`scenario::load`] or [`scenario::parse`]).
    pub fn suite(mut self, scenarios: Vec<Scenario>) -> Conformance {
        self.suite = Some(scenarios);
        self
    }

    /// Only the cases whose id contains `pattern`, or matches it with `*`
    /// (`idempotency.*`), as `--filter` does.
    pub fn filter(mut self, pattern: impl Into<String>) -> Conformance {
        self.filter = Some(pattern.into());
        self
    }

    /// Runs the cases and returns the report.
    pub async fn run(self) -> Result<Report, ConformanceError> {
        let mut suite = match self.suite {
            Some(suite) => suite,
            None => scenario::builtin()?,
        };
        if let Some(pattern) = &self.filter {
            suite.retain(|s| crate::runner::matches_filter(&s.case.id, pattern));
            if suite.is_empty() {
                return Err(ConformanceError::NoCase(pattern.clone()));
            }
        }
        let result = crate::runner::run(&self.config, suite, |_| {}).await?;
        Ok(Report {
            result,
            secret: self.config.webhook_id,
        })
    }
}

/// What a conformance run came to: the verdict, the cases, and the
/// reports the command writes, from the same result.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// The result model every report reads.
    pub result: RunResult,
    secret: String,
}

impl Report {
    /// Whether the run passed; `strict` as `--strict`: a `should` failure,
    /// or a case left unverified, fails it too.
    pub fn passed(&self, strict: bool) -> bool {
        self.result.passed(strict)
    }

    /// The cases that failed (`should` ones included).
    pub fn failures(&self) -> Vec<&CaseResult> {
        self.result
            .cases
            .iter()
            .filter(|c| c.status() == CaseStatus::Failed)
            .collect()
    }

    /// Each failure in a few lines: its id, what was expected and what came
    /// back (for an assertion's message).
    pub fn failures_text(&self) -> String {
        let text: Vec<String> = self
            .failures()
            .iter()
            .map(|c| format!("FAIL {} [{}]: {}", c.id, c.severity.name(), c.message()))
            .collect();
        self.options().redact(&text.join("\n"))
    }

    /// The JUnit XML report.
    pub fn junit(&self) -> Result<String, String> {
        crate::report::junit::render(&self.result, &self.options())
    }

    /// The JSON report.
    pub fn json(&self) -> String {
        crate::report::json::render(&self.result, &self.options())
    }

    /// The HTML report, titled `title`.
    pub fn html(&self, title: &str) -> String {
        crate::report::html::render(&self.result, &self.options(), title)
    }

    /// The Markdown summary, titled `title`.
    pub fn markdown(&self, title: &str) -> String {
        crate::report::markdown::render(&self.result, &self.options(), title)
    }

    /// The options every report is written with: the webhook id masked,
    /// not strict (each report says which failures fail the run).
    fn options(&self) -> ReportOptions {
        ReportOptions {
            strict: false,
            secret: Some(self.secret.clone()),
            show_secrets: false,
            lead: None,
        }
    }
}
