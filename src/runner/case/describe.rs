//! A step in a few words, for reports and snapshots.

use crate::scenario::Action;
use crate::scenario::model::DeliveryMode;

/// What a step did, in a few words: `deliver generation.completed (legacy) x5`.
pub(super) fn describe_action(action: &Action) -> String {
    match action {
        Action::Options => "options".into(),
        Action::Deliver(d) => {
            let copies = d
                .copies
                .filter(|n| *n > 1)
                .map(|n| format!(" x{n}"))
                .unwrap_or_default();
            let mode = if d.mode == DeliveryMode::Single {
                " (single attempt)"
            } else {
                ""
            };
            format!("deliver {} ({}){copies}{mode}", d.event, d.dialect)
        }
        Action::Raw(r) => format!(
            "raw {}{}",
            r.method.as_deref().unwrap_or("POST"),
            r.event
                .map(|e| format!(" with {e} headers"))
                .unwrap_or_default()
        ),
        Action::Probe(_) => "probe".into(),
        Action::Wait(d) => format!("wait {}", crate::sender::format_duration(*d)),
        Action::Restart(r) => match r.replica {
            Some(replica) => format!("restart replica {replica}"),
            None => "restart".into(),
        },
        Action::Others(o) => format!(
            "{} other deliveries ({})",
            o.count,
            o.event
                .unwrap_or(crate::event::EventKind::GenerationCompleted)
        ),
    }
}
