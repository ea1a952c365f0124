//! Fuzzing ourselves: our parsers never panic, and every generated valid
//! payload reads back into the typed event.

use proptest::prelude::*;
use webhook_harness::event::{Event, EventKind, Override, Payload, idempotency_key};
use webhook_harness::fuzz::strategies::valid_recipe;
use webhook_harness::scenario;

/// YAML-ish text built from the scenario format's own words.
fn scenario_like() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "cases:",
        "- id: a",
        "title: t",
        "steps:",
        "- deliver:",
        "event: generation",
        "expect:",
        "status: 2xx",
        "status: [200, \"not 5xx\"]",
        "- probe:",
        "effects: \"<= 1\"",
        "- wait: 10ms",
        "- raw:",
        "body: '{'",
        "headers: {X: null}",
        "set: {data.x: 1}",
        "copies: 3",
        "size: 9.5MB",
        "{",
        "}",
        "[",
        "]",
        ":",
        "&a",
        "*a",
        "!!str",
        "---",
        "?",
        "'",
        "\"",
        "- options:",
        "within: x",
    ]);
    let line = (0usize..8, prop::collection::vec(words, 1..4))
        .prop_map(|(indent, parts)| format!("{}{}", " ".repeat(indent), parts.join(" ")));
    prop::collection::vec(line, 0..20).prop_map(|lines| lines.join("\n"))
}

/// Any text: up to 200 characters, any of Unicode's.
fn any_text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..200).prop_map(String::from_iter)
}

/// A dotted path such as `data.items.0`: lowercase letters, digits and dots.
fn path_text() -> impl Strategy<Value = String> {
    let chars: Vec<char> = ('a'..='z').chain('0'..='9').chain(['.']).collect();
    prop::collection::vec(prop::sample::select(chars), 0..30).prop_map(String::from_iter)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn scenario_parser_never_panics_on_arbitrary_text(text in any_text()) {
        let _ = scenario::parse("fuzz.yaml", &text);
    }

    #[test]
    fn scenario_parser_never_panics_on_scenario_like_text(text in scenario_like()) {
        let _ = scenario::parse("fuzz.yaml", &text);
    }

    #[test]
    fn set_paths_never_panic(spec in any_text(), path in path_text(), value in any_text()) {
        let event = Event::builder(EventKind::SlowGroupCompleted).build().unwrap();
        for spec in [spec, format!("{path}={value}")] {
            if let Ok(edit) = Override::parse_set(&spec) {
                let mut json = event.json().clone();
                let _ = edit.apply(&mut json);
            }
        }
        if let Ok(edit) = Override::parse_unset(&path) {
            let mut json = event.json().clone();
            let _ = edit.apply(&mut json);
        }
    }

    #[test]
    fn generated_valid_payloads_read_back_as_typed_events(recipe in valid_recipe()) {
        let json = recipe.json("gen_roundtrip", "wh_test");
        let typed = Payload::from_json(&json);
        prop_assert!(typed.is_ok(), "{}: {:?}", recipe.describe(), typed.err());
        let typed = serde_json::to_value(typed.unwrap()).unwrap();
        prop_assert_eq!(idempotency_key(&typed), idempotency_key(&json));
        prop_assert_eq!(&typed["event"], &json["event"]);
    }
}
