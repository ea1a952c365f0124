//! The tool as receiver authors install it: the Python wheel (maturin) into
//! a fresh virtual environment, the npm packages (the esbuild pattern) into
//! a fresh Express project, the GitHub Action's steps as a runner runs them,
//! and one version in all of them. Each reaches a passing `run --strict`
//! against the example receiver of its ecosystem, with no cargo on PATH.
//!
//! Needs maturin (tests/tools/hdrh.sh --install puts it in tests/tools/.venv)
//! and the example receivers' dependencies (their `run.sh --install`), as
//! `.ci/run` installs them; a missing one fails the test with what to run.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_webhook-harness");
const VERSION: &str = env!("CARGO_PKG_VERSION");
const WEBHOOK_ID: &str = "pkg_secret_4e1d";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wh-packages-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// PATH without any folder that holds `cargo` (a CI job of a Python or
/// Node project has none), with `first` in front.
fn path_without_cargo(first: &[&Path]) -> OsString {
    let old = std::env::var_os("PATH").unwrap_or_default();
    let kept = std::env::split_paths(&old).filter(|dir| !dir.join("cargo").exists());
    let path = std::env::join_paths(first.iter().map(|p| p.to_path_buf()).chain(kept)).unwrap();
    for dir in std::env::split_paths(&path) {
        assert!(
            !dir.join("cargo").exists(),
            "cargo is still on PATH in {}",
            dir.display()
        );
    }
    path
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run_ok(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(out.status.success(), "{command:?} failed:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The wheel, built once per test binary by maturin from this checkout (a
/// dev build, sharing target/: only what differs from the test build
/// compiles).
fn wheel() -> &'static Path {
    static WHEEL: OnceLock<PathBuf> = OnceLock::new();
    WHEEL.get_or_init(|| {
        let maturin = repo().join("tests/tools/.venv/bin/maturin");
        assert!(
            maturin.exists(),
            "{} is missing: run tests/tools/hdrh.sh --install",
            maturin.display()
        );
        let out = temp_dir("wheel");
        run_ok(
            Command::new(&maturin)
                .args(["build", "--profile", "dev", "--quiet", "--out"])
                .arg(&out)
                .current_dir(repo()),
        );
        let wheels: Vec<PathBuf> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(wheels.len(), 1, "{wheels:?}");
        let name = wheels[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!("webhook_harness-{VERSION}-py3-none-")),
            "{name}"
        );
        wheels[0].clone()
    })
}

/// A fresh virtual environment in `dir` with the wheel installed (from the
/// file, no index); its `bin` folder.
fn venv_with_wheel(dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    run_ok(Command::new("python3").arg("-m").arg("venv").arg(&venv));
    run_ok(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-index",
                "--disable-pip-version-check",
            ])
            .arg(wheel()),
    );
    venv.join("bin")
}

/// `run.sh` of an example receiver, checked to be installed.
fn example(name: &str, installed: &str) -> PathBuf {
    let dir = repo().join("examples/receivers").join(name);
    assert!(
        dir.join(installed).exists(),
        "{} is missing: run examples/receivers/{name}/run.sh --install",
        dir.join(installed).display()
    );
    dir.join("run.sh")
}

/// The arguments that serve an example receiver as two replicas sharing
/// one store, with its probe, on ports it picks.
fn served(run_sh: &Path) -> Vec<String> {
    [
        "--url",
        "http://127.0.0.1:0/webhook",
        "--effects-url",
        "http://127.0.0.1:0/test/effects?key={key}",
        "--serve",
        &format!("'{}' \"$PORT\"", run_sh.display()),
        "--serve-replicas",
        "2",
        "--serve-timeout",
        "600s",
    ]
    .map(String::from)
    .to_vec()
}

fn assert_passed_strict(out: &Output) {
    let all = text(out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains(" passed, 0 failed, 0 warnings, 0 skipped"),
        "{all}"
    );
    assert!(
        !all.contains(WEBHOOK_ID),
        "the webhook id was printed:\n{all}"
    );
}

#[test]
fn the_wheel_installs_with_pip_and_passes_the_suite_against_fastapi() {
    let run_sh = example("fastapi", ".venv/.installed");
    let dir = temp_dir("pip");
    let bin = venv_with_wheel(&dir);
    let path = path_without_cargo(&[&bin]);

    // On PATH as `webhook-harness`, and as `python -m webhook_harness`.
    let version = run_ok(
        Command::new("webhook-harness")
            .arg("--version")
            .env("PATH", &path),
    );
    assert_eq!(version.trim(), format!("webhook-harness {VERSION}"));
    let version = run_ok(
        Command::new(bin.join("python"))
            .args(["-m", "webhook_harness", "--version"])
            .env("PATH", &path),
    );
    assert_eq!(version.trim(), format!("webhook-harness {VERSION}"));

    let out = Command::new("webhook-harness")
        .args(["run", "--strict", "--no-config"])
        .args(served(&run_sh))
        .current_dir(&dir)
        .env("PATH", &path)
        .env("WEBHOOK_HARNESS_WEBHOOK_ID", WEBHOOK_ID)
        .env("WEBHOOK_HARNESS_DB", dir.join("webhooks.sqlite3"))
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert_passed_strict(&out);
    // With two replicas nothing is left unverified.
    assert!(!text(&out).contains("not applicable"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The two npm tarballs, packed by npm/pack.sh around the test build's binary.
fn npm_tarballs(dir: &Path) -> Vec<PathBuf> {
    let out = run_ok(
        Command::new(repo().join("npm/pack.sh"))
            .arg(BIN)
            .arg(dir.join("tarballs")),
    );
    let tarballs: Vec<PathBuf> = out.lines().map(PathBuf::from).collect();
    let names: Vec<String> = tarballs
        .iter()
        .map(|t| t.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            format!("webhook-harness-{VERSION}.tgz"),
            format!("webhook-harness-linux-x64-{VERSION}.tgz")
        ],
        "{out}"
    );
    tarballs
}

#[test]
fn the_npm_packages_install_and_pass_the_suite_from_npm_test_in_an_express_project() {
    let express = example("express", "node_modules/.package-lock.json");
    let express = express.parent().unwrap();
    let dir = temp_dir("npm");
    let tarballs = npm_tarballs(&dir);

    // A fresh project: the Express receiver as a customer has it, its
    // dependencies already installed, then the harness from the tarballs.
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    for file in ["server.js", "package.json", "package-lock.json"] {
        std::fs::copy(express.join(file), project.join(file)).unwrap();
    }
    run_ok(
        Command::new("cp")
            .arg("-R")
            .arg(express.join("node_modules"))
            .arg(&project),
    );
    let path = path_without_cargo(&[]);
    run_ok(
        Command::new("npm")
            .args([
                "install",
                "--offline",
                "--no-audit",
                "--no-fund",
                "--silent",
            ])
            .args(tarballs.iter().rev())
            .current_dir(&project)
            .env("PATH", &path),
    );
    let version = run_ok(
        Command::new("npx")
            .args(["--no-install", "webhook-harness", "--version"])
            .current_dir(&project)
            .env("PATH", &path),
    );
    assert_eq!(version.trim(), format!("webhook-harness {VERSION}"));

    // `npm test` runs the suite against the project's own server.
    let manifest = project.join("package.json");
    let mut package: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    package["scripts"]["test"] = serde_json::Value::String(
        "webhook-harness run --strict --no-config --url http://127.0.0.1:0/webhook \
         --effects-url 'http://127.0.0.1:0/test/effects?key={key}' \
         --serve 'WEBHOOK_HARNESS_TEST_PROBE=1 node server.js $PORT' --serve-replicas 2 \
         --report-junit junit.xml"
            .into(),
    );
    std::fs::write(&manifest, serde_json::to_string_pretty(&package).unwrap()).unwrap();
    let out = Command::new("npm")
        .args(["test", "--silent"])
        .current_dir(&project)
        .env("PATH", &path)
        .env("WEBHOOK_HARNESS_WEBHOOK_ID", WEBHOOK_ID)
        .env("WEBHOOK_HARNESS_DB", dir.join("webhooks.sqlite3"))
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert_passed_strict(&out);
    let junit = std::fs::read_to_string(project.join("junit.xml")).unwrap();
    assert!(junit.contains("idempotency.concurrent-copies"), "{junit}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `action.yml`, read as YAML.
fn action() -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

/// `${{ inputs.NAME }}` -> NAME; any other expression fails the test (the
/// simulated runner below knows no other).
fn input_of(expression: &str) -> &str {
    expression
        .strip_prefix("${{ inputs.")
        .and_then(|rest| rest.strip_suffix(" }}"))
        .unwrap_or_else(|| panic!("action.yml: `{expression}` is not `${{{{ inputs.NAME }}}}`"))
}

/// Runs the action's steps as a runner runs a composite action: each `run`
/// in `bash --noprofile --norc -eo pipefail`, its `env` from the inputs,
/// GITHUB_PATH lines added to PATH for later steps, GITHUB_OUTPUT read
/// back. Returns (the exit code of the step that ended it, the action's
/// outputs, stdout and stderr of all steps).
fn run_action(
    inputs: &BTreeMap<&str, &str>,
    job_env: &[(&str, &Path)],
    dir: &Path,
) -> (i32, BTreeMap<String, String>, String) {
    let action = action();
    let declared = action["inputs"].as_object().unwrap();
    for name in inputs.keys() {
        assert!(
            declared.contains_key(*name),
            "the action has no input {name}"
        );
    }
    let value = |name: &str| -> String {
        inputs
            .get(name)
            .map(|v| v.to_string())
            .unwrap_or_else(|| declared[name]["default"].as_str().unwrap_or("").to_owned())
    };
    let files = ["output", "summary", "path"].map(|f| dir.join(f));
    for f in &files {
        std::fs::write(f, "").unwrap();
    }
    let workspace = dir.join("workspace");
    let runner_temp = dir.join("runner-temp");
    std::fs::create_dir_all(&workspace).unwrap();
    std::fs::create_dir_all(&runner_temp).unwrap();
    assert_eq!(action["runs"]["using"], "composite");
    let mut log = String::new();
    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for step in action["runs"]["steps"].as_array().unwrap() {
        assert_eq!(step["shell"], "bash", "{step}");
        let script = dir.join("step.sh");
        std::fs::write(&script, step["run"].as_str().unwrap()).unwrap();
        let extra: Vec<PathBuf> = std::fs::read_to_string(&files[2])
            .unwrap()
            .lines()
            .map(PathBuf::from)
            .collect();
        let extra: Vec<&Path> = extra.iter().map(PathBuf::as_path).collect();
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(&workspace)
            .env("PATH", path_without_cargo(&extra))
            .env("GITHUB_ACTION_PATH", repo())
            .env("GITHUB_WORKSPACE", &workspace)
            .env("RUNNER_TEMP", &runner_temp)
            .env("GITHUB_OUTPUT", &files[0])
            .env("GITHUB_STEP_SUMMARY", &files[1])
            .env("GITHUB_PATH", &files[2])
            .env("GITHUB_ACTIONS", "true")
            .env("CI", "true")
            .env("NO_COLOR", "1")
            .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID");
        for (k, v) in job_env {
            command.env(k, v);
        }
        if let Some(env) = step["env"].as_object() {
            for (key, expression) in env {
                let name = input_of(expression.as_str().unwrap());
                assert!(declared.contains_key(name), "{key}: no input {name}");
                assert_eq!(
                    key,
                    &format!("INPUT_{}", name.to_uppercase().replace('-', "_"))
                );
                command.env(key, value(name));
            }
        }
        std::fs::write(&files[0], "").unwrap();
        let out = command.output().unwrap();
        log.push_str(&text(&out));
        if let Some(id) = step["id"].as_str() {
            let read = std::fs::read_to_string(&files[0]).unwrap();
            let values = read
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            outputs.insert(id.to_owned(), values);
        }
        let code = out.status.code().unwrap_or(-1);
        if code != 0 {
            return (code, BTreeMap::new(), log);
        }
    }
    let mut result = BTreeMap::new();
    for (name, output) in action["outputs"].as_object().unwrap() {
        let expression = output["value"].as_str().unwrap();
        let (step, key) = expression
            .strip_prefix("${{ steps.")
            .and_then(|r| r.strip_suffix(" }}"))
            .and_then(|r| r.split_once(".outputs."))
            .unwrap_or_else(|| panic!("output {name}: `{expression}`"));
        result.insert(name.clone(), outputs[step][key].clone());
    }
    (0, result, log)
}

#[test]
fn the_action_installs_the_wheel_and_passes_the_suite_against_fastapi() {
    let run_sh = example("fastapi", ".venv/.installed");
    let dir = temp_dir("action");
    let wheels = wheel().parent().unwrap().to_path_buf();
    let serve = format!("'{}' \"$PORT\"", run_sh.display());
    let inputs = BTreeMap::from([
        ("url", "http://127.0.0.1:0/webhook"),
        ("serve", serve.as_str()),
        ("webhook-id", WEBHOOK_ID),
        ("effects-url", "http://127.0.0.1:0/test/effects?key={key}"),
        (
            "args",
            "--serve-replicas 2 --serve-timeout 600s --no-config",
        ),
    ]);
    let db = dir.join("webhooks.sqlite3");
    // pip reads the wheel from a folder instead of PyPI: the action is the same.
    let job_env = [
        ("PIP_FIND_LINKS", wheels.as_path()),
        ("PIP_NO_INDEX", Path::new("1")),
        ("WEBHOOK_HARNESS_DB", db.as_path()),
    ];
    let (code, outputs, log) = run_action(&inputs, &job_env, &dir);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains(&format!("webhook-harness {VERSION} installed")),
        "{log}"
    );
    assert!(log.contains(&format!("::add-mask::{WEBHOOK_ID}")), "{log}");
    assert_eq!(outputs["exit-code"], "0", "{outputs:?}");
    let workspace = dir.join("workspace");
    assert_eq!(
        PathBuf::from(&outputs["junit"]),
        workspace.join("webhook-harness-reports/junit.xml")
    );
    let junit = std::fs::read_to_string(&outputs["junit"]).unwrap();
    assert!(
        junit.contains("durability.duplicate-on-another-replica"),
        "{junit}"
    );
    let html = std::fs::read_to_string(&outputs["html"]).unwrap();
    assert!(html.contains("<html"), "{html}");
    let summary = std::fs::read_to_string(dir.join("summary")).unwrap();
    assert!(summary.contains("0 failed"), "{summary}");
    for (what, text) in [("summary", &summary), ("JUnit", &junit), ("HTML", &html)] {
        assert!(
            !text.contains(WEBHOOK_ID),
            "the webhook id is in the {what}"
        );
    }

    // A mistyped input stops the run step with what to write instead.
    let inputs = BTreeMap::from([("strict", "yes")]);
    let (code, _, log) = run_action(&inputs, &job_env, &dir);
    assert_eq!(code, 2, "{log}");
    assert!(
        log.contains("the strict input is 'yes'; use true or false"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_version_in_the_crate_the_binary_the_wheel_the_npm_packages_and_the_action() {
    let version = run_ok(Command::new(BIN).arg("--version"));
    assert_eq!(version.trim(), format!("webhook-harness {VERSION}"));

    let read = |path: &str| std::fs::read_to_string(repo().join(path)).unwrap();
    let launcher: serde_json::Value =
        serde_json::from_str(&read("npm/webhook-harness/package.json")).unwrap();
    let platform: serde_json::Value =
        serde_json::from_str(&read("npm/linux-x64/package.json")).unwrap();
    assert_eq!(launcher["version"], VERSION);
    assert_eq!(platform["version"], VERSION);
    let optional = launcher["optionalDependencies"].as_object().unwrap();
    assert_eq!(optional.len(), 1, "{optional:?}");
    assert_eq!(optional[platform["name"].as_str().unwrap()], VERSION);
    // The launcher names every platform package it may load.
    let script = read("npm/webhook-harness/bin/webhook-harness.js");
    assert!(script.contains(&format!(
        "\"linux x64\": \"{}\"",
        platform["name"].as_str().unwrap()
    )));

    assert_eq!(action()["inputs"]["version"]["default"], VERSION);

    // The wheel takes Cargo.toml's version (its file name is checked where it is built).
    let pyproject: toml::Table = read("pyproject.toml").parse().unwrap();
    let project = pyproject["project"].as_table().unwrap();
    assert!(
        !project.contains_key("version"),
        "pyproject.toml must not set its own version"
    );
    assert_eq!(
        project["dynamic"].as_array().unwrap(),
        &vec![toml::Value::from("version")]
    );
    assert_eq!(project["name"].as_str(), Some("webhook-harness"));
}
