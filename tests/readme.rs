//! The command outputs of the README and of the pages in docs/ are
//! produced here, so they cannot drift from
//! the tool. A block marked `<!-- output: NAME -->` (on the line before its
//! fence) must match what the producer `NAME` below prints now.
//!
//! Matching: ports, durations, latencies, generated keys and run ids are
//! normalised on both sides (`load` compares every number that way); a line
//! that is only `...` in the README stands for any number of lines, and
//! `[..]` inside a line for any text. The JSON report's example, marked
//! `<!-- output-fields: json-report -->`, must show only fields the tool
//! writes, and every top-level one. `UPDATE_README=1 cargo test --test
//! readme` writes the current outputs into the README (then put the `...`
//! elisions back by hand).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use regex::Regex;

const BIN: &str = env!("CARGO_BIN_EXE_webhook-harness");
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
const MISTAKES_GUIDE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/receiver-mistakes.md");
const CONTRACT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/sender-contract.md");
const COMMANDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md");
const CI_PAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ci.md");

/// The README and every page of docs/.
fn pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![PathBuf::from(README)];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// Checks each produced output against the page that has its block
/// (the README or a page of docs/); every output must have one.
fn check_pages(produced: Vec<(&str, String, bool)>) {
    let mut left = produced;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let names: Vec<String> = marked_blocks(&text, "output")
            .into_iter()
            .map(|(n, _, _)| n)
            .collect();
        let (here, rest): (Vec<_>, Vec<_>) = left
            .into_iter()
            .partition(|(n, _, _)| names.iter().any(|m| m == n));
        left = rest;
        if !here.is_empty() {
            check_outputs(page.to_str().unwrap(), here);
        }
    }
    let missing: Vec<&str> = left.iter().map(|(n, _, _)| *n).collect();
    assert!(missing.is_empty(), "no page has a block marked {missing:?}");
}

fn harness_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    common::process::harness_in(dir, args, &[])
}

thread_local! {
    /// The folders [`temp_dir`] made on this test's thread.
    static MADE: std::cell::RefCell<Vec<PathBuf>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Removes the folders [`temp_dir`] made on this test's thread.
fn remove_temp_dirs() {
    for dir in MADE.with(|made| std::mem::take(&mut *made.borrow_mut())) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wh-readme-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    MADE.with(|made| made.borrow_mut().push(dir.clone()));
    dir
}

/// A test receiver with `bug`, served from a runtime of its own.
fn background_receiver(bug: common::Bug) -> (tokio::runtime::Runtime, common::TestReceiver) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = rt.block_on(common::TestReceiver::start(bug));
    (rt, receiver)
}

/// The reasons printed for the first failing case: its block after the
/// verdict lines (the `FAIL` line followed by `  -> `), to its `at` line.
fn failure_block(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = (1..lines.len())
        .find(|&i| lines[i].starts_with("  -> ") && lines[i - 1].starts_with("FAIL"))
        .unwrap_or_else(|| panic!("no failure's reasons in\n{text}"))
        - 1;
    let end = start
        + lines[start..]
            .iter()
            .position(|l| l.starts_with("     at "))
            .unwrap_or_else(|| panic!("no `at` line in\n{text}"));
    lines[start..=end].join("\n")
}

/// The lines of `text` from the first starting with `from` to the first
/// after it starting with `to` (inclusive).
fn cut(text: &str, from: &str, to: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with(from))
        .unwrap_or_else(|| panic!("no line starting with {from:?} in\n{text}"));
    let end = start
        + lines[start..]
            .iter()
            .position(|l| l.starts_with(to))
            .unwrap_or_else(|| panic!("no line starting with {to:?} in\n{text}"));
    lines[start..=end].join("\n")
}

fn quick_start() -> String {
    let (code, stdout, _) = harness_in(&temp_dir("quick"), &["run"]);
    assert_eq!(code, 0, "{stdout}");
    stdout
}

fn run_failure() -> String {
    let (_rt, receiver) = background_receiver(common::Bug::RacyDedup);
    let (code, stdout, _) = harness_in(
        &temp_dir("failure"),
        &[
            "run",
            "--url",
            &receiver.url(),
            "--webhook-id",
            common::WEBHOOK_ID,
            "--effects-url",
            &receiver.effects_url(),
            "--filter",
            "idempotency.concurrent-copies",
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    failure_block(&stdout)
}

fn send() -> String {
    let receiver = common::process::start_receiver(&["--webhook-id", common::WEBHOOK_ID]);
    let (code, stdout, stderr) = harness_in(
        &temp_dir("send"),
        &[
            "send",
            "generation.completed",
            "--url",
            &receiver.url,
            "--webhook-id",
            common::WEBHOOK_ID,
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    stdout
}

/// The fuzz finding and its replay, in one folder.
fn fuzz() -> (String, String) {
    let (_rt, receiver) = background_receiver(common::Bug::NonAsciiInResponse);
    let dir = temp_dir("fuzz");
    let url = receiver.url();
    let id = common::WEBHOOK_ID;
    let (code, finding, _) = harness_in(
        &dir,
        &[
            "fuzz",
            "--url",
            &url,
            "--webhook-id",
            id,
            "--seed",
            "4",
            "--cases",
            "2000",
        ],
    );
    assert_eq!(code, 1, "{finding}");
    let (code, replay, _) = harness_in(
        &dir,
        &["run", "fuzz-findings/", "--url", &url, "--webhook-id", id],
    );
    assert_eq!(code, 1, "{replay}");
    let replay = format!(
        "$ webhook-harness run fuzz-findings/ --url {url} --webhook-id \"$YOUR_WEBHOOK_ID\"\n{}",
        cut(&replay, "still failing", "       Actual:")
    );
    (finding, replay)
}

/// Three runners with `--hdr-log` at once, then `load merge`.
fn load_merge() -> String {
    let receiver = common::process::start_receiver(&[]);
    common::process::three_runners_merged(&temp_dir("load-merge"), &receiver.url)
}

fn load() -> String {
    let receiver = common::process::start_receiver(&[]);
    let effects = receiver.url.replace("/webhook", "/test/effects?key={key}");
    let (code, stdout, stderr) = harness_in(
        &temp_dir("load"),
        &[
            "load",
            "--url",
            &receiver.url,
            "--webhook-id",
            common::WEBHOOK_ID,
            "--effects-url",
            &effects,
            "--concurrency",
            "64",
            "--duration",
            "1s",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    stdout
}

fn snapshot_diff() -> String {
    let dir = temp_dir("snapshots");
    let filter = ["--filter", "events.webhook-test"];
    let (code, stdout, _) = harness_in(&dir, &[&["run", "--snapshots"][..], &filter].concat());
    assert_eq!(code, 0, "{stdout}");
    let (_rt, other) = background_receiver(common::Bug::None);
    let url = other.url();
    let args = [
        &["run", "--snapshots", "--url", &url, "--webhook-id"][..],
        &[common::WEBHOOK_ID],
        &filter,
    ]
    .concat();
    let (code, stdout, _) = harness_in(&dir, &args);
    assert_eq!(code, 1, "{stdout}");
    let diff = cut(&stdout, "snapshot changed", "snapshots:");
    let review = cut(&stdout, "review with", "review with");
    // The summary lines between the diff and the hint are left out.
    let diff: Vec<&str> = diff
        .lines()
        .filter(|l| !l.starts_with("snapshots:"))
        .collect();
    format!("{}\n{review}", diff.join("\n"))
}

/// The `.snap` file a run records for one case.
fn snapshot_file() -> String {
    let dir = temp_dir("snapshot-file");
    let case = "idempotency.sequential-duplicate";
    let (code, stdout, _) = harness_in(&dir, &["run", "--snapshots", "--filter", case]);
    assert_eq!(code, 0, "{stdout}");
    std::fs::read_to_string(dir.join(format!("snapshots/receiver/{case}.snap"))).unwrap()
}

/// `proxy --record` in front of the reference receiver, two deliveries
/// through it, then Ctrl-C: the proxy's output, and the first recording.
fn proxy_session() -> (String, String) {
    use std::io::BufRead;
    let dir = temp_dir("proxy");
    let receiver = common::process::start_receiver(&["--webhook-id", common::WEBHOOK_ID]);
    let mut proxy = Command::new(BIN)
        .args(["proxy", "--listen", "127.0.0.1:0", "--to", &receiver.url])
        .args(["--record", "recordings/"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(proxy.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let listening = first
        .trim_start_matches("proxy: listening on ")
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    let url = format!("{listening}/webhook");
    let id = common::WEBHOOK_ID;
    let sends: [&[&str]; 2] = [
        &[
            "send",
            "generation.completed",
            "--url",
            &url,
            "--webhook-id",
            id,
        ],
        &[
            "send",
            "test",
            "--url",
            &url,
            "--webhook-id",
            id,
            "--add",
            "data.brandNew=1",
        ],
    ];
    for args in sends {
        let (code, stdout, stderr) = harness_in(&dir, args);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    let mut output = vec![first];
    while output.iter().filter(|l| l.contains(" -> ")).count() < 4 {
        output.push(lines.next().unwrap().unwrap());
    }
    // SAFETY: kill(2) with the pid of our own child.
    unsafe { libc::kill(proxy.id() as libc::pid_t, libc::SIGINT) };
    output.extend(lines.map_while(Result::ok));
    let _ = proxy.wait();
    output.insert(output.len() - 1, "^C".to_owned());
    let recordings = dir.join("recordings");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&recordings)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let recording = std::fs::read_to_string(&files[0]).unwrap();
    (output.join("\n"), recording)
}

fn usage_errors() -> String {
    let dir = temp_dir("usage");
    let (code, _, timeout) = harness_in(&dir, &["run", "--timeout", "soon"]);
    assert_eq!(code, 2);
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let (code, _, port_in_use) = harness_in(&dir, &["receive", "--port", &port]);
    assert_eq!(code, 2);
    format!("{timeout}{port_in_use}")
}

fn scenario_error() -> String {
    let dir = temp_dir("scenario");
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::write(
        dir.join("scenarios/mine.yaml"),
        "cases:\n  - id: mine.typo\n    title: A typo in a step\n    steps:\n      - delivr:\n          event: generation.completed\n",
    )
    .unwrap();
    let (code, _, stderr) = harness_in(&dir, &["validate", "scenarios/mine.yaml"]);
    assert_eq!(code, 2, "{stderr}");
    stderr
}

/// The volatile parts of an output, replaced on both sides before comparing.
fn normalise(text: &str, numbers: bool) -> String {
    let rules: &[(&str, &str)] = &[
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"\b\d+(\.\d+)?(ms|µs|us|ns|s)\b", "DURATION"),
        (r"\b(gen|emb|grp|fuzz|wht)_[A-Za-z0-9_]+", "KEY"),
        (r"\brun_[A-Za-z0-9]+", "RUN"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "TIME"),
        (r"chatcmpl-[A-Za-z0-9]+", "chatcmpl-ID"),
        (r"\d+ cases/s", "N cases/s"),
        // How many fuzz cases were in flight when a finding stopped the run.
        (r"^\d+ cases \([^)]*\)", "N cases (KINDS)"),
        (r"\bs\d+-c\d+\b", "sSEED-cCASE"),
    ];
    let mut text = text.trim_end().to_owned();
    for (pattern, with) in rules {
        text = Regex::new(&format!("(?m){pattern}"))
            .unwrap()
            .replace_all(&text, *with)
            .into_owned();
    }
    if numbers {
        text = Regex::new(r"\d+(\.\d+)?")
            .unwrap()
            .replace_all(&text, "N")
            .into_owned();
    }
    text
}

/// Whether `actual` matches the README's `expected` lines, where a line
/// `...` stands for any lines and `[..]` inside a line for any text.
fn matches(expected: &[&str], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((line, rest)) if line.trim() == "..." => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((line, rest)) => {
            actual.first().is_some_and(|a| line_matches(line, a)) && matches(rest, &actual[1..])
        }
    }
}

fn line_matches(expected: &str, actual: &str) -> bool {
    if !expected.contains("[..]") {
        return expected == actual;
    }
    let pattern = expected
        .split("[..]")
        .map(regex::escape)
        .collect::<Vec<_>>()
        .join(".*");
    Regex::new(&format!("^{pattern}$"))
        .unwrap()
        .is_match(actual)
}

/// The blocks of the README marked `<!-- KIND: NAME -->`: (name, first
/// line of the body, body).
fn marked_blocks(readme: &str, kind: &str) -> Vec<(String, usize, String)> {
    let marker = format!("<!-- {kind}: ");
    let lines: Vec<&str> = readme.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(name) = lines[i]
            .strip_prefix(marker.as_str())
            .and_then(|r| r.strip_suffix(" -->"))
        {
            assert!(
                lines.get(i + 1).is_some_and(|l| l.starts_with("```")),
                "README.md:{}: a marker must be followed by a fence",
                i + 1
            );
            let start = i + 2;
            let len = lines[start..]
                .iter()
                .position(|l| l.starts_with("```"))
                .expect("a closing fence");
            blocks.push((name.to_owned(), start, lines[start..start + len].join("\n")));
            i = start + len;
        }
        i += 1;
    }
    blocks
}

#[test]
fn every_output_in_the_readme_is_what_the_tool_prints() {
    let (fuzz_finding, fuzz_replay) = fuzz();
    let (proxy_output, recording) = proxy_session();
    let produced: Vec<(&str, String, bool)> = vec![
        ("quick-start", quick_start(), false),
        ("run-failure", run_failure(), false),
        ("send", send(), false),
        ("fuzz-finding", fuzz_finding, false),
        ("fuzz-replay", fuzz_replay, false),
        ("load", load(), true),
        ("load-merge", load_merge(), true),
        ("snapshot-diff", snapshot_diff(), false),
        ("snapshot-file", snapshot_file(), false),
        ("usage-errors", usage_errors(), false),
        ("scenario-error", scenario_error(), false),
        ("proxy", proxy_output, false),
        ("recording", recording, false),
        ("durability", mistake_in_memory("readme-durability"), false),
        ("sequences", sequences(), false),
    ];
    check_pages(produced);
}

/// Each mistake of `docs/receiver-mistakes.md`: the test receiver with it,
/// and the case of the built-in suite that catches it.
const MISTAKES: &[(&str, common::Bug, &str)] = &[
    // Served by a receiver that refuses a body over 1 MiB as frameworks
    // do, early and closing the connection (see `mistake`).
    (
        "body-limit",
        common::Bug::SmallBodyLimit,
        "limits.large-payload",
    ),
    (
        "options",
        common::Bug::OptionsNotAllowed,
        "readiness.options-2xx",
    ),
    (
        "race",
        common::Bug::RacyDedup,
        "idempotency.concurrent-copies",
    ),
    (
        "duplicate-409",
        common::Bug::ConflictOnDuplicate,
        "idempotency.duplicate-answered-2xx",
    ),
    (
        "malformed-500",
        common::Bug::CrashesOnBadInput,
        "input.malformed-json",
    ),
    ("slow", common::Bug::Slow, "limits.fast-answer"),
    (
        "test-webhook-id",
        common::Bug::RequiresCamelWebhookId,
        "events.webhook-test",
    ),
    (
        "group-key",
        common::Bug::KeysGroupsByGenerationId,
        "idempotency.group-effect-once",
    ),
    ("redirect", common::Bug::Redirects, "events.no-redirect"),
    (
        "retry-after-5xx",
        common::Bug::FailsFirstGroupAttempt,
        "idempotency.retry-after-failure",
    ),
];

/// What `run --strict` prints for the case that catches `bug`. A small
/// body limit is served as the popular frameworks enforce it: the 413
/// sent as soon as the head is read, and the connection closed while the
/// body is still being written.
fn mistake(name: &str, bug: common::Bug, case: &str) -> String {
    let (_rt, receiver) = background_receiver(bug);
    let early = (bug == common::Bug::SmallBodyLimit)
        .then(|| common::hostile::BodyLimitReceiver::start(1 << 20, common::hostile::Close::Plain));
    let url = early
        .as_ref()
        .map_or_else(|| receiver.url(), |r| r.url.clone());
    let (code, stdout, stderr) = harness_in(
        &temp_dir(&format!("mistake-{name}")),
        &[
            "run",
            "--strict",
            "--url",
            &url,
            "--webhook-id",
            common::WEBHOOK_ID,
            "--effects-url",
            &receiver.effects_url(),
            "--filter",
            case,
        ],
    );
    assert_eq!(code, 1, "{name}: {case} did not fail\n{stdout}\n{stderr}");
    failure_block(&stdout)
}

/// `fuzz --sequences` against a receiver whose dedupe cache holds 1000
/// keys: found at once with seed 1 and shrunk to one duplicate after 1100
/// others.
fn sequences() -> String {
    let (_rt, receiver) = background_receiver(common::Bug::DedupeBounded);
    let (code, stdout, stderr) = harness_in(
        &temp_dir("sequences"),
        &[
            "fuzz",
            "--sequences",
            "--seed",
            "1",
            "--cases",
            "10",
            "--url",
            &receiver.url(),
            "--webhook-id",
            common::WEBHOOK_ID,
            "--effects-url",
            &receiver.effects_url(),
        ],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    stdout
}

/// Mistake 11, which only a receiver the harness starts shows: the
/// `broken_receiver` example with its handled keys in memory (its work
/// counted in a file both replicas share), served as two replicas. The
/// diagnosis, then the first failure's reasons.
fn mistake_in_memory(name: &str) -> String {
    let dir = temp_dir(name);
    let command = format!(
        "exec {} dedupe-in-memory --store {}",
        common::process::broken_receiver().display(),
        dir.join("work.sqlite").display()
    );
    let (code, stdout, stderr) = harness_in(
        &dir,
        &[
            "run",
            "--strict",
            "--url",
            "http://127.0.0.1:0/webhook",
            "--effects-url",
            "http://127.0.0.1:0/test/effects?key={key}",
            "--webhook-id",
            common::WEBHOOK_ID,
            "--serve",
            &command,
            "--serve-replicas",
            "2",
            "--serve-timeout",
            "60s",
            "--filter",
            "durability",
        ],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let diagnosis = stdout
        .lines()
        .find(|l| l.starts_with("diagnosis: "))
        .unwrap_or_else(|| panic!("no diagnosis in\n{stdout}"));
    format!("{diagnosis}\n{}", failure_block(&stdout))
}

#[test]
fn every_output_in_the_receiver_mistakes_guide_is_what_the_tool_prints() {
    let names: Vec<String> = MISTAKES
        .iter()
        .map(|(name, _, _)| format!("mistake-{name}"))
        .collect();
    let produced = MISTAKES
        .iter()
        .zip(&names)
        .map(|((name, bug, case), marker)| (marker.as_str(), mistake(name, *bug, case), false))
        .chain([(
            "mistake-in-memory",
            mistake_in_memory("mistake-in-memory"),
            false,
        )])
        .collect();
    check_outputs(MISTAKES_GUIDE, produced);
}

/// Compares every block of `path` marked `<!-- output: NAME -->` with what
/// `produced` holds for NAME (`UPDATE_README=1` writes them in).
fn check_outputs(path: &str, mut produced: Vec<(&str, String, bool)>) {
    let file = Path::new(path)
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .map_or(path.to_owned(), |p| p.display().to_string())
        .trim_start_matches('/')
        .to_owned();
    let readme = std::fs::read_to_string(path).unwrap();
    let blocks = marked_blocks(&readme, "output");
    let names: Vec<&str> = blocks.iter().map(|(n, _, _)| n.as_str()).collect();
    for (name, _, _) in &produced {
        assert!(names.contains(name), "{file} has no block marked {name}");
    }
    let update = std::env::var_os("UPDATE_README").is_some();
    let mut new_readme: Vec<String> = readme.lines().map(str::to_owned).collect();
    let mut drifted = Vec::new();
    // From the last block up, so that replacing one keeps the others' lines.
    for (name, start, body) in blocks.iter().rev() {
        let Some(index) = produced.iter().position(|(n, _, _)| n == name) else {
            panic!("{file}:{start}: no producer for the block marked {name}");
        };
        let (_, actual, numbers) = produced.remove(index);
        let expected = normalise(body, numbers);
        let got = normalise(&actual, numbers);
        let expected: Vec<&str> = expected.lines().collect();
        let got_lines: Vec<&str> = got.lines().collect();
        if matches(&expected, &got_lines) {
            continue;
        }
        let first_difference = expected
            .iter()
            .zip(&got_lines)
            .find(|(e, a)| e.trim() != "..." && !line_matches(e, a))
            .map(|(e, a)| format!("README: {e}\n   now: {a}"))
            .unwrap_or_else(|| "(the lengths differ)".to_owned());
        drifted.push(format!(
            "{file}:{start}: the block `{name}` is not what the tool prints now\n{first_difference}\nthe tool prints:\n{}",
            actual.trim_end()
        ));
        if update {
            let len = body.lines().count();
            new_readme.splice(
                *start..*start + len,
                actual.trim_end().lines().map(str::to_owned),
            );
        }
    }
    remove_temp_dirs();
    if update && !drifted.is_empty() {
        std::fs::write(path, new_readme.join("\n") + "\n").unwrap();
    }
    assert!(
        drifted.is_empty(),
        "{}\n(UPDATE_README=1 writes them)",
        drifted.join("\n\n")
    );
}

/// The contract page: its rules table has one anchor per rule of the code,
/// and `list --rules` shows what verifies each.
#[test]
fn the_contract_page_lists_every_rule_and_what_verifies_it() {
    let page = std::fs::read_to_string(CONTRACT).unwrap();
    let anchors: Vec<&str> = Regex::new(r#"<a id="rule-([a-z0-9-]+)"></a>"#)
        .unwrap()
        .captures_iter(&page)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    let ids: Vec<&str> = webhook_harness::contract::RULES
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        anchors, ids,
        "docs/sender-contract.md's rules are not the code's"
    );
    let (code, rules, stderr) = harness_in(&temp_dir("rules"), &["list", "--rules"]);
    assert_eq!(code, 0, "{rules}{stderr}");
    check_outputs(CONTRACT, vec![("rules", rules, false)]);
}

/// Every relative link of the README and of the pages in docs/ leads to a
/// file that exists, and every `#anchor` to a heading or an `id` there.
#[test]
fn every_relative_link_and_anchor_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pages = pages();
    let link = Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let mut broken = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        let mut in_code = false;
        for (n, line) in text.lines().enumerate() {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            if in_code {
                continue;
            }
            for target in link.captures_iter(line).map(|c| c[1].to_owned()) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, anchor) = match target.split_once('#') {
                    Some((f, a)) => (f, Some(a)),
                    None => (target.as_str(), None),
                };
                let dest = if file.is_empty() {
                    page.clone()
                } else {
                    page.parent().unwrap().join(file)
                };
                let here = format!(
                    "{}:{}: {target}",
                    page.strip_prefix(root).unwrap().display(),
                    n + 1
                );
                if !dest.exists() {
                    broken.push(format!("{here}: no such file"));
                    continue;
                }
                if let Some(anchor) = anchor
                    && dest.extension().is_some_and(|e| e == "md")
                    && !anchors_of(&std::fs::read_to_string(&dest).unwrap())
                        .contains(&anchor.to_owned())
                {
                    broken.push(format!("{here}: no such anchor"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The anchors of a Markdown page as GitHub makes them: each heading's
/// text, lower-cased, punctuation but `-` and `_` dropped, spaces as `-`
/// (repeated headings get `-1`, `-2`), and every `id="..."`.
fn anchors_of(text: &str) -> Vec<String> {
    let mut anchors: Vec<String> = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        if in_code {
            continue;
        }
        if let Some(heading) = line.strip_prefix('#') {
            let heading = heading.trim_start_matches('#').trim();
            let slug: String = heading
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect();
            let mut unique = slug.clone();
            let mut n = 1;
            while anchors.contains(&unique) {
                unique = format!("{slug}-{n}");
                n += 1;
            }
            anchors.push(unique);
        }
    }
    for id in Regex::new(r#"id="([^"]+)""#).unwrap().captures_iter(text) {
        anchors.push(id[1].to_owned());
    }
    anchors
}

#[test]
fn the_json_report_in_the_readme_has_only_fields_the_tool_writes() {
    let readme = std::fs::read_to_string(COMMANDS).unwrap();
    let (_, _, shown) = marked_blocks(&readme, "output-fields")
        .into_iter()
        .find(|(name, _, _)| name == "json-report")
        .expect("a block marked json-report");
    let shown: serde_json::Value = serde_json::from_str(&shown).expect("the README's JSON parses");
    let (_rt, receiver) = background_receiver(common::Bug::RacyDedup);
    let dir = temp_dir("json");
    let report = dir.join("run.json");
    let (code, stdout, _) = harness_in(
        &dir,
        &[
            "run",
            "--url",
            &receiver.url(),
            "--webhook-id",
            common::WEBHOOK_ID,
            "--effects-url",
            &receiver.effects_url(),
            "--filter",
            "idempotency.concurrent-copies",
            "--report-json",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    let real: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    let (mut shown_paths, mut real_paths) = (Vec::new(), Vec::new());
    paths(&shown, "", &mut shown_paths);
    paths(&real, "", &mut real_paths);
    for path in &shown_paths {
        assert!(
            real_paths.contains(path),
            "the README's JSON report shows {path}, which the tool does not write"
        );
    }
    remove_temp_dirs();
    let top = |paths: &[String]| -> Vec<String> {
        paths
            .iter()
            .filter(|p| p.matches('.').count() == 1)
            .cloned()
            .collect()
    };
    for path in top(&real_paths) {
        assert!(
            shown_paths.contains(&path),
            "the README's JSON report lacks {path}"
        );
    }
}

/// Every key path in `value` (`.cases[].id`), arrays merged.
fn paths(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                let path = format!("{prefix}.{key}");
                if !out.contains(&path) {
                    out.push(path.clone());
                }
                paths(v, &path, out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// The action's inputs and outputs, from `action.yml`.
fn action_interface() -> (serde_json::Value, serde_json::Value) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml");
    let action: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    (action["inputs"].clone(), action["outputs"].clone())
}

/// A step that uses the action: at this version's tag, with inputs it has.
fn check_action_step(step: &serde_json::Value, at: &str) {
    let (inputs, _) = action_interface();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        step["uses"],
        format!("OWNER/webhook-harness@v{version}"),
        "{at}: the action at this version's tag"
    );
    for key in step["with"].as_object().unwrap().keys() {
        assert!(
            inputs.get(key).is_some(),
            "{at}: the action has no input `{key}`"
        );
    }
}

#[test]
fn the_ci_jobs_in_the_docs_parse_install_without_cargo_and_use_serve() {
    let page = std::fs::read_to_string(CI_PAGE).unwrap();
    let jobs = marked_blocks(&page, "ci");
    let names: Vec<&str> = jobs.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["github-action", "github", "github-python", "gitlab"],
        "the action, GitHub Actions jobs for Node.js and Python receivers, and a GitLab CI job"
    );
    let version = env!("CARGO_PKG_VERSION");
    for (name, start, yaml) in jobs {
        let at = format!("docs/ci.md:{start}: the {name} job");
        let parsed: serde_json::Value =
            serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{at} does not parse: {e}"));
        let text = parsed.to_string();
        // No Rust toolchain, no build.
        assert!(!text.contains("cargo"), "{at} uses cargo");
        let steps = parsed["jobs"]["webhook-conformance"]["steps"].as_array();
        let uses = |prefix: &str| {
            steps.is_some_and(|steps| {
                steps
                    .iter()
                    .any(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(prefix)))
            })
        };
        if name == "github-action" {
            let steps = steps.unwrap();
            let step = steps
                .iter()
                .find(|s| {
                    s["uses"]
                        .as_str()
                        .is_some_and(|u| u.contains("/webhook-harness@"))
                })
                .unwrap_or_else(|| panic!("{at}: no step uses the action"));
            check_action_step(step, &at);
            assert!(step["with"]["serve"].is_string(), "{at}");
            // The artifact is the report the action's output names.
            let (_, outputs) = action_interface();
            assert!(outputs.get("junit").is_some());
            assert!(
                text.contains("${{ steps.webhooks.outputs.junit }}") && step["id"] == "webhooks",
                "{at}: the upload names the action's junit output"
            );
            continue;
        }
        for needed in ["--serve", "webhook-harness run"] {
            assert!(text.contains(needed), "{at} lacks {needed}");
        }
        // The version installed is this one.
        assert!(
            yaml.contains(&format!("WEBHOOK_HARNESS_VERSION: \"{version}\"")),
            "{at} does not pin version {version}"
        );
        match name.as_str() {
            "github" | "gitlab" => assert!(
                text.contains("npm install --no-save")
                    && text.contains("webhook-harness@$WEBHOOK_HARNESS_VERSION"),
                "{at} does not install the pinned version with npm: {text}"
            ),
            "github-python" => {
                assert!(
                    text.contains("pip install")
                        && text.contains("webhook-harness==$WEBHOOK_HARNESS_VERSION"),
                    "{at} does not install the pinned version with pip: {text}"
                );
                assert!(uses("actions/setup-python"), "{at}");
                assert!(text.contains("uvicorn app:app --port $PORT"), "{at}");
            }
            other => panic!("an unknown CI block {other}"),
        }
        if name == "gitlab" {
            let job = &parsed["webhook-conformance"];
            assert_eq!(job["artifacts"]["reports"]["junit"], "reports/junit.xml");
            assert!(job["cache"]["paths"].is_array());
            assert!(
                job["cache"]["key"].as_str().unwrap().ends_with(version),
                "the cache key does not change with the version"
            );
        } else {
            assert!(uses("actions/upload-artifact"), "{at}");
        }
    }
    // The README's one action step, too.
    let readme = std::fs::read_to_string(README).unwrap();
    let steps = marked_blocks(&readme, "ci");
    assert_eq!(steps.len(), 1, "the README shows the action's step");
    let (_, start, yaml) = &steps[0];
    let parsed: Vec<serde_json::Value> = serde_saphyr::from_str(yaml).unwrap();
    check_action_step(&parsed[0], &format!("README.md:{start}"));
}

/// Counts written in the prose (not in an output block) come from the tool
/// too: the built-in suite's size, and how many of its cases a run without
/// a probe cannot verify.
#[test]
fn counts_in_the_prose_are_the_tools() {
    let dir = temp_dir("counts");
    let (code, list, _) = harness_in(&dir, &["list"]);
    assert_eq!(code, 0);
    let builtin: usize = list
        .lines()
        .last()
        .and_then(|l| l.strip_suffix(" cases"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count at the end of `list`:\n{list}"));
    let receiver = common::process::start_receiver(&["--webhook-id", common::WEBHOOK_ID]);
    let (code, strict, _) = harness_in(
        &dir,
        &[
            "run",
            "--strict",
            "--url",
            &receiver.url,
            "--webhook-id",
            common::WEBHOOK_ID,
        ],
    );
    assert_eq!(code, 1, "{strict}");
    let unverified: usize = strict
        .lines()
        .find_map(|l| l.strip_prefix("FAIL (--strict): "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no unverified count in\n{strict}"));
    for path in pages() {
        let path = path.to_str().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        for (pattern, wanted) in [
            (r"(\d+) built-in cases", builtin),
            (
                r"FAIL \(--strict\): (\d+) cases were not verified",
                unverified,
            ),
        ] {
            for found in Regex::new(pattern).unwrap().captures_iter(&text) {
                assert_eq!(
                    found[1].parse::<usize>().unwrap(),
                    wanted,
                    "{path}: `{}` is not what the tool counts",
                    &found[0]
                );
            }
        }
    }
    remove_temp_dirs();
}
