//! One mistake, one diagnosis: when most deliveries of a run got the same
//! telling answer (401, 404, a TLS failure…), the cases failed for one reason,
//! and the passes among them say little. The reports lead with it.

use std::fmt;

use crate::sender::{Attempt, Failure, Phase, TlsReason};

/// A run's deliveries at least this many, and more than half of them with
/// the same cause, before the run is diagnosed.
const MIN_DELIVERIES: usize = 3;

/// What most deliveries had in common.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// The answer they got.
    pub cause: Cause,
    /// How many deliveries got it.
    pub count: usize,
    /// How many deliveries the run made (retries not counted).
    pub deliveries: usize,
}

/// An answer that points at one mistake of the set-up rather than of the
/// receiver's logic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// 401 or 403 (the status): the webhook id sent is not the receiver's.
    Rejected(u16),
    /// 404: nothing answers POST at that path.
    NotFound,
    /// 405: the path does not take POST.
    MethodNotAllowed,
    /// 413: the receiver's body limit is below ordinary payloads.
    TooLarge,
    /// The TLS handshake failed.
    Tls(TlsReason),
    /// No connection could be made or kept.
    Connection,
}

impl Cause {
    /// A stable name for machine-readable reports.
    pub fn name(&self) -> &'static str {
        match self {
            Cause::Rejected(_) => "webhook-id-rejected",
            Cause::NotFound => "wrong-path",
            Cause::MethodNotAllowed => "post-not-allowed",
            Cause::TooLarge => "body-limit-too-low",
            Cause::Tls(_) => "tls",
            Cause::Connection => "connection",
        }
    }

    /// The status code behind the cause, when there is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Cause::Rejected(status) => Some(*status),
            Cause::NotFound => Some(404),
            Cause::MethodNotAllowed => Some(405),
            Cause::TooLarge => Some(413),
            Cause::Tls(_) | Cause::Connection => None,
        }
    }

    /// The cause of one delivery's answer, if it is a telling one.
    fn of(attempt: &Attempt) -> Option<Cause> {
        match (attempt.status, &attempt.failure) {
            (Some(status @ (401 | 403)), _) => Some(Cause::Rejected(status)),
            (Some(404), _) => Some(Cause::NotFound),
            (Some(405), _) => Some(Cause::MethodNotAllowed),
            (Some(413), _) => Some(Cause::TooLarge),
            (Some(_), _) | (None, None) => None,
            (None, Some(Failure::Tls(reason))) => Some(Cause::Tls(reason.clone())),
            (None, Some(Failure::Cancelled | Failure::InvalidRequest(_))) => None,
            (None, Some(Failure::Timeout(_))) => None,
            (None, Some(_)) => Some(Cause::Connection),
        }
    }
}

impl Diagnosis {
    /// The diagnosis of a run's requests, if most deliveries (first attempts
    /// of a POST, retries not counted) got the same telling answer.
    pub fn of<'a>(attempts: impl IntoIterator<Item = &'a Attempt>) -> Option<Diagnosis> {
        let mut deliveries = 0;
        let mut counts: Vec<(Cause, usize)> = Vec::new();
        let mut retrying = false;
        for attempt in attempts {
            if attempt.phase != Phase::Delivery || attempt.failure == Some(Failure::Cancelled) {
                continue;
            }
            // An attempt after a backoff is a retry of the same delivery.
            let is_retry = retrying;
            retrying = attempt.retry_in.is_some();
            if is_retry {
                continue;
            }
            deliveries += 1;
            if let Some(cause) = Cause::of(attempt) {
                match counts.iter_mut().find(|(c, _)| *c == cause) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((cause, 1)),
                }
            }
        }
        let (cause, count) = counts.into_iter().max_by_key(|(_, n)| *n)?;
        (deliveries >= MIN_DELIVERIES && count * 2 > deliveries).then_some(Diagnosis {
            cause,
            count,
            deliveries,
        })
    }
}

impl fmt::Display for Diagnosis {
    /// What happened, without the fix (which names flags: the command line adds it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Diagnosis {
            cause,
            count,
            deliveries,
        } = self;
        let most = format!("{count} of {deliveries} deliveries");
        match cause {
            Cause::Rejected(status) => write!(
                f,
                "{most} were answered {status}: the receiver does not accept the webhook id it was sent"
            ),
            Cause::NotFound => write!(
                f,
                "{most} were answered 404: nothing answers POST at this URL's path"
            ),
            Cause::MethodNotAllowed => write!(
                f,
                "{most} were answered 405: this URL's path does not take POST"
            ),
            Cause::TooLarge => write!(
                f,
                "{most} were answered 413: the receiver's body limit is below the size of ordinary payloads"
            ),
            Cause::Tls(reason) => write!(f, "{most} failed the TLS handshake: {reason}"),
            Cause::Connection => write!(f, "{most} got no connection, or lost it"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sender::Outcome;

    fn post(status: Option<u16>, failure: Option<Failure>) -> Attempt {
        Attempt {
            phase: Phase::Delivery,
            method: "POST".into(),
            url: "http://127.0.0.1:1/webhook".into(),
            status,
            headers: Vec::new(),
            body: bytes::Bytes::new(),
            body_truncated: false,
            latency: std::time::Duration::ZERO,
            outcome: status.map_or(Outcome::ConnectionError, Outcome::of_status),
            failure,
            retry_in: None,
            request_headers: Vec::new(),
            request_body: bytes::Bytes::new(),
            request_body_len: 0,
        }
    }

    #[test]
    fn most_deliveries_answered_401_is_one_diagnosis() {
        let mut attempts: Vec<Attempt> = (0..14).map(|_| post(Some(401), None)).collect();
        attempts.push(post(Some(200), None));
        attempts.push(post(Some(400), None));
        let d = Diagnosis::of(&attempts).expect("diagnosed");
        assert_eq!(d.cause, Cause::Rejected(401));
        assert_eq!((d.count, d.deliveries), (14, 16));
        assert!(
            d.to_string()
                .starts_with("14 of 16 deliveries were answered 401")
        );
    }

    #[test]
    fn a_minority_or_a_handful_is_no_diagnosis() {
        // A correct receiver answers 401 to the one wrong-id case, 413 to the large one.
        let mut attempts: Vec<Attempt> = (0..10).map(|_| post(Some(200), None)).collect();
        attempts.push(post(Some(401), None));
        attempts.push(post(Some(413), None));
        assert_eq!(Diagnosis::of(&attempts), None);
        let two = [post(Some(404), None), post(Some(404), None)];
        assert_eq!(Diagnosis::of(&two), None);
        // Half is not most.
        let half = [
            post(Some(404), None),
            post(Some(404), None),
            post(Some(200), None),
            post(Some(200), None),
        ];
        assert_eq!(Diagnosis::of(&half), None);
    }

    #[test]
    fn retries_and_other_phases_are_not_deliveries() {
        let mut first = post(None, Some(Failure::Refused));
        first.retry_in = Some(std::time::Duration::from_secs(1));
        let retry = post(None, Some(Failure::Refused));
        let mut probe = post(Some(404), None);
        probe.phase = Phase::Probe;
        let attempts = [
            first,
            retry,
            probe.clone(),
            probe,
            post(Some(200), None),
            post(Some(200), None),
        ];
        assert_eq!(Diagnosis::of(&attempts), None);
    }

    #[test]
    fn tls_and_connection_failures_are_diagnosed_timeouts_are_not() {
        let tls: Vec<Attempt> = (0..3)
            .map(|_| post(None, Some(Failure::Tls(TlsReason::Expired))))
            .collect();
        assert_eq!(
            Diagnosis::of(&tls).map(|d| d.cause),
            Some(Cause::Tls(TlsReason::Expired))
        );
        let reset: Vec<Attempt> = (0..3).map(|_| post(None, Some(Failure::Reset))).collect();
        assert_eq!(
            Diagnosis::of(&reset).map(|d| d.cause),
            Some(Cause::Connection)
        );
        let slow: Vec<Attempt> = (0..3)
            .map(|_| {
                post(
                    None,
                    Some(Failure::Timeout(std::time::Duration::from_secs(30))),
                )
            })
            .collect();
        assert_eq!(Diagnosis::of(&slow), None);
    }
}
