//! The reports people look at: HTML (parsed with an HTML5 parser), Markdown
//! and the GitHub step summary, and the JSON report on standard output.

mod common;

use std::process::Command;

use scraper::{Html, Selector};

const BIN: &str = env!("CARGO_BIN_EXE_webhook-harness");

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

#[test]
fn a_failing_run_writes_html_markdown_a_step_summary_and_json_on_stdout() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = rt.block_on(common::TestReceiver::start(common::Bug::RacyDedup));
    let dir = std::env::temp_dir().join(format!("wh-reports-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (html, md, summary) = (dir.join("r.html"), dir.join("r.md"), dir.join("step.md"));
    let out = Command::new(BIN)
        .args([
            "run",
            "--url",
            &receiver.url(),
            "--webhook-id",
            common::WEBHOOK_ID,
        ])
        .args([
            "--effects-url",
            &receiver.effects_url(),
            "--filter",
            "idempotency.*",
        ])
        .args([
            "--report-json",
            "-",
            "--report-html",
            html.to_str().unwrap(),
        ])
        .args(["--report-markdown", md.to_str().unwrap()])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // Standard output is the JSON report alone; the console went to stderr.
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    assert!(json["summary"]["failed"].as_u64().unwrap() >= 1);
    assert!(
        stderr.contains("FAIL idempotency.concurrent-copies"),
        "{stderr}"
    );
    // Each case names the contract's rules it verifies.
    let copies = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "idempotency.concurrent-copies")
        .unwrap();
    assert_eq!(copies["rules"], serde_json::json!(["effect-once"]));

    let text = std::fs::read_to_string(&html).unwrap();
    assert!(
        !text.contains(common::WEBHOOK_ID),
        "the secret is in the HTML"
    );
    assert!(
        text.contains(
            "<dt>Contract</dt><dd><code>effect-once</code>: give each completion exactly one effect"
        ),
        "the HTML names the rule a failing case verifies"
    );
    let doc = Html::parse_document(&text);
    assert!(doc.errors.len() < 5, "{:?}", doc.errors);
    assert_eq!(select(&doc, "title").len(), 1);
    assert_eq!(select(&doc, "table.summary").len(), 1);
    assert_eq!(select(&doc, "input[type=radio][name=show]").len(), 3);
    assert!(select(&doc, "script").is_empty(), "no script");
    let external: Vec<String> = select(&doc, "[src], link[href]")
        .iter()
        .map(|e| e.html())
        .collect();
    assert!(external.is_empty(), "external resources: {external:?}");
    let failed = select(
        &doc,
        "details.case.failed#case-idempotency\\.concurrent-copies",
    );
    assert_eq!(failed.len(), 1, "the failing case");
    let case = failed[0];
    let inner = |css: &str| case.select(&Selector::parse(css).unwrap()).count();
    assert!(inner("dl.why") == 1 && inner("pre.request") > 0 && inner("pre.answer") > 0);
    let curl = case
        .select(&Selector::parse("pre.curl").unwrap())
        .map(|e| e.text().collect::<String>())
        .find(|c| c.contains("-X POST"))
        .expect("a curl for the POST");
    assert!(
        curl.starts_with("curl -i -X POST") && curl.contains("$WEBHOOK_HARNESS_WEBHOOK_ID"),
        "{curl}"
    );
    assert!(
        select(&doc, "details.case.passed").len() > 1,
        "passes are listed too"
    );

    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(
        markdown.contains("| FAIL | `idempotency.concurrent-copies` | must | expected `effect count 1`, got `effect count "),
        "{markdown}"
    );
    // Each failure with its one-line fix.
    assert!(
        markdown.contains("| Claim the key atomically (a unique constraint, an insert that fails on conflict) before doing the work. |"),
        "{markdown}"
    );
    assert!(markdown.contains("Totals: "), "{markdown}");
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), markdown);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn fuzz_and_load_write_html_too() {
    let dir = std::env::temp_dir().join(format!("wh-reports-fl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (command, extra) in [
        ("fuzz", vec!["--cases", "50", "--seed", "1"]),
        ("load", vec!["--deliveries", "300"]),
    ] {
        let file = dir.join(format!("{command}.html"));
        let out = Command::new(BIN)
            .arg(command)
            .args(&extra)
            .args(["--report-html", file.to_str().unwrap()])
            .env_remove("CI")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc = Html::parse_document(&std::fs::read_to_string(&file).unwrap());
        assert_eq!(select(&doc, "title").len(), 1, "{command}");
        assert!(select(&doc, "script").is_empty());
        if command == "load" {
            assert_eq!(select(&doc, "svg").len(), 2, "two charts");
            assert!(select(&doc, "table.figures").len() == 1);
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn under_strict_every_report_fails_what_was_not_verified() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = rt.block_on(common::TestReceiver::start(common::Bug::None));
    let dir = std::env::temp_dir().join(format!("wh-reports-strict-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (junit, md, json) = (dir.join("j.xml"), dir.join("r.md"), dir.join("r.json"));
    // No --effects-url: the effect checks are skipped, which --strict fails.
    let out = Command::new(BIN)
        .args([
            "run",
            "--url",
            &receiver.url(),
            "--webhook-id",
            common::WEBHOOK_ID,
            "--strict",
        ])
        .args(["--report-junit", junit.to_str().unwrap()])
        .args(["--report-markdown", md.to_str().unwrap()])
        .args(["--report-json", json.to_str().unwrap()])
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report =
        quick_junit::Report::deserialize_from_str(&std::fs::read_to_string(&junit).unwrap())
            .unwrap();
    // The cases that read an effect count: none was verified.
    const UNVERIFIED: usize = 11;
    assert_eq!(
        report.failures, UNVERIFIED,
        "the unverified cases fail in JUnit too"
    );
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert_eq!(
        markdown
            .matches("| FAIL (not verified, --strict) |")
            .count(),
        UNVERIFIED,
        "{markdown}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let failing = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["fails_run"] == true)
        .count();
    assert_eq!(failing, UNVERIFIED);
    let _ = std::fs::remove_dir_all(dir);
}
