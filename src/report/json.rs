//! The JSON report (`--report-json`).

use serde_json::{Value, json};

use super::ReportOptions;
use crate::result::SnapshotStatus;
use crate::result::{CaseResult, CheckResult, RunResult};
use crate::sender::{Attempt, Phase};

/// Most of a response body kept per attempt in the report.
const BODY_IN_REPORT: usize = 1024;

/// The report as JSON text.
pub fn render(outcome: &RunResult, options: &ReportOptions) -> String {
    let summary = outcome.summary(options.strict);
    let snapshots = outcome.snapshots.as_ref().map(|s| {
        let count = |status: SnapshotStatus| s.cases.iter().filter(|c| c.status == status).count();
        json!({
            "dir": s.dir.display().to_string(),
            "summary": {
                "unchanged": count(SnapshotStatus::Unchanged),
                "changed": count(SnapshotStatus::Changed),
                "recorded": count(SnapshotStatus::Recorded),
                "missing": count(SnapshotStatus::Missing),
                "updated": count(SnapshotStatus::Updated),
            },
            "cases": s.cases.iter().map(|c| json!({
                "id": c.id,
                "status": c.status.name(),
                "file": c.file.display().to_string(),
                "pending": c.pending.as_ref().map(|p| p.display().to_string()),
                "diff": c.diff,
            })).collect::<Vec<_>>(),
        })
    });
    let diagnosis = options.lead.as_ref().map(|lead| {
        let d = &lead.diagnosis;
        json!({
            "cause": d.cause.name(),
            "status": d.cause.status(),
            "count": d.count,
            "deliveries": d.deliveries,
            "message": lead.words,
        })
    });
    let report = json!({
        "diagnosis": diagnosis,
        "summary": summary,
        "snapshots": snapshots,
        "target": outcome.url,
        "strict": options.strict,
        "duration_ms": ms(outcome.duration),
        "notes": outcome.notes,
        "partial": outcome.stopped.is_some(),
        "stopped": outcome.stopped.as_ref().map(|r| r.to_string()),
        "cases": outcome.cases.iter().map(|c| case(c, options)).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&report).unwrap_or_default();
    options.redact(&text)
}

fn case(c: &CaseResult, options: &ReportOptions) -> Value {
    let strict = options.strict;
    json!({
        "id": c.id,
        "title": c.title,
        "severity": c.severity.name(),
        "rules": c.rules.iter().map(|r| r.id).collect::<Vec<_>>(),
        "status": c.status().name(),
        "fails_run": c.fails_run(strict),
        "message": c.message(),
        "fix": c.fix,
        "explained_by_diagnosis": options.explained(c),
        "source": c.source.as_ref().map(|s| s.to_string()),
        "duration_ms": ms(c.duration),
        "receiver_log": c.receiver_log,
        "checks": c.checks.iter().map(|check| {
            let mut v = json!({
                "step": check.step,
                "source": check.source.as_ref().map(|s| s.to_string()),
                "what": check.what,
            });
            match &check.outcome {
                CheckResult::Passed => v["outcome"] = "passed".into(),
                CheckResult::Failed { expected, actual } => {
                    v["outcome"] = "failed".into();
                    v["expected"] = expected.as_str().into();
                    v["actual"] = actual.as_str().into();
                }
                CheckResult::Skipped { reason } => {
                    v["outcome"] = "skipped".into();
                    v["reason"] = reason.to_string().into();
                }
            }
            v
        }).collect::<Vec<_>>(),
        "attempts": c.attempts().map(attempt).collect::<Vec<_>>(),
    })
}

/// One attempt as a JSON object (also used by other commands' reports).
pub fn attempt(a: &Attempt) -> Value {
    let body = String::from_utf8_lossy(&a.body[..a.body.len().min(BODY_IN_REPORT)]).into_owned();
    json!({
        "phase": match a.phase { Phase::Readiness => "readiness", Phase::Delivery => "delivery", Phase::Probe => "probe" },
        "method": a.method,
        "url": a.url,
        "status": a.status,
        "outcome": a.outcome.name(),
        "latency_ms": ms(a.latency),
        "error": a.failure.as_ref().map(|f| f.to_string()),
        "body": body,
        "body_truncated": a.body_truncated || a.body.len() > BODY_IN_REPORT,
    })
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}
