//! `webhook-harness.toml`: what a project sets once. Keys are spelled as the
//! long flags are; the file's values become the flags' defaults, so the
//! precedence is flags, then environment, then file, then built-in defaults.
//! The webhook id itself is never read from the file: `webhook-id-env`
//! names the variable that holds it.

use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
#[cfg(test)]
use schemars::JsonSchema;
use serde::Deserialize;

/// The file looked for in the working directory.
pub const FILE_NAME: &str = "webhook-harness.toml";

/// The settings a `webhook-harness.toml` may hold.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[cfg_attr(test, schemars(title = "webhook-harness configuration file"))]
pub struct ConfigFile {
    /// The receiver's endpoint (`--url`).
    pub url: Option<String>,
    /// The effects probe template with `{key}` (`--effects-url`).
    pub effects_url: Option<String>,
    /// The name of the environment variable holding the webhook id (never the id).
    pub webhook_id_env: Option<String>,
    /// Time allowed per attempt, e.g. `5s` (`--timeout`).
    pub timeout: Option<String>,
    /// Retries after the first attempt (`--retries`).
    pub retries: Option<u32>,
    /// Delay before the first retry (`--backoff`).
    pub backoff: Option<String>,
    /// Cases (or fuzz requests) at once (`--jobs`).
    pub jobs: Option<u16>,
    /// Scenario files or folders `run` reads.
    pub paths: Option<Vec<String>>,
    /// `should` failures fail the run (`--strict`).
    pub strict: Option<bool>,
    /// A deadline for the whole run, e.g. `10m` (`--max-time`).
    pub max_time: Option<String>,
    /// The snapshot folder (`--snapshots`).
    pub snapshots: Option<String>,
    /// JSON fields redacted in snapshots (`--redact-field`).
    pub redact_field: Option<Vec<String>>,
    /// The command that starts the receiver (`--serve`).
    pub serve: Option<String>,
    /// How long to wait for it (`--serve-timeout`).
    pub serve_timeout: Option<String>,
    /// Where the JSON report goes (`--report-json`).
    pub report_json: Option<String>,
    /// Where the JUnit report goes (`--report-junit`).
    pub report_junit: Option<String>,
    /// Where the HTML report goes (`--report-html`).
    pub report_html: Option<String>,
    /// Where the Markdown summary goes (`--report-markdown`).
    pub report_markdown: Option<String>,
}

/// The config file's JSON Schema: the committed `schema/config.schema.json`,
/// kept equal to what schemars derives from [`ConfigFile`] by a unit test (as
/// the scenario schema is).
pub fn json_schema() -> &'static str {
    include_str!("../../schema/config.schema.json")
}

/// A loaded file: where it was, and its settings as (flag id, values).
#[derive(Debug, Default)]
pub struct Loaded {
    /// The file read, if any.
    pub path: Option<PathBuf>,
    /// Each setting: the clap id of its flag and its values.
    pub settings: Vec<(&'static str, Vec<String>)>,
}

/// Reads `explicit` (an error if missing) or `webhook-harness.toml` in the
/// working directory (nothing if missing).
pub fn load(explicit: Option<&Path>) -> Result<Loaded, String> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None => {
            let here = PathBuf::from(FILE_NAME);
            if !here.is_file() {
                return Ok(Loaded::default());
            }
            here
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read the config file {}: {e}; check the path given to --config",
            path.display()
        )
    })?;
    parse(&path, &text)
}

/// Parses a config file's text (named `path` in messages).
pub fn parse(path: &Path, text: &str) -> Result<Loaded, String> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| {
        let hint = if e.message().contains("webhook-id`") {
            "; the webhook id is a secret and never goes in the file: put it in an environment variable and name that variable with `webhook-id-env`"
        } else {
            ""
        };
        let at = e
            .span()
            .map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("{}:{line}:{column}", path.display())
            })
            .unwrap_or_else(|| path.display().to_string());
        format!("{at}: {}{hint}", e.message().trim())
    })?;
    let mut settings: Vec<(&'static str, Vec<String>)> = Vec::new();
    let mut one = |id: &'static str, value: Option<String>| {
        if let Some(v) = value {
            settings.push((id, vec![v]));
        }
    };
    one("url", file.url);
    one("effects_url", file.effects_url);
    one("timeout", file.timeout);
    one("retries", file.retries.map(|v| v.to_string()));
    one("backoff", file.backoff);
    one("jobs", file.jobs.map(|v| v.to_string()));
    one("strict", file.strict.map(|v| v.to_string()));
    one("max_time", file.max_time);
    one("snapshots", file.snapshots);
    one("serve", file.serve);
    one("serve_timeout", file.serve_timeout);
    one("report_json", file.report_json);
    one("report_junit", file.report_junit);
    one("report_html", file.report_html);
    one("report_markdown", file.report_markdown);
    if let Some(paths) = file.paths {
        settings.push(("paths", paths));
    }
    if let Some(fields) = file.redact_field {
        settings.push(("redact_field", fields));
    }
    if let Some(var) = file.webhook_id_env {
        let is_name = !var.is_empty()
            && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !var.as_bytes()[0].is_ascii_digit()
            && !looks_like_an_id(&var);
        if !is_name {
            return Err(format!(
                "{}: `webhook-id-env` must name an environment variable (like MY_WEBHOOK_ID), not hold the id: the id is a secret and never goes in the file",
                path.display()
            ));
        }
        // The variable's value stands below the flag and WEBHOOK_HARNESS_WEBHOOK_ID.
        match std::env::var(&var) {
            Ok(id) => settings.push(("webhook_id", vec![id])),
            Err(_) if std::env::var_os("WEBHOOK_HARNESS_WEBHOOK_ID").is_none() => {
                crate::output::errln!(
                    "warning: {}: webhook-id-env names {var}, which is not set: the default webhook id is used unless --webhook-id is given",
                    path.display()
                )
            }
            Err(_) => {}
        }
    }
    Ok(Loaded {
        path: Some(path.to_owned()),
        settings,
    })
}

/// Whether a would-be variable name looks like an id instead (mixed case
/// with digits, as generated secrets are; variable names are one case).
fn looks_like_an_id(name: &str) -> bool {
    let (upper, lower) = (
        name.bytes().any(|b| b.is_ascii_uppercase()),
        name.bytes().any(|b| b.is_ascii_lowercase()),
    );
    (upper && lower) || name.starts_with("whsec_") || name.starts_with("wh_")
}

/// The settings a command took from the file, once its line is parsed.
#[derive(Debug, Default)]
pub struct InUse {
    /// The file read, if any.
    pub path: Option<PathBuf>,
    /// The clap ids of the flags whose values came from it.
    pub from_file: Vec<&'static str>,
}

static IN_USE: std::sync::OnceLock<InUse> = std::sync::OnceLock::new();

/// Records which of `loaded`'s settings the parsed subcommand `sub` took
/// (a flag or the environment wins over the file).
pub fn record_in_use(loaded: &Loaded, sub: &clap::ArgMatches) {
    let from_file = loaded
        .settings
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| sub.ids().any(|i| i.as_str() == *id))
        .filter(|id| sub.value_source(id) == Some(ValueSource::DefaultValue))
        .collect();
    let _ = IN_USE.set(InUse {
        path: loaded.path.clone(),
        from_file,
    });
}

/// The config file the command took `id` from, if it took it from one.
pub fn file_of(id: &str) -> Option<&'static Path> {
    let in_use = IN_USE.get()?;
    in_use
        .from_file
        .contains(&id)
        .then_some(in_use.path.as_deref())
        .flatten()
}

/// ` (settings from FILE)` for a command's banner when it took any setting
/// from a config file; empty otherwise.
pub fn banner_note() -> String {
    match IN_USE.get() {
        Some(InUse {
            path: Some(path),
            from_file,
        }) if !from_file.is_empty() => format!(" (settings from {})", path.display()),
        _ => String::new(),
    }
}

/// Flags a config file does not set for a command, with the reason: `send`
/// delivers one event to a URL given on its command line, and a project's
/// `serve` (meant for `run`) would start the receiver under it unasked.
const NOT_FROM_FILE: &[(&str, &[&str])] = &[("send", &["serve", "serve_timeout"])];

/// `command` with the file's settings as the defaults of the subcommands'
/// flags that have them.
pub fn apply(mut command: clap::Command, loaded: &Loaded) -> clap::Command {
    if loaded.settings.is_empty() {
        return command;
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        command = command.mut_subcommand(name, |mut sub| {
            let skipped: &[&str] = NOT_FROM_FILE
                .iter()
                .find(|(command, _)| *command == sub.get_name())
                .map_or(&[], |(_, ids)| ids);
            for (id, values) in &loaded.settings {
                if sub.get_arguments().any(|a| a.get_id() == *id) && !skipped.contains(id) {
                    // clap keeps defaults as 'static: the file's few values
                    // live as long as the process anyway.
                    let values: Vec<clap::builder::OsStr> = values
                        .iter()
                        .map(|v| {
                            clap::builder::OsStr::from(&*Box::leak(v.clone().into_boxed_str()))
                        })
                        .collect();
                    sub = sub.mut_arg(*id, |a| a.default_values(values));
                }
            }
            sub
        });
    }
    command
}

/// The effective settings of `subcommand` with their sources, one per line.
pub fn describe(
    command: clap::Command,
    subcommand: &str,
    flags: &[String],
    loaded: &Loaded,
) -> Result<String, String> {
    let args = ["webhook-harness", subcommand]
        .into_iter()
        .map(str::to_owned)
        .chain(flags.iter().cloned());
    let matches = command
        .try_get_matches_from(args)
        .map_err(|e| e.to_string())?;
    let Some(sub) = matches.subcommand_matches(subcommand) else {
        return Err(format!("`{subcommand}` is not a command"));
    };
    let from_file: Vec<&str> = loaded.settings.iter().map(|(id, _)| *id).collect();
    let mut out = format!(
        "settings for `{subcommand}` (config file: {})\n",
        loaded
            .path
            .as_ref()
            .map_or("none".to_owned(), |p| p.display().to_string())
    );
    // Argument ids only (clap lists the groups of flattened structs too).
    let mut ids: Vec<String> = sub
        .ids()
        .map(|i| i.as_str().to_owned())
        .filter(|i| !i.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect();
    ids.sort();
    for id in ids {
        let Ok(Some(values)) = sub.try_get_raw(&id) else {
            continue;
        };
        let values: Vec<String> = values.map(|v| v.to_string_lossy().into_owned()).collect();
        let shown = if id == "webhook_id" {
            values
                .iter()
                .map(|v| crate::secret::mask(v))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            values.join(" ")
        };
        let source = match sub.value_source(&id) {
            Some(ValueSource::CommandLine) => "flag",
            Some(ValueSource::EnvVariable) => "environment",
            Some(ValueSource::DefaultValue) if from_file.contains(&id.as_str()) => "config file",
            Some(ValueSource::DefaultValue) => "default",
            _ => "default",
        };
        out.push_str(&format!(
            "  {:<16} {shown}  ({source})\n",
            id.replace('_', "-")
        ));
    }
    // The id masked wherever else it stands too (a URL that carries it).
    if let Ok(Some(mut id)) = sub.try_get_raw("webhook_id")
        && let Some(id) = id.next()
    {
        out = crate::secret::redact(&out, &id.to_string_lossy());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_schema_is_the_config_files() {
        crate::scenario::check_schema_file(
            &schemars::schema_for!(super::ConfigFile),
            super::json_schema(),
            "schema/config.schema.json",
        );
    }

    use super::*;

    #[test]
    fn unknown_keys_and_ids_in_the_file_are_refused_with_where() {
        let p = Path::new("webhook-harness.toml");
        let e = parse(
            p,
            "url = \"http://127.0.0.1:3000/webhook\"\ntimout = \"5s\"\n",
        )
        .unwrap_err();
        assert!(e.starts_with("webhook-harness.toml:2:1:"), "{e}");
        assert!(e.contains("timout"), "{e}");
        let e = parse(p, "webhook-id = \"whsec_abc\"\n").unwrap_err();
        assert!(e.contains("never goes in the file"), "{e}");
        let e = parse(p, "webhook-id-env = \"whsec_abc123\"\n").unwrap_err();
        assert!(e.contains("must name an environment variable"), "{e}");
        let e = parse(p, "webhook-id-env = \"AhALzdz8S\"\n").unwrap_err();
        assert!(e.contains("must name an environment variable"), "{e}");
        assert!(parse(p, "webhook-id-env = \"my_webhook_id\"\n").is_ok());
        let ok = parse(p, "jobs = 4\npaths = [\"a\", \"b\"]\n").unwrap();
        assert_eq!(ok.settings.len(), 2);
    }
}
