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

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn scenario_parser_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = scenario::parse("fuzz.yaml", &text);
    }

    #[test]
    fn scenario_parser_never_panics_on_scenario_like_text(text in scenario_like()) {
        let _ = scenario::parse("fuzz.yaml", &text);
    }

    #[test]
    fn set_paths_never_panic(spec in any::<String>(), path in "[a-z0-9.]{0,30}", value in any::<String>()) {
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
