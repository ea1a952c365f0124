//! What a load run measured: the live view and the final figures.

use std::time::Duration;

/// A live view while running.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    pub elapsed: Duration,
    pub deliveries: u64,
    pub failed: u64,
    pub rate: f64,
    pub p99: Duration,
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Latency {
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
}

/// The result of a load run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub target: String,
    pub mode: String,
    pub duration_ms: f64,
    /// Deliveries started (duplicates not counted).
    pub deliveries: u64,
    pub delivered: u64,
    /// Deliveries that ended without a 2xx, retries exhausted or dropped.
    pub failed: u64,
    pub error_rate: f64,
    /// Extra deliveries of the same event (duplicates and concurrent copies).
    pub duplicates: u64,
    /// Every HTTP request, retries and duplicates included.
    pub requests: u64,
    pub retries: u64,
    pub deliveries_per_second: f64,
    pub requests_per_second: f64,
    pub status: StatusCounts,
    pub timeouts: u64,
    pub connection_errors: u64,
    /// Requests in flight (or retries waiting) when the run was cut off at
    /// its end, counted apart: neither delivered nor failed.
    pub cut_by_deadline: u64,
    /// Requests sent a second time on a fresh connection because the
    /// kept-alive one they were sent on had been closed by the receiver
    /// (not errors; see the README).
    pub resent_after_closed_connection: u64,
    /// Whether the run ended early (the figures cover what ran until then).
    pub partial: bool,
    /// Why the run ended early, if it did.
    pub stopped: Option<String>,
    /// The window without any answer after which the run stops.
    pub unanswered_window_ms: f64,
    /// Per request; in open loop measured from when the request was due.
    pub latency: Latency,
    /// Keys whose effect count was checked afterwards.
    pub probed: usize,
    /// Keys whose effect count was not 1, with the count.
    pub violations: Vec<(String, u64)>,
    /// What went wrong with the probe itself, if anything.
    pub probe_error: Option<String>,
    /// Peak resident memory of this process, in MiB (Linux), for checking
    /// that memory stays flat however many deliveries.
    pub peak_rss_mib: Option<f64>,
}

/// The process's peak resident set size in MiB, where the OS tells it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

/// Answers by status class.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct StatusCounts {
    #[serde(rename = "1xx")]
    pub informational: u64,
    #[serde(rename = "2xx")]
    pub success: u64,
    #[serde(rename = "3xx")]
    pub redirect: u64,
    #[serde(rename = "4xx")]
    pub client_error: u64,
    #[serde(rename = "5xx")]
    pub server_error: u64,
    pub other: u64,
}

impl StatusCounts {
    /// Every answer, whatever its status.
    pub fn total(&self) -> u64 {
        self.informational
            + self.success
            + self.redirect
            + self.client_error
            + self.server_error
            + self.other
    }
}
