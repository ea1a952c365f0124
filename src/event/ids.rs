//! Identifier and timestamp sources: deterministic by default, unique on request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A small deterministic pseudo-random source (SplitMix64).
///
/// Payload content only needs variety and reproducibility, not cryptographic
/// strength, so a tiny generator keeps the catalog free of extra dependencies.
#[derive(Debug, Clone)]
pub struct IdSource {
    state: u64,
    unique: bool,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl IdSource {
    /// A reproducible source: the same seed yields the same ids and timestamps.
    pub fn deterministic(seed: u64) -> Self {
        IdSource {
            state: seed,
            unique: false,
        }
    }

    /// A source whose ids differ on every call, across runs and processes.
    pub fn unique() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let seed = nanos
            ^ (u64::from(std::process::id()) << 32)
            ^ count.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        IdSource {
            state: seed,
            unique: true,
        }
    }

    /// Whether ids from this source are fresh per call.
    pub fn is_unique(&self) -> bool {
        self.unique
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float in `[-1, 1)`, rounded to six decimals like real embedding output.
    pub fn next_unit(&mut self) -> f64 {
        let x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((x * 2.0 - 1.0) * 1e6).round() / 1e6
    }

    /// An integer in `lo..=hi`.
    pub fn next_in(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// `prefix` followed by `len` base62 characters, e.g. `gen_4fQ...`.
    pub fn id(&mut self, prefix: &str, len: usize) -> String {
        let mut out = String::with_capacity(prefix.len() + len);
        out.push_str(prefix);
        for _ in 0..len {
            let i = (self.next_u64() % ALPHABET.len() as u64) as usize;
            out.push(ALPHABET[i] as char);
        }
        out
    }

    /// The completion instant: a fixed date in deterministic mode, now otherwise.
    pub fn base_time(&self) -> SystemTime {
        if self.unique {
            SystemTime::now()
        } else {
            // 2026-03-13T12:00:00Z, the date of the seed page's example.
            UNIX_EPOCH + std::time::Duration::from_secs(1_773_403_200)
        }
    }
}

/// Formats a time as ISO 8601 with milliseconds, e.g. `2026-03-13T12:00:00.000Z`.
pub fn iso8601(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_sources_repeat() {
        let a = IdSource::deterministic(7).id("gen_", 20);
        let b = IdSource::deterministic(7).id("gen_", 20);
        assert_eq!(a, b);
        assert_eq!(a.len(), 24);
    }

    #[test]
    fn unique_sources_differ() {
        let a = IdSource::unique().id("gen_", 20);
        let b = IdSource::unique().id("gen_", 20);
        assert_ne!(a, b);
    }

    #[test]
    fn iso8601_has_millis_and_zulu() {
        let t = IdSource::deterministic(0).base_time();
        assert_eq!(iso8601(t), "2026-03-13T12:00:00.000Z");
    }
}
