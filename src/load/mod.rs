//! Load: bursts of realistic deliveries, open or closed loop, with latency in
//! an HDR histogram and idempotency checked on a sample of keys afterwards.
//!
//! The hot path is lean: payloads are templates with the key written in place,
//! connections are pooled, each worker records into its own histogram, and no
//! per-request record is kept, so memory stays flat however long the run.

mod config;
mod connection;
mod effects;
mod figures;
pub mod hdr_log;
mod http1;
mod templates;
mod worker;

pub use config::{
    LoadConfig, Mix, Sizes, Until, default_unanswered_window, parse_fraction, parse_rate,
};
pub use figures::{Latency, Live, LoadReport, Refused, StatusCounts, peak_rss_mib};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Mutex;

use crate::event::IdSource;
use crate::runner::Probe;
use crate::sender::Sender;
use crate::sender::url::ReceiverUrl;
use crate::stop::{ReceiverDown, StopReason};
use effects::{Checked, check_effects};
use worker::{closed_loop, open_loop, schedule};

use connection::{Connection, Endpoint};
use templates::Template;

/// Counts of one worker (each worker has its own, so no cache line is shared).
#[derive(Debug, Default)]
struct Counters {
    deliveries: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    duplicates: AtomicU64,
    timeouts: AtomicU64,
    connection_errors: AtomicU64,
    /// Requests in flight (or retries waiting) when the run was cut off.
    cut: AtomicU64,
    /// Requests sent again after a kept-alive connection turned out closed.
    resent: AtomicU64,
    /// 1xx..5xx and other, by index 0..=5.
    status: [AtomicU64; 6],
    /// Answers that were not 2xx, by status: to single deliveries, and to
    /// copies of duplicated ones (touched only off the 2xx path).
    refused: std::sync::Mutex<std::collections::BTreeMap<u16, [u64; 2]>>,
}

/// Keys kept for the idempotency check: every duplicated one up to this many
/// (the most recent), plus a sample of the others.
pub const MAX_PROBED_DUPLICATES: usize = 10_000;
const SAMPLE_EVERY: u64 = 997;
const MAX_SAMPLED: usize = 200;

struct Shared {
    config: LoadConfig,
    /// One permit per request in flight (or retry waiting): `--concurrency`
    /// of them, so that the two copies of a concurrent duplicate never make
    /// more requests in flight than asked for.
    slots: tokio::sync::Semaphore,
    /// Per replica, per event kind, per size.
    templates: Vec<Vec<Vec<Template>>>,
    tag: String,
    /// Each replica's endpoint (one when the receiver is not replicated).
    targets: Vec<Endpoint>,
    counters: Vec<Counters>,
    next: AtomicU64,
    stop: AtomicBool,
    /// Fires at the end of `--duration`, or when the run is stopped: no new
    /// request or retry starts, and those in flight are cut.
    cut: tokio_util::sync::CancellationToken,
    started: tokio::time::Instant,
    /// Microseconds from `started` to the last answer of any kind.
    last_answer_us: AtomicU64,
    duplicated: std::sync::Mutex<std::collections::VecDeque<String>>,
    sampled: std::sync::Mutex<Vec<String>>,
    histograms: Vec<Arc<std::sync::Mutex<Histogram<u64>>>>,
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 10 minutes at 3 significant digits; saturates above.
    Histogram::new_with_bounds(1, 600_000_000, 3).unwrap_or_else(|_| {
        Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits are valid"))
    })
}

/// Cheap, well-mixed bits from a delivery number (SplitMix64 finalizer).
fn mix_bits(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs the load; `live` is called about twice a second.
pub async fn run(config: LoadConfig, mut live: impl FnMut(Live)) -> Result<LoadReport, String> {
    let sender = Sender::new(config.sender.clone())
        .map_err(|e| e.to_string())?
        .with_cancel(config.stop.token().clone());
    let probe = Probe::of_run(
        config.effects_url.as_deref(),
        &config.replica_effects_urls,
        &sender,
    )?;
    let urls = match config.replicas.len() {
        0 | 1 => vec![config.url.clone()],
        _ => config.replicas.clone(),
    };
    let mut targets = Vec::new();
    let mut templates = Vec::new();
    for url in &urls {
        let parsed =
            ReceiverUrl::parse(url).map_err(|e| e.explain(url, "http://127.0.0.1:3000/webhook"))?;
        let target = Endpoint::of(&parsed, &config.sender.tls).map_err(|e| e.to_string())?;
        let head_start = target.head_start();
        // Per kind: a small, a medium and a large variant (sizes typical of the contract: 5-50 KB).
        let mut per_kind = Vec::new();
        for (kind, _) in &config.mix.0 {
            let group = kind.is_group();
            let id = &config.webhook_id;
            per_kind.push(vec![
                Template::new(*kind, id, 0, 3, &head_start)?,
                Template::new(*kind, id, if group { 0 } else { 16_000 }, 20, &head_start)?,
                Template::new(*kind, id, 48_000, if group { 60 } else { 3 }, &head_start)?,
            ]);
        }
        targets.push(target);
        templates.push(per_kind);
    }
    let workers = config.concurrency.max(1);
    let cut = config.stop.token().child_token();
    if let Until::After(d) = config.until {
        let cut = cut.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(d) => cut.cancel(),
                _ = cut.cancelled() => {}
            }
        });
    }
    let shared = Arc::new(Shared {
        slots: tokio::sync::Semaphore::new(workers),
        templates,
        tag: IdSource::unique().id("", 6),
        targets,
        counters: (0..workers).map(|_| Counters::default()).collect(),
        next: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        cut,
        started: tokio::time::Instant::now(),
        last_answer_us: AtomicU64::new(0),
        duplicated: Default::default(),
        sampled: Default::default(),
        histograms: (0..workers)
            .map(|_| Arc::new(std::sync::Mutex::new(histogram())))
            .collect(),
        config,
    });
    let mut interval_log = match &shared.config.hdr_log {
        Some(path) => Some(
            hdr_log::IntervalLog::create(
                path,
                std::time::SystemTime::now(),
                &format!(
                    "webhook-harness {} load on {}",
                    env!("CARGO_PKG_VERSION"),
                    shared.config.url
                ),
                histogram(),
            )
            .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let mut hdr_log_error = None;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    match shared.config.rate {
        None => {
            for w in 0..workers {
                let shared = shared.clone();
                tasks.spawn(async move { closed_loop(&shared, w).await });
            }
        }
        Some(rate) => {
            let (tx, rx) = tokio::sync::mpsc::channel::<(u64, tokio::time::Instant)>(workers * 4);
            let rx = Arc::new(Mutex::new(rx));
            for w in 0..workers {
                let (shared, rx) = (shared.clone(), rx.clone());
                tasks.spawn(async move { open_loop(&shared, w, rx).await });
            }
            let shared = shared.clone();
            tasks.spawn(async move { schedule(&shared, rate, tx).await });
        }
    }
    let mut last = (Instant::now(), 0u64);
    loop {
        tokio::select! {
            joined = tasks.join_next() => {
                if joined.is_none() {
                    break;
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(500)) => {
                let last_answer = Duration::from_micros(shared.last_answer_us.load(Ordering::Relaxed));
                let window = shared.config.unanswered_window;
                if shared.started.elapsed().saturating_sub(last_answer) > window
                    && !shared.cut.is_cancelled()
                {
                    shared.config.stop.stop(StopReason::ReceiverDown(ReceiverDown::Silent(window)));
                }
                let done = sum(&shared, |c| &c.deliveries);
                let now = Instant::now();
                let rate = (done - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(1e-9);
                last = (now, done);
                let all = merged(&shared);
                if let Some(log) = &mut interval_log
                    && let Err(e) = log.interval(&all, started.elapsed())
                {
                    hdr_log_error = Some(e.to_string());
                    interval_log = None;
                }
                live(Live {
                    elapsed: started.elapsed(),
                    deliveries: done,
                    failed: sum(&shared, |c| &c.failed),
                    rate,
                    p99: Duration::from_micros(all.value_at_quantile(0.99)),
                });
            }
        }
    }
    let duration = started.elapsed();
    if let Some(log) = interval_log {
        let counts = hdr_log::RunCounts {
            deliveries: sum(&shared, |c| &c.deliveries),
            delivered: sum(&shared, |c| &c.delivered),
            failed: sum(&shared, |c| &c.failed),
            duplicates: sum(&shared, |c| &c.duplicates),
            requests: sum(&shared, |c| &c.requests),
        };
        if let Err(e) = log.finish(&merged(&shared), duration, counts) {
            hdr_log_error = Some(e.to_string());
        }
    }
    // After an early stop the probe is not asked: the user wants out, or
    // the receiver answers nothing.
    let checked = match &probe {
        Some(probe) if !shared.config.stop.is_stopped() => check_effects(&shared, probe).await,
        _ => Checked::default(),
    };
    let mut report = report(&shared, duration, checked);
    report.hdr_log_error = hdr_log_error;
    Ok(report)
}

/// A counter summed over the workers.
fn sum(shared: &Shared, field: impl Fn(&Counters) -> &AtomicU64) -> u64 {
    shared
        .counters
        .iter()
        .map(|c| field(c).load(Ordering::Relaxed))
        .sum()
}

/// The answers that were not 2xx, by status over every worker, most first.
fn refused(shared: &Shared) -> Vec<Refused> {
    let mut all: std::collections::BTreeMap<u16, [u64; 2]> = Default::default();
    for counters in &shared.counters {
        if let Ok(refused) = counters.refused.lock() {
            for (status, [single, copies]) in refused.iter() {
                let entry = all.entry(*status).or_default();
                entry[0] += single;
                entry[1] += copies;
            }
        }
    }
    let mut refused: Vec<Refused> = all
        .into_iter()
        .map(|(status, [single, copies])| Refused {
            status,
            to_single_deliveries: single,
            to_duplicate_copies: copies,
        })
        .collect();
    refused.sort_by_key(|r| std::cmp::Reverse(r.total()));
    refused
}

/// A worker's connections: one for its deliveries, one for the second copy
/// of a duplicated delivery; with several replicas, the second goes to the
/// next replica, so that duplicates meet the store the replicas share.
struct Connections {
    main: Connection,
    copy: Connection,
    /// The replicas they go to.
    main_replica: usize,
    copy_replica: usize,
}

impl Connections {
    fn new(shared: &Shared, worker: usize) -> Connections {
        let replicas = shared.targets.len();
        let (main_replica, copy_replica) = (worker % replicas, (worker + 1) % replicas);
        Connections {
            main: Connection::new(shared.targets[main_replica].clone()),
            copy: Connection::new(shared.targets[copy_replica].clone()),
            main_replica,
            copy_replica,
        }
    }
}

fn merged(shared: &Shared) -> Histogram<u64> {
    let mut all = histogram();
    for h in &shared.histograms {
        if let Ok(h) = h.lock() {
            let _ = all.add(&*h);
        }
    }
    all
}

fn report(shared: &Shared, duration: Duration, checked: Checked) -> LoadReport {
    let h = merged(shared);
    let secs = duration.as_secs_f64().max(1e-9);
    let deliveries = sum(shared, |c| &c.deliveries);
    let failed = sum(shared, |c| &c.failed);
    let attempts_total = deliveries + sum(shared, |c| &c.duplicates);
    LoadReport {
        target: shared.config.url.clone(),
        mode: match shared.config.rate {
            Some(r) => format!(
                "open loop at {r}/s, up to {} in flight",
                shared.config.concurrency
            ),
            None => format!("closed loop, {} in flight", shared.config.concurrency),
        },
        duration_ms: (secs * 1e6).round() / 1e3,
        deliveries,
        delivered: sum(shared, |c| &c.delivered),
        failed,
        error_rate: if attempts_total == 0 {
            0.0
        } else {
            failed as f64 / attempts_total as f64
        },
        duplicates: sum(shared, |c| &c.duplicates),
        requests: sum(shared, |c| &c.requests),
        retries: sum(shared, |c| &c.retries),
        deliveries_per_second: deliveries as f64 / secs,
        requests_per_second: sum(shared, |c| &c.requests) as f64 / secs,
        status: StatusCounts {
            informational: sum(shared, |c| &c.status[0]),
            success: sum(shared, |c| &c.status[1]),
            redirect: sum(shared, |c| &c.status[2]),
            client_error: sum(shared, |c| &c.status[3]),
            server_error: sum(shared, |c| &c.status[4]),
            other: sum(shared, |c| &c.status[5]),
        },
        refused: refused(shared),
        timeouts: sum(shared, |c| &c.timeouts),
        connection_errors: sum(shared, |c| &c.connection_errors),
        cut_by_deadline: sum(shared, |c| &c.cut),
        resent_after_closed_connection: sum(shared, |c| &c.resent),
        partial: shared.config.stop.is_stopped(),
        stopped: shared.config.stop.reason().map(|r| r.to_string()),
        unanswered_window_ms: shared.config.unanswered_window.as_secs_f64() * 1e3,
        latency: hdr_log::latency_of(&h),
        probed: checked.probed,
        violations: checked.violations,
        per_process: checked.per_process,
        probe_error: checked.error,
        peak_rss_mib: peak_rss_mib(),
        hdr_log: shared
            .config
            .hdr_log
            .as_ref()
            .map(|p| p.display().to_string()),
        hdr_log_error: None,
    }
}
