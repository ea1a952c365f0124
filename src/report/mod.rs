//! Reports of a run: console, JSON and JUnit, one file each.
//!
//! Every report shows the same words for a failure (requirement, expected,
//! actual), and masks the webhook id unless asked not to.

#[cfg(feature = "cli")]
pub(crate) mod console;
pub mod html;
pub mod json;
pub mod junit;
pub mod load_html;
pub mod markdown;

pub use crate::output::{console_on_stderr, console_to_stderr};

/// What every report needs besides the outcome.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Whether `should` failures fail the run.
    pub strict: bool,
    /// The webhook id to mask in everything written, unless `show_secrets`.
    pub secret: Option<String>,
    /// Print the secret in full.
    pub show_secrets: bool,
    /// What leads the report when one mistake explains most failures:
    /// the run's diagnosis, worded with its fix.
    pub lead: Option<Lead>,
}

/// A run's [`Diagnosis`](crate::result::Diagnosis) and the line that says
/// it with its fix (the fix may name command-line flags).
#[derive(Debug, Clone)]
pub struct Lead {
    /// What the failures had in common.
    pub diagnosis: crate::result::Diagnosis,
    /// It, in words, with the likely fix.
    pub words: String,
}

impl ReportOptions {
    /// Whether the run's diagnosis explains why `case` failed.
    pub fn explained(&self, case: &crate::result::CaseResult) -> bool {
        self.lead
            .as_ref()
            .is_some_and(|lead| lead.diagnosis.explains(case))
    }

    /// `text` with the secret masked (unless shown).
    pub fn redact(&self, text: &str) -> String {
        match (&self.secret, self.show_secrets) {
            (Some(secret), false) => crate::secret::redact(text, secret),
            _ => text.to_owned(),
        }
    }
}

/// Writes `contents` to `path`, saying where on failure.
pub fn write_file(path: &std::path::Path, contents: &str) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            format!(
                "cannot create folder {} for a report: {e}",
                parent.display()
            )
        })?;
    }
    std::fs::write(path, contents).map_err(|e| {
        format!(
            "cannot write report {}: {e}; check the path and permissions",
            path.display()
        )
    })
}

/// Appends `text` to the file GitHub Actions shows as the job's summary,
/// when `GITHUB_STEP_SUMMARY` names one.
pub fn append_step_summary(text: &str) -> Result<(), String> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            format!(
                "cannot append the summary to GITHUB_STEP_SUMMARY ({}): {e}",
                std::path::Path::new(&path).display()
            )
        })
}

/// Whether this process runs in CI: `CI` is set to anything but empty,
/// `false` or `0` (GitHub Actions, GitLab CI and most others set `CI=true`).
/// The one rule every command uses (progress bars, snapshot recording).
pub fn in_ci() -> bool {
    ci_value_means_ci(std::env::var("CI").ok().as_deref())
}

/// The rule behind [`in_ci`], for a value of `CI` (or its absence).
pub fn ci_value_means_ci(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_one_rule() {
        assert!(ci_value_means_ci(Some("true")));
        assert!(ci_value_means_ci(Some("1")));
        assert!(!ci_value_means_ci(Some("false")));
        assert!(!ci_value_means_ci(Some("0")));
        assert!(!ci_value_means_ci(Some("")));
        assert!(!ci_value_means_ci(None));
    }
}
