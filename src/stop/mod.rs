//! Stopping a run early: interrupted, out of time, or the receiver stopped
//! answering. One [`Stop`] is shared by everything a command runs; waits and
//! requests end at once when it fires (a [`crate::sender::Sender`] is given
//! its token), and the reason is kept for the report. The [`Watchdog`]
//! fires it when the receiver stopped answering altogether.

mod watchdog;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::duration::format as format_duration;
use crate::sender::Failure;

pub use watchdog::{CONFIRM_WINDOW, DEFAULT_THRESHOLD, Watchdog, confirm_window};

/// Why a run was stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// SIGINT or SIGTERM (Ctrl-C, a CI job cancelled).
    Interrupted,
    /// The deadline for the whole command passed.
    OutOfTime(Duration),
    /// The receiver stopped answering altogether.
    ReceiverDown(ReceiverDown),
}

/// The evidence that a receiver stopped answering.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceiverDown {
    /// Requests in a row got no answer at all, and neither did a plain valid
    /// delivery, tried again and again for `confirmed_for`.
    Unanswered {
        /// Requests in a row that got no answer.
        requests: u32,
        /// What the last of them came to.
        last: Failure,
        /// How long the plain delivery was tried without an answer.
        confirmed_for: Duration,
    },
    /// No request at all was answered for this long (under load).
    Silent(Duration),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Interrupted => f.write_str("interrupted"),
            StopReason::OutOfTime(limit) => write!(
                f,
                "the time limit of {} for the whole run passed",
                format_duration(*limit)
            ),
            StopReason::ReceiverDown(ReceiverDown::Unanswered {
                requests,
                last,
                confirmed_for,
            }) => write!(
                f,
                "the receiver stopped answering: {requests} requests in a row got no answer (the last: {last}), and a plain valid delivery got none for {} either",
                format_duration(*confirmed_for)
            ),
            StopReason::ReceiverDown(ReceiverDown::Silent(window)) => write!(
                f,
                "the receiver stopped answering: no request was answered for {}",
                format_duration(*window)
            ),
        }
    }
}

/// A shared stop signal with its reason (the first reason given wins).
#[derive(Debug, Clone, Default)]
pub struct Stop {
    token: CancellationToken,
    reason: Arc<OnceLock<StopReason>>,
}

impl Stop {
    /// A signal that has not fired.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Fires the signal (the first reason is kept).
    pub fn stop(&self, reason: StopReason) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }

    /// Whether it fired.
    pub fn is_stopped(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Why it fired, once it has.
    pub fn reason(&self) -> Option<&StopReason> {
        self.reason.get()
    }

    /// Completes when the signal fires.
    pub async fn stopped(&self) {
        self.token.cancelled().await
    }

    /// The token, for code that selects on it.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Fires with [`StopReason::OutOfTime`] after `limit` (from now), unless
    /// fired before. The timer task ends with the signal.
    pub fn fire_after(&self, limit: Duration) {
        let stop = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(limit) => stop.stop(StopReason::OutOfTime(limit)),
                _ = stop.stopped() => {}
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn first_reason_wins() {
        let stop = Stop::new();
        assert!(!stop.is_stopped());
        stop.stop(StopReason::Interrupted);
        stop.stop(StopReason::OutOfTime(Duration::from_secs(1)));
        assert!(stop.is_stopped());
        assert_eq!(stop.reason(), Some(&StopReason::Interrupted));
    }

    #[tokio::test]
    async fn fires_after_the_limit() {
        let stop = Stop::new();
        stop.fire_after(Duration::from_millis(20));
        tokio::time::timeout(Duration::from_secs(30), stop.stopped())
            .await
            .expect("fired");
        assert!(matches!(stop.reason(), Some(StopReason::OutOfTime(_))));
    }
}
