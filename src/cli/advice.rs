//! Advice that names command-line flags, for failures the library reports
//! in flag-free words.

use crate::receiver::ServeError;
use crate::result::{Cause, Diagnosis, StateProblem};
use crate::sender::{Failure, TlsReason};

/// The run's diagnosis, if any, worded with its fix for every report.
pub(super) fn lead(
    outcome: &crate::result::RunResult,
    default_id: bool,
) -> Option<crate::report::Lead> {
    outcome.diagnosis().map(|diagnosis| crate::report::Lead {
        words: for_diagnosis(&diagnosis, default_id),
        diagnosis,
    })
}

/// The line that leads a run's reports when one mistake explains most of
/// it: what happened, then the fix with its flags. `default_id`: whether
/// the run used the built-in default webhook id.
pub(super) fn for_diagnosis(diagnosis: &Diagnosis, default_id: bool) -> String {
    let fix = match &diagnosis.cause {
        Cause::Rejected(_) if default_id => "the run used the default webhook id: pass the one your receiver expects with --webhook-id (or WEBHOOK_HARNESS_WEBHOOK_ID)".to_owned(),
        Cause::Rejected(_) => "pass the webhook id your receiver expects with --webhook-id (or WEBHOOK_HARNESS_WEBHOOK_ID), or check how the receiver reads the header".to_owned(),
        Cause::NotFound => "--url must name the webhook route itself (e.g. http://127.0.0.1:3000/webhook), not only the server".to_owned(),
        Cause::MethodNotAllowed => "--url must name the route that receives webhooks by POST".to_owned(),
        Cause::TooLarge => body_limit_fix(),
        Cause::Tls(reason) => for_tls(reason),
        Cause::Connection => "start your receiver, or check --url; if it runs, its log may show a crash".to_owned(),
        Cause::PerProcess(_) | Cause::InMemory { .. } => {
            return format!("{diagnosis}. Likely fix: {}.", StateProblem::FIX);
        }
        Cause::ProbeFailed(_) => {
            return format!(
                "{diagnosis}. Likely fix: check --effects-url (its path, port and `{{key}}`), or whether your test-only probe is switched on (e.g. WEBHOOK_HARNESS_TEST_PROBE=1). The cases that read effect counts say nothing until then."
            );
        }
        // One mistake of the receiver's, not of the set-up: the rest of the
        // run stands.
        Cause::Pattern { status, trait_, .. } => {
            return format!("{diagnosis}: {}", trait_.fix(*status));
        }
    };
    format!(
        "{diagnosis}. Likely fix: {fix}. Until then, the other verdicts of this run say little."
    )
}

/// What to do about a receiver that refused a payload as too large.
fn body_limit_fix() -> String {
    format!(
        "raise the receiver's body limit: the sender's payloads reach {} MB (Express's default limit is 100 kB, many frameworks' 1 MB)",
        crate::contract::MAX_PAYLOAD / 1_000_000
    )
}

/// What to do about the answer a single delivery ended with, when its
/// status says more than the status line does.
pub(super) fn for_answer(attempt: &crate::sender::Attempt) -> Option<String> {
    match attempt.status {
        Some(413) => Some(body_limit_fix()),
        _ => attempt.failure.as_ref().and_then(for_failure),
    }
}

/// A receiver that could not start, said with the flags that fix it.
pub(super) fn for_serve_error(error: &ServeError) -> String {
    match error {
        ServeError::PortInUse(_) => format!("{error} with --port"),
        ServeError::Certificate { .. } => format!("--tls-cert: {error}"),
        ServeError::Key { .. } => format!("--tls-key: {error}"),
        ServeError::Mismatch(_) => format!("--tls-cert and --tls-key: {error}"),
        ServeError::Listen { .. } => error.to_string(),
    }
}

/// What to do about `failure`, naming the flags that help; `None` when the
/// failure's own words say enough.
pub(super) fn for_failure(failure: &Failure) -> Option<String> {
    match failure {
        Failure::Refused | Failure::Connect(_) => {
            Some("start your receiver, or check --url".into())
        }
        Failure::Tls(reason) => Some(for_tls(reason)),
        _ => None,
    }
}

fn for_tls(reason: &TlsReason) -> String {
    match reason {
        TlsReason::UnknownIssuer {
            ca_file_given: false,
        } => "pass --ca-cert FILE with the CA that signed it (or the self-signed certificate itself), or --insecure for a development receiver".into(),
        TlsReason::UnknownIssuer { ca_file_given: true } => {
            "the file given to --ca-cert holds neither the CA that signed the server's certificate nor that certificate itself: give the right file".into()
        }
        TlsReason::CaUsedAsServerCertificate => {
            "give that very certificate to --ca-cert (it is then trusted as it is), or serve a leaf certificate signed by the CA".into()
        }
        // The refusal itself says the server speaks plain HTTP.
        TlsReason::PlainHttp => "use http:// in --url".into(),
        TlsReason::NoSystemRoots(_) => {
            "install the system's CA certificates (e.g. apt-get install ca-certificates, apk add ca-certificates), or pass --ca-cert FILE with the receiver's CA or self-signed certificate".into()
        }
        other => other.remedy().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diagnosis_names_the_flag_and_the_default_id() {
        let rejected = Diagnosis {
            cause: Cause::Rejected(401),
            count: 14,
            deliveries: 16,
        };
        let line = for_diagnosis(&rejected, true);
        assert!(
            line.starts_with("14 of 16 deliveries were answered 401"),
            "{line}"
        );
        assert!(
            line.contains("default webhook id") && line.contains("--webhook-id"),
            "{line}"
        );
        assert!(!for_diagnosis(&rejected, false).contains("default"));
        let not_found = Diagnosis {
            cause: Cause::NotFound,
            ..rejected
        };
        assert!(for_diagnosis(&not_found, false).contains("/webhook"));
    }

    #[test]
    fn advice_with_a_ca_file_does_not_suggest_passing_one() {
        let given = for_tls(&TlsReason::UnknownIssuer {
            ca_file_given: true,
        });
        assert!(!given.contains("pass --ca-cert"), "{given}");
        let not_given = for_tls(&TlsReason::UnknownIssuer {
            ca_file_given: false,
        });
        assert!(not_given.contains("pass --ca-cert"), "{not_given}");
    }
}
