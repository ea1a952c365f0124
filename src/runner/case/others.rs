//! `others`: deliveries of other, fresh keys, so that a later copy of a key
//! arrives after that many others (as a late retry does behind traffic).

use tokio::task::JoinSet;

use super::{CaseRun, kind_tag, single_attempt};
use crate::event::{Event, EventKind};
use crate::result::CheckResult;
use crate::scenario::model::OthersStep;
use crate::sender::{Attempt, Delivery};

/// Deliveries of one `others` step in flight at once.
const AT_ONCE: usize = 16;

/// What the deliveries of an `others` step came to.
#[derive(Default)]
struct Tally {
    answered: usize,
    refused: usize,
    /// The first delivery not answered 2xx (its last attempt), kept alone:
    /// the step's record stays small however many it sends.
    first_refusal: Option<Attempt>,
}

impl Tally {
    fn add(&mut self, delivery: Delivery) {
        if delivery.delivered() {
            self.answered += 1;
        } else {
            self.refused += 1;
            if self.first_refusal.is_none() {
                self.first_refusal = delivery.attempts.into_iter().last();
            }
        }
    }
}

impl CaseRun<'_> {
    pub(super) async fn others(&mut self, o: &OthersStep) {
        let kind = o.event.unwrap_or(EventKind::GenerationCompleted);
        let sender = single_attempt(&self.ctx.sender);
        let replicas = self.replicas_for(o.replica, 1.max(self.ctx.urls.len()));
        // Fresh ids, distinct from the case's own events and from every
        // other step's.
        let base = self.seed ^ kind_tag(kind) ^ ((self.step as u64) << 40) ^ 0x0_7E45;
        let mut tally = Tally::default();
        let mut in_flight = JoinSet::new();
        for i in 0..o.count {
            if self.ctx.stop.is_stopped() {
                self.cut = true;
                break;
            }
            while in_flight.len() >= AT_ONCE {
                if let Some(Ok(delivery)) = in_flight.join_next().await {
                    tally.add(delivery);
                }
            }
            let built = Event::builder(kind)
                .seed(base.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9)))
                .webhook_id(self.ctx.webhook_id.clone())
                .build();
            let event = match built {
                Ok(event) => event,
                Err(e) => return self.fail("payload", "a payload made", e.to_string()),
            };
            let url = self.ctx.urls[replicas[i % replicas.len()]].clone();
            let sender = sender.clone();
            in_flight.spawn(async move { sender.deliver(&url, &event).await });
        }
        while let Some(joined) = in_flight.join_next().await {
            if let Ok(delivery) = joined {
                tally.add(delivery);
            }
        }
        let what = format!("answers to {} other deliveries", o.count);
        let expected = format!("{} answered 2xx", o.count);
        match tally.first_refusal {
            Some(attempt) => {
                let actual = format!(
                    "{} of {} were not; the first was answered {}",
                    tally.refused,
                    tally.refused + tally.answered,
                    attempt.answer()
                );
                self.record(attempt);
                self.fail(&what, expected, actual);
            }
            None if self.cut => {}
            None => self.push(what, CheckResult::Passed),
        }
    }
}
