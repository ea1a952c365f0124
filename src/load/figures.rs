//! What a load run measured: the live view and the final figures.

use std::time::Duration;

/// A live view while running.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    /// Time since the run started.
    pub elapsed: Duration,
    /// Deliveries started so far (duplicate copies not counted).
    pub deliveries: u64,
    /// Deliveries and copies that ended without a 2xx so far.
    pub failed: u64,
    /// Deliveries per second over the last interval.
    pub rate: f64,
    /// The 99th percentile of latency so far.
    pub p99: Duration,
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Latency {
    /// The median.
    pub p50_us: u64,
    /// The 90th percentile.
    pub p90_us: u64,
    /// The 99th percentile.
    pub p99_us: u64,
    /// The 99.9th percentile.
    pub p999_us: u64,
    /// The slowest request.
    pub max_us: u64,
    /// The mean, to 0.1 µs.
    pub mean_us: f64,
}

/// The result of a load run.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct LoadReport {
    /// The receiver's endpoint.
    pub target: String,
    /// Open or closed loop and the concurrency, in words.
    pub mode: String,
    /// Wall time of the run, in milliseconds.
    pub duration_ms: f64,
    /// Deliveries started (duplicates not counted).
    pub deliveries: u64,
    /// Deliveries and duplicate copies that ended with a 2xx (after retries, if any).
    pub delivered: u64,
    /// Deliveries that ended without a 2xx, retries exhausted or dropped.
    pub failed: u64,
    /// Failed deliveries as a share of all deliveries and copies (0 to 1).
    pub error_rate: f64,
    /// Extra deliveries of the same event (duplicates and concurrent copies).
    pub duplicates: u64,
    /// Every HTTP request, retries and duplicates included.
    pub requests: u64,
    /// Requests that were retries after a 5xx, a timeout or a connection failure.
    pub retries: u64,
    /// Deliveries started per second of the run.
    pub deliveries_per_second: f64,
    /// HTTP requests per second of the run.
    pub requests_per_second: f64,
    /// Answers by status class.
    pub status: StatusCounts,
    /// The answers that were not 2xx, by status, most first: to whom.
    pub refused: Vec<Refused>,
    /// Requests not answered within the timeout.
    pub timeouts: u64,
    /// Requests that failed at the connection (refused, reset, closed).
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
    /// Keys the probe's processes counted differently (the receiver keeps
    /// its record of handled keys per process), with the answers.
    pub per_process: Vec<(String, Vec<u64>)>,
    /// What went wrong with the probe itself, if anything.
    pub probe_error: Option<String>,
    /// Peak resident memory of this process, in MiB (Linux), for checking
    /// that memory stays flat however many deliveries.
    pub peak_rss_mib: Option<f64>,
    /// The HdrHistogram interval log written (`--hdr-log`).
    pub hdr_log: Option<String>,
    /// Why the interval log could not be written to the end, if it could not.
    pub hdr_log_error: Option<String>,
}

/// How often one status other than 2xx was answered, and to what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Refused {
    /// The status.
    pub status: u16,
    /// Answers to deliveries sent once.
    pub to_single_deliveries: u64,
    /// Answers to either copy of a duplicated delivery.
    pub to_duplicate_copies: u64,
}

impl Refused {
    /// Every answer with this status.
    pub fn total(&self) -> u64 {
        self.to_single_deliveries + self.to_duplicate_copies
    }
}

impl LoadReport {
    /// What the answers that were not 2xx were, in one line, when there
    /// were any: the pattern when they all went to duplicate copies (a
    /// receiver that refuses a duplicate), else the statuses, most first.
    pub fn refusals_said(&self) -> Option<String> {
        let client: Vec<&Refused> = self
            .refused
            .iter()
            .filter(|r| (400..500).contains(&r.status))
            .collect();
        let client_total: u64 = client.iter().map(|r| r.total()).sum();
        if let [only] = client[..]
            && only.to_single_deliveries == 0
            && self.refused.iter().all(|r| (400..500).contains(&r.status))
        {
            return Some(format!(
                "{client_total} of {client_total} 4xx answers were to duplicate copies ({}): answer a duplicate 2xx, as the first copy was, and do nothing",
                only.status
            ));
        }
        if self.refused.is_empty() {
            return None;
        }
        let listed: Vec<String> = self
            .refused
            .iter()
            .take(4)
            .map(|r| match r.to_duplicate_copies {
                0 => format!("{} x{}", r.status, r.total()),
                copies => format!("{} x{} ({copies} to duplicate copies)", r.status, r.total()),
            })
            .collect();
        let more = if self.refused.len() > 4 { ", ..." } else { "" };
        Some(format!(
            "answers that were not 2xx: {}{more}",
            listed.join(", ")
        ))
    }
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
    /// 1xx as a final answer.
    #[serde(rename = "1xx")]
    pub informational: u64,
    /// 2xx answers.
    #[serde(rename = "2xx")]
    pub success: u64,
    /// 3xx answers.
    #[serde(rename = "3xx")]
    pub redirect: u64,
    /// 4xx answers.
    #[serde(rename = "4xx")]
    pub client_error: u64,
    /// 5xx answers.
    #[serde(rename = "5xx")]
    pub server_error: u64,
    /// Statuses of 600 and above.
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
