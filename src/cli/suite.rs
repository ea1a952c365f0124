//! `list` and `validate`: scenario files without sending anything.

use crate::scenario::{self, Scenario, ScenarioError};

use super::{ListArgs, ValidateArgs, exit};

/// Loads `paths`, or the built-in suite when there are none, checking ids are unique.
pub(super) fn load(
    paths: &[std::path::PathBuf],
    with_builtin: bool,
) -> Result<Vec<Scenario>, ScenarioError> {
    let mut all = if paths.is_empty() || with_builtin {
        scenario::builtin()?
    } else {
        Vec::new()
    };
    all.extend(scenario::load(paths)?);
    scenario::check_unique(&all)?;
    Ok(all)
}

pub(super) fn list(args: &ListArgs) -> i32 {
    let scenarios = match load(&args.paths, false) {
        Ok(s) => s,
        Err(e) => {
            crate::output::errln!("{e}");
            return exit::USAGE;
        }
    };
    let width = scenarios.iter().map(|s| s.case.id.len()).max().unwrap_or(0);
    let mut file = "";
    for s in &scenarios {
        if s.source.file != file {
            file = &s.source.file;
            crate::output::outln!("{file}");
        }
        crate::output::outln!(
            "  {:<width$}  {:<6}  {}",
            s.case.id,
            s.case.severity.name(),
            s.case.title
        );
    }
    crate::output::outln!("{}", crate::result::count(scenarios.len(), "case"));
    exit::SUCCESS
}

pub(super) fn validate(args: &ValidateArgs) -> i32 {
    match load(&args.paths, false) {
        Ok(s) => {
            let files: std::collections::BTreeSet<&str> =
                s.iter().map(|s| s.source.file.as_str()).collect();
            crate::output::outln!(
                "ok: {} in {}",
                crate::result::count(s.len(), "case"),
                crate::result::count(files.len(), "file")
            );
            exit::SUCCESS
        }
        Err(e) => {
            crate::output::errln!("{e}");
            exit::USAGE
        }
    }
}
