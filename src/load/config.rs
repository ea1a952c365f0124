//! What a load run is told: how long, how fast, which events, what sizes.

use std::time::Duration;

use crate::event::EventKind;
use crate::sender::SenderConfig;
use crate::stop::Stop;

/// How long a run goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Until {
    /// For this long: at the end no new request or retry starts, and those
    /// in flight are cut (counted apart).
    After(Duration),
    /// Until this many deliveries have been made.
    Deliveries(u64),
}

impl Default for Until {
    /// 10,000 deliveries, the command line's default.
    fn default() -> Self {
        Until::Deliveries(10_000)
    }
}

/// The share of each event kind, e.g. `generation=70,embedding=20,group=10`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix(pub Vec<(EventKind, u32)>);

impl Mix {
    /// Parses `name=weight,...` (event names or their short aliases).
    pub fn parse(s: &str) -> Result<Mix, String> {
        let mut parts = Vec::new();
        for item in s.split(',').filter(|i| !i.trim().is_empty()) {
            let (name, weight) = item.split_once('=').ok_or_else(|| {
                format!("`{item}` has no `=`: write e.g. generation=70,embedding=20,group=10")
            })?;
            let kind: EventKind = name.trim().parse()?;
            let weight: u32 = weight
                .trim()
                .trim_end_matches('%')
                .parse()
                .map_err(|_| format!("`{weight}` is not a whole number in `{item}`"))?;
            parts.push((kind, weight));
        }
        if parts.iter().map(|(_, w)| *w as u64).sum::<u64>() == 0 {
            return Err(format!(
                "the mix `{s}` has no weight: give at least one event a weight above 0"
            ));
        }
        Ok(Mix(parts))
    }

    pub(super) fn total(&self) -> u64 {
        self.0.iter().map(|(_, w)| u64::from(*w)).sum()
    }
}

impl Default for Mix {
    fn default() -> Self {
        Mix(vec![
            (EventKind::GenerationCompleted, 70),
            (EventKind::AsyncEmbeddingCompleted, 20),
            (EventKind::SlowGroupCompleted, 10),
        ])
    }
}

/// Parses `5%` or `0.05` into a fraction.
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("`{s}` is not a share: write e.g. 5% or 0.05"))?;
    if !(0.0..=1.0).contains(&value) {
        // `5` meant as 5%: the sign is missing, not the sense.
        if !t.ends_with('%') && value > 1.0 && value <= 100.0 {
            return Err(format!(
                "`{s}` needs its % sign: write {t}% (or {} as a fraction)",
                value / 100.0
            ));
        }
        return Err(format!("`{s}` is not between 0% and 100%"));
    }
    Ok(value)
}

/// Parses a rate: `500`, `500/s`, `30000/m`.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (number, per) = match t.split_once('/') {
        Some((n, "s")) => (n, 1.0),
        Some((n, "m")) => (n, 60.0),
        Some(_) => return Err(format!("`{s}`: the unit must be /s or /m")),
        None => (t, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => Ok(n / per),
        _ => Err(format!("`{s}` is not a rate: write e.g. 500/s")),
    }
}

/// Which payload sizes a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sizes {
    /// 80% as built (1-3 KB), 15% about 16 KB, 5% about 48 KB (groups: 3, 20, 60 members).
    #[default]
    Mixed,
    /// Only the small variant (for comparing with tools that send one body).
    Small,
}

impl Sizes {
    /// Parses `mixed` or `small`.
    pub fn parse(s: &str) -> Result<Sizes, String> {
        match s {
            "mixed" => Ok(Sizes::Mixed),
            "small" => Ok(Sizes::Small),
            _ => Err(format!("unknown sizes `{s}`: expected mixed or small")),
        }
    }
}

/// How a load run goes.
#[derive(Debug, Clone, Default)]
pub struct LoadConfig {
    /// The receiver's endpoint (replica 0's when there are several).
    pub url: String,
    /// Every replica's endpoint, when the harness serves several
    /// (`--serve-replicas`): each worker sends to one of them in turn.
    pub replicas: Vec<String>,
    /// The effects probe's template on each replica, when there are several.
    pub replica_effects_urls: Vec<String>,
    /// The webhook identifier sent with every delivery (a secret).
    pub webhook_id: String,
    /// Requests in flight at most (closed loop: exactly this many workers).
    pub concurrency: usize,
    /// Open loop at this many deliveries per second; closed loop when `None`.
    pub rate: Option<f64>,
    /// When the run ends: after a time or a number of deliveries.
    pub until: Until,
    /// The share of each event among the deliveries.
    pub mix: Mix,
    /// Share of deliveries sent twice (half at once, half right after).
    pub duplicates: f64,
    /// Payload sizes: a realistic mix, or only the small variant.
    pub sizes: Sizes,
    /// Timeout, retry policy and TLS options of each delivery.
    pub sender: SenderConfig,
    /// The effects probe's URL template (`{key}` marks the key); effects
    /// are not checked when `None`.
    pub effects_url: Option<String>,
    /// The receiver is taken as down when no request has been answered for
    /// this long (see [`default_unanswered_window`]).
    pub unanswered_window: Duration,
    /// Fires to end the run early (interrupted, out of time); the run then
    /// reports what it did so far.
    pub stop: Stop,
    /// Write the latency histogram here as an HdrHistogram interval log.
    pub hdr_log: Option<std::path::PathBuf>,
}

/// The default window without any answer after which a load run stops:
/// the per-attempt timeout plus 5 s, and at least 10 s, so a receiver that
/// answers within the timeout is never taken as down.
pub fn default_unanswered_window(timeout: Duration) -> Duration {
    (timeout + Duration::from_secs(5)).max(Duration::from_secs(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_rates_and_shares_parse() {
        assert_eq!(Mix::parse("generation=70,group=30").unwrap().0.len(), 2);
        assert!(Mix::parse("generation").unwrap_err().contains("no `=`"));
        assert!(
            Mix::parse("generation=0")
                .unwrap_err()
                .contains("no weight")
        );
        assert!(Mix::parse("nope=1").unwrap_err().contains("unknown event"));
        assert_eq!(parse_rate("500/s"), Ok(500.0));
        assert_eq!(parse_rate("600/m"), Ok(10.0));
        assert!(parse_rate("fast").is_err());
        assert_eq!(parse_fraction("5%"), Ok(0.05));
        assert_eq!(parse_fraction("0.1"), Ok(0.1));
        assert!(parse_fraction("150%").is_err());
    }
}
