//! The effect store: what a receiver did, per idempotency key.

use std::collections::HashMap;
use std::sync::Mutex;

/// Counts deliveries and effects per idempotency key.
///
/// `record` checks and marks a key under one lock, so concurrent duplicates
/// cannot both perform the effect (no check-then-act race).
#[derive(Debug, Default)]
pub struct Effects {
    inner: Mutex<HashMap<String, KeyStats>>,
}

/// What happened for one key.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KeyStats {
    /// Times the effect ran (1 for an idempotent receiver).
    pub effects: u64,
    /// Times the event was received and accepted.
    pub deliveries: u64,
}

/// Totals over all keys.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    pub keys: u64,
    pub effects: u64,
    pub deliveries: u64,
}

impl Effects {
    /// Records a delivery of `key`; returns `true` when it is the first, i.e.
    /// when the effect runs now.
    pub fn record(&self, key: &str) -> bool {
        let mut map = self.lock();
        let stats = map.entry(key.to_owned()).or_default();
        stats.deliveries += 1;
        if stats.effects == 0 {
            stats.effects = 1;
            true
        } else {
            false
        }
    }

    /// What happened for `key` (zeros when never seen).
    pub fn get(&self, key: &str) -> KeyStats {
        self.lock().get(key).copied().unwrap_or_default()
    }

    /// Totals over all keys.
    pub fn totals(&self) -> Totals {
        let map = self.lock();
        map.values().fold(
            Totals {
                keys: map.len() as u64,
                ..Totals::default()
            },
            |mut t, s| {
                t.effects += s.effects;
                t.deliveries += s.deliveries;
                t
            },
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, KeyStats>> {
        // A poisoned lock only means another handler panicked mid-update; the
        // counts are still consistent (each update is a single step).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_record_performs_the_effect() {
        let e = Effects::default();
        assert!(e.record("gen_1"));
        assert!(!e.record("gen_1"));
        assert!(e.record("gen_2"));
        assert_eq!(
            e.get("gen_1"),
            KeyStats {
                effects: 1,
                deliveries: 2
            }
        );
        assert_eq!(e.get("nope"), KeyStats::default());
        assert_eq!(
            e.totals(),
            Totals {
                keys: 2,
                effects: 2,
                deliveries: 3
            }
        );
    }
}
