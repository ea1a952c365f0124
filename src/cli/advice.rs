//! Advice that names command-line flags, for failures the library reports
//! in flag-free words.

use crate::receiver::ServeError;
use crate::sender::{Failure, TlsReason};

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
        TlsReason::PlainHttp => "the server at this port speaks plain HTTP: use http:// in --url".into(),
        other => other.remedy().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
