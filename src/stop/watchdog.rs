//! Telling a receiver that stopped answering from one that answers badly.
//!
//! Every request to the receiver's URL is shown to the [`Watchdog`] (a
//! [`Sender`]'s [`Observer`]). Any
//! answer (any status) resets it. After `threshold` requests in a row got no
//! answer at all (a timeout, a refused or dropped connection), it confirms:
//! a plain valid delivery (one POST of a `webhook.test` event, fresh ids) is
//! sent, again and again for the confirmation window (twice the timeout,
//! from 1 s to [`CONFIRM_WINDOW`]), each bounded by the timeout. Only if none of those is answered is the receiver taken as down,
//! and the run's [`Stop`] fires. So a receiver that hangs on one kind of
//! request, or restarts for a moment, is not mistaken for a dead one.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;

use super::{ReceiverDown, Stop, StopReason};
use crate::event::{Event, EventKind};
use crate::sender::{Attempt, Observer, Phase, Request, Sender, event_headers};

/// The longest a receiver is given to answer a plain delivery before it is
/// taken as down.
pub const CONFIRM_WINDOW: Duration = Duration::from_secs(5);

/// The confirmation window for a per-attempt `timeout`: twice the timeout,
/// at least 1 s, at most [`CONFIRM_WINDOW`].
pub fn confirm_window(timeout: Duration) -> Duration {
    (timeout * 2).clamp(Duration::from_secs(1), CONFIRM_WINDOW)
}
/// Pause between confirming deliveries (a refused connection fails at once).
const CONFIRM_PAUSE: Duration = Duration::from_millis(250);
/// The default number of unanswered requests in a row before confirming.
pub const DEFAULT_THRESHOLD: u32 = 2;

/// Watches the answers of one receiver URL.
#[derive(Debug)]
pub struct Watchdog {
    url: String,
    webhook_id: String,
    threshold: u32,
    unanswered: AtomicU32,
    confirming: tokio::sync::Mutex<()>,
    stop: Stop,
}

impl Watchdog {
    /// A watchdog for `url` that fires `stop` when the receiver is down.
    pub fn new(url: &str, webhook_id: &str, threshold: u32, stop: Stop) -> Watchdog {
        Watchdog {
            url: url.to_owned(),
            webhook_id: webhook_id.to_owned(),
            threshold: threshold.max(1),
            unanswered: AtomicU32::new(0),
            confirming: tokio::sync::Mutex::new(()),
            stop,
        }
    }

    /// Notes one request's result; confirms (and may fire the stop) when
    /// enough in a row got no answer. Requests to other URLs are ignored.
    async fn observe(&self, attempt: &Attempt, sender: &Sender) {
        if attempt.phase == Phase::Probe || attempt.url != self.url {
            return;
        }
        if attempt.status.is_some() {
            self.unanswered.store(0, Ordering::SeqCst);
            return;
        }
        let Some(failure) = attempt.failure.as_ref().filter(|f| f.is_no_answer()) else {
            return;
        };
        let count = self.unanswered.fetch_add(1, Ordering::SeqCst) + 1;
        if count < self.threshold || self.stop.is_stopped() {
            return;
        }
        // One confirmation at a time; those waiting see its result.
        let _confirming = self.confirming.lock().await;
        if self.unanswered.load(Ordering::SeqCst) < self.threshold || self.stop.is_stopped() {
            return;
        }
        if self.answers(sender).await {
            self.unanswered.store(0, Ordering::SeqCst);
        } else {
            self.stop
                .stop(StopReason::ReceiverDown(ReceiverDown::Unanswered {
                    requests: self.unanswered.load(Ordering::SeqCst),
                    last: failure.clone(),
                    confirmed_for: confirm_window(sender.config().timeout),
                }));
        }
    }

    /// Whether a plain valid delivery gets any answer within the
    /// confirmation window, sent through `sender` (not shown to this watchdog).
    async fn answers(&self, sender: &Sender) -> bool {
        let timeout = sender.config().timeout;
        let until = tokio::time::Instant::now() + confirm_window(timeout);
        loop {
            let Ok(event) = Event::builder(EventKind::WebhookTest)
                .unique_ids()
                .webhook_id(self.webhook_id.clone())
                .build()
            else {
                return true;
            };
            let headers = event_headers(&event);
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            let mut config = sender.config().clone();
            config.timeout = timeout.min(left.max(Duration::from_millis(100)));
            let check = sender.unobserved().with_config(config);
            let attempt = check
                .send(Request {
                    phase: Phase::Delivery,
                    method: "POST",
                    url: &self.url,
                    headers: &headers,
                    body: Bytes::clone(event.body()),
                })
                .await;
            if attempt.status.is_some() || self.stop.is_stopped() {
                return true;
            }
            if tokio::time::Instant::now() + CONFIRM_PAUSE >= until {
                return false;
            }
            tokio::time::sleep(CONFIRM_PAUSE).await;
        }
    }
}

impl Observer for Watchdog {
    fn observe<'a>(&'a self, attempt: &'a Attempt, sender: &'a Sender) -> BoxFuture<'a, ()> {
        Box::pin(Watchdog::observe(self, attempt, sender))
    }

    fn answers<'a>(&'a self, sender: &'a Sender) -> BoxFuture<'a, bool> {
        Box::pin(Watchdog::answers(self, sender))
    }
}
