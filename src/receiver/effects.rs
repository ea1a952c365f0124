//! The effect store: what a receiver did, per idempotency key.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

/// Keys remembered at most: the dedup window. An older key is forgotten, and
/// a duplicate of it would be processed again, as with any real receiver whose
/// dedup store expires entries. The sender retries within minutes, far inside
/// this window at any realistic rate.
pub const DEDUP_WINDOW: usize = 1_000_000;

/// Counts deliveries and effects per idempotency key.
///
/// `record` checks and marks a key under one lock, so concurrent duplicates
/// cannot both perform the effect (no check-then-act race). Keys are kept as
/// 64-bit hashes in a bounded window, so memory stays flat under any load.
#[derive(Debug, Default)]
pub struct Effects {
    inner: Mutex<Store>,
}

#[derive(Debug, Default)]
struct Store {
    stats: HashMap<u64, KeyStats, BuildHasherDefault<Prehashed>>,
    order: VecDeque<u64>,
    totals: Totals,
}

/// Keys are hashed once on the way in; the map uses that hash as it is.
#[derive(Debug, Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `u64` keys; fold anything else in.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

fn hash(key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
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
    /// Distinct idempotency keys received.
    pub keys: u64,
    /// Times an effect ran, over all keys.
    pub effects: u64,
    /// Events received and accepted, duplicates included.
    pub deliveries: u64,
}

impl Effects {
    /// Records a delivery of `key`; returns `true` when it is the first, i.e.
    /// when the effect runs now.
    pub fn record(&self, key: &str) -> bool {
        let id = hash(key);
        let mut store = self.lock();
        store.totals.deliveries += 1;
        let first = !store.stats.contains_key(&id);
        if first {
            if store.order.len() >= DEDUP_WINDOW
                && let Some(oldest) = store.order.pop_front()
            {
                store.stats.remove(&oldest);
            }
            store.order.push_back(id);
            store.totals.keys += 1;
            store.totals.effects += 1;
        }
        let stats = store.stats.entry(id).or_default();
        stats.deliveries += 1;
        stats.effects = 1;
        first
    }

    /// What happened for `key` (zeros when never seen, or forgotten).
    pub fn get(&self, key: &str) -> KeyStats {
        self.lock()
            .stats
            .get(&hash(key))
            .copied()
            .unwrap_or_default()
    }

    /// Totals since the start (forgotten keys included).
    pub fn totals(&self) -> Totals {
        self.lock().totals
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
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
