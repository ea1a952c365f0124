//! Every error path of the scenario parser, with the message as a snapshot:
//! each names file:line:col, shows the line, and says what was expected.

use webhook_harness::scenario;

fn error_of(yaml: &str) -> String {
    match scenario::parse("case.yaml", yaml) {
        Ok(_) => panic!("expected an error for:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

/// Wraps steps in a minimal case.
fn steps(body: &str) -> String {
    format!("cases:\n  - id: x.y\n    title: t\n    steps:\n{body}")
}

macro_rules! error_snapshot {
    ($name:ident, $yaml:expr, $must_contain:expr) => {
        #[test]
        fn $name() {
            let message = error_of(&$yaml);
            assert!(message.contains("case.yaml:"), "no file:line:col in\n{message}");
            assert!(message.contains($must_contain), "{message}");
            insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
                insta::assert_snapshot!(concat!("scenario-error-", stringify!($name)), message);
            });
        }
    };
}

error_snapshot!(yaml_syntax, "cases: [\n  - id: a\n", "case.yaml:");
error_snapshot!(missing_cases, "title: no cases here\n", "cases");
error_snapshot!(
    unknown_step_key,
    steps("      - delivr:\n          event: generation\n"),
    "unknown field `delivr`"
);
error_snapshot!(
    expect_indented_into_the_action,
    steps("      - deliver:\n          event: generation\n          expect: { status: 2xx }\n"),
    "it belongs to the step, beside `deliver`"
);
error_snapshot!(
    a_group_over_the_payload_limit,
    steps("      - deliver: { event: group, group_size: 3000000 }\n"),
    "over the contract's 10 MB limit"
);
error_snapshot!(
    unknown_case_key,
    "cases:\n  - id: a\n    title: t\n    severty: must\n    steps: []\n",
    "severty"
);
error_snapshot!(
    bad_severity,
    "cases:\n  - id: a\n    title: t\n    severity: critical\n    steps: []\n",
    "critical"
);
error_snapshot!(
    unknown_event,
    steps("      - deliver: { event: generation.failed }\n"),
    "unknown event"
);
error_snapshot!(
    bad_dialect,
    steps("      - deliver: { event: generation, dialect: old }\n"),
    "unknown dialect"
);
error_snapshot!(
    bad_status,
    steps("      - options: {}\n        expect: { status: 6xx }\n"),
    "not a status"
);
error_snapshot!(
    empty_status_list,
    steps("      - options: {}\n        expect: { status: [] }\n"),
    "empty list"
);
error_snapshot!(
    bad_latency,
    steps("      - options: {}\n        expect: { latency: quick }\n"),
    "latency bound"
);
error_snapshot!(
    bad_duration,
    steps("      - wait: soon\n"),
    "not a duration"
);
error_snapshot!(
    bad_effects,
    steps("      - probe: { effects: once }\n"),
    "effect count"
);
error_snapshot!(
    bad_size,
    steps("      - deliver: { event: generation, size: 12MB }\n"),
    "10 MB"
);
error_snapshot!(
    two_actions,
    steps("      - wait: 1s\n        options: {}\n"),
    "exactly one thing"
);
error_snapshot!(
    no_action,
    steps("      - expect: { status: 2xx }\n"),
    "found none"
);
error_snapshot!(
    expect_on_probe,
    steps("      - probe: { effects: 1 }\n        expect: { status: 2xx }\n"),
    "`expect` goes with"
);
error_snapshot!(
    unknown_template,
    steps("      - deliver: { event: generation, set: { data.id: \"{{nope}}\" } }\n"),
    "unknown template"
);
error_snapshot!(
    bad_set_path,
    steps("      - deliver: { event: generation, set: { data..id: 1 } }\n"),
    "empty segment"
);
error_snapshot!(
    zero_copies,
    steps("      - deliver: { event: generation, copies: 0 }\n"),
    "copies: 0"
);
error_snapshot!(
    group_size_on_generation,
    steps("      - deliver: { event: generation, group_size: 3 }\n"),
    "apply to slow-group.completed"
);
error_snapshot!(
    two_bodies,
    steps("      - raw: { body: x, body_json: [1] }\n"),
    "at most one of"
);
error_snapshot!(
    bad_method,
    steps("      - raw: { method: \"PO ST\" }\n"),
    "not an HTTP method"
);
error_snapshot!(
    unknown_expect_key,
    steps("      - options: {}\n        expect: { stauts: 200 }\n"),
    "stauts"
);

error_snapshot!(
    padding_with_no_place_for_it,
    steps("      - deliver: { event: slow-group.completed, group_size: 0, size: 1MB }\n"),
    "an empty group have no completion"
);
error_snapshot!(
    padding_a_failed_generation,
    steps("      - deliver: { event: generation.completed, state: Failed, size: 1MB }\n"),
    "a failed generation"
);

#[test]
fn duplicate_ids_name_both_places() {
    let mut all = scenario::parse("a.yaml", &steps("      - wait: 1ms\n")).unwrap();
    all.extend(scenario::parse("b.yaml", &steps("      - wait: 1ms\n")).unwrap());
    let message = scenario::check_unique(&all).unwrap_err().to_string();
    assert!(
        message.contains("a.yaml:2:5") && message.contains("b.yaml:2:5"),
        "{message}"
    );
}

#[test]
fn missing_file_says_what_to_do() {
    let message = scenario::load(&["no/such/file.yaml".into()])
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("no/such/file.yaml") && message.contains("give a scenario file"),
        "{message}"
    );
}

#[test]
fn a_valid_file_parses_with_locations() {
    let yaml = steps(
        "      - options:\n      - deliver: { event: group, group_size: 0, copies: 3 }\n      - probe: { effects: \"<= 1\", within: 1s }\n",
    );
    let parsed = scenario::parse("ok.yaml", &yaml).unwrap();
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].source.to_string(), "ok.yaml:2:5");
    assert_eq!(parsed[0].case.steps.len(), 3);
}

#[test]
fn builtin_suite_parses_and_embeds_every_file() {
    let cases = scenario::builtin().unwrap();
    scenario::check_unique(&cases).unwrap();
    let mut on_disk: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".yaml"))
            .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = scenario::BUILTIN
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    embedded.sort();
    assert_eq!(
        on_disk, embedded,
        "add new scenario files to scenario::BUILTIN"
    );
    // Every built-in case says its requirement and its fix in one line
    // (the summaries show the fix).
    for s in &cases {
        assert!(
            s.case.requirement.is_some(),
            "{} has no requirement",
            s.case.id
        );
        let fix = s.case.fix.as_deref().unwrap_or_default();
        assert!(
            !fix.is_empty() && !fix.contains('\n'),
            "{} has no one-line fix",
            s.case.id
        );
    }
}

#[test]
fn a_set_path_the_payload_does_not_have_points_at_the_step() {
    let message = scenario::parse(
        "typo.yaml",
        "cases:\n  - id: a\n    title: t\n    steps:\n      - deliver: { event: generation.completed, set: { data.stat: Failed } }\n",
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("typo.yaml:5:9"), "{message}");
    assert!(
        message.contains("the payload has no field `data.stat`; did you mean `data.state`?"),
        "{message}"
    );
    // The distinct spelling for a new field is accepted.
    scenario::parse(
        "add.yaml",
        "cases:\n  - id: a\n    title: t\n    steps:\n      - deliver: { event: generation.completed, add: { data.stat: Failed } }\n",
    )
    .unwrap();
}

/// A recording handed over by someone else may name any file: only files
/// inside its own folder, and not over the body limit, are ever read.
#[test]
fn body_files_stay_in_their_folder_and_within_the_limit() {
    let root = std::env::temp_dir().join(format!("wh-body-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dir = root.join("recordings");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(root.join("outside.body"), "{\"secret\":1}").unwrap();
    std::fs::write(dir.join("ok.body"), "{}").unwrap();
    std::os::unix::fs::symlink(root.join("outside.body"), dir.join("link.body")).unwrap();
    // 17 MiB, sparse: nothing is written, the size is what counts.
    std::fs::File::create(dir.join("big.body"))
        .unwrap()
        .set_len(17 * 1024 * 1024)
        .unwrap();
    let scenario = |name: &str| {
        format!(
            "cases:\n  - id: r.one\n    title: t\n    steps:\n      - raw:\n          body_file: {name}\n"
        )
    };
    let load = |name: &str| {
        let file = dir.join("case.yaml");
        std::fs::write(&file, scenario(name)).unwrap();
        scenario::load(&[file])
    };
    assert!(load("ok.body").is_ok());
    for (name, why) in [
        (
            "/etc/passwd",
            "a relative path inside its folder, without `..`",
        ),
        (
            "/proc/self/environ",
            "a relative path inside its folder, without `..`",
        ),
        (
            "../outside.body",
            "a relative path inside its folder, without `..`",
        ),
        (
            "link.body",
            "leads out of the scenario file's folder through a symbolic link",
        ),
        (
            "big.body",
            "is 17825792 bytes, over the 16 MiB a body file may hold",
        ),
        ("missing.body", "names no file"),
    ] {
        let message = load(name).unwrap_err().to_string();
        assert!(
            message.contains("case.yaml:5:9") && message.contains(why),
            "{name}: {message}"
        );
        assert!(!message.contains("secret"), "{name}: {message}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_scenario_file_over_the_limit_is_refused_before_it_is_read_whole() {
    let dir = std::env::temp_dir().join(format!("wh-big-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("huge.yaml");
    std::fs::File::create(&file)
        .unwrap()
        .set_len(2 * 1024 * 1024 * 1024)
        .unwrap();
    let message = scenario::load(&[file]).unwrap_err().to_string();
    assert!(message.contains("over 16 MiB"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}
