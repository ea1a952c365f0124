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
    if args.rules {
        return list_rules(&scenarios);
    }
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

/// The rules of the contract, each with the cases of `scenarios` that
/// verify it; exit 1 when a rule that can be verified is not.
fn list_rules(scenarios: &[Scenario]) -> i32 {
    let coverage = scenario::coverage(scenarios);
    let width = coverage.iter().map(|c| c.rule.id.len()).max().unwrap_or(0);
    let mut uncovered = 0;
    for c in &coverage {
        let (severity, verified) = match (c.severity, c.rule.untestable) {
            (Some(severity), _) => (severity.name(), c.cases.join(", ")),
            (None, Some(why)) => ("-", format!("not testable: {why}")),
            (None, None) => {
                uncovered += 1;
                ("-", "NOT VERIFIED by any case".to_owned())
            }
        };
        crate::output::outln!("{:<width$}  {severity:<6}  {verified}", c.rule.id);
        crate::output::outln!("{:<width$}  {:<6}  ({})", "", "", c.rule.says);
    }
    let testable = coverage
        .iter()
        .filter(|c| c.rule.untestable.is_none())
        .count();
    crate::output::outln!(
        "{} of {} testable rules verified; {} not testable",
        testable - uncovered,
        testable,
        coverage.len() - testable
    );
    if uncovered == 0 {
        exit::SUCCESS
    } else {
        exit::FAILURE
    }
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
