//! Load: bursts of realistic deliveries, open or closed loop, with latency in
//! an HDR histogram and idempotency checked on a sample of keys afterwards.
//!
//! The hot path is lean: payloads are templates with the key written in place,
//! connections are pooled, each worker records into its own histogram, and no
//! per-request record is kept, so memory stays flat however long the run.

pub mod connection;
pub mod templates;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Mutex;

use crate::contract::{Next, StatusClass};
use crate::event::{EventKind, IdSource};
use crate::runner::Probe;
use crate::sender::stop::{ReceiverDown, Stop, StopReason};
use crate::sender::{Outcome, Sender, SenderConfig};

use connection::{Connection, Target};
use templates::Template;

/// How long a run goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Until {
    /// For this long: at the end no new request or retry starts, and those
    /// in flight are cut (counted apart).
    After(Duration),
    /// Until this many deliveries have been made.
    Deliveries(u64),
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

    fn total(&self) -> u64 {
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
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub url: String,
    pub webhook_id: String,
    /// Requests in flight at most (closed loop: exactly this many workers).
    pub concurrency: usize,
    /// Open loop at this many deliveries per second; closed loop when `None`.
    pub rate: Option<f64>,
    pub until: Until,
    pub mix: Mix,
    /// Share of deliveries sent twice (half at once, half right after).
    pub duplicates: f64,
    /// Payload sizes: a realistic mix, or only the small variant.
    pub sizes: Sizes,
    pub sender: SenderConfig,
    pub effects_url: Option<String>,
    /// The receiver is taken as down when no request has been answered for
    /// this long (see [`default_unanswered_window`]).
    pub unanswered_window: Duration,
    /// Fires to end the run early (interrupted, out of time); the run then
    /// reports what it did so far.
    pub stop: Stop,
}

/// The default window without any answer after which a load run stops:
/// the per-attempt timeout plus 5 s, and at least 10 s, so a receiver that
/// answers within the timeout is never taken as down.
pub fn default_unanswered_window(timeout: Duration) -> Duration {
    (timeout + Duration::from_secs(5)).max(Duration::from_secs(10))
}

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
}

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

/// Keys kept for the idempotency check: every duplicated one up to this many
/// (the most recent), plus a sample of the others.
pub const MAX_PROBED_DUPLICATES: usize = 10_000;
const SAMPLE_EVERY: u64 = 997;
const MAX_SAMPLED: usize = 200;

struct Shared {
    config: LoadConfig,
    templates: Vec<Vec<Template>>,
    tag: String,
    target: Target,
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
        .with_stop(config.stop.clone());
    let probe = match &config.effects_url {
        Some(t) => Some(Probe::new(t, sender.clone())?),
        None => None,
    };
    // Per kind: a small, a medium and a large variant (sizes typical of the contract: 5-50 KB).
    let mut templates = Vec::new();
    for (kind, _) in &config.mix.0 {
        let group = kind.is_group();
        templates.push(vec![
            Template::new(*kind, &config.webhook_id, 0, 3)?,
            Template::new(
                *kind,
                &config.webhook_id,
                if group { 0 } else { 16_000 },
                20,
            )?,
            Template::new(
                *kind,
                &config.webhook_id,
                48_000,
                if group { 60 } else { 3 },
            )?,
        ]);
    }
    let workers = config.concurrency.max(1);
    let url = reqwest::Url::parse(&config.url)
        .map_err(|e| format!("`{}` is not a URL: {e}", config.url))?;
    let target = Target::of(&url, &config.sender.tls).map_err(|e| e.to_string())?;
    // Connections are driven directly: the templates carry Host.
    for template in templates.iter_mut().flatten() {
        template.add_header(hyper::header::HOST, target.host());
    }
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
        templates,
        tag: IdSource::unique().id("", 6),
        target,
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
                live(Live {
                    elapsed: started.elapsed(),
                    deliveries: done,
                    failed: sum(&shared, |c| &c.failed),
                    rate,
                    p99: Duration::from_micros(merged(&shared).value_at_quantile(0.99)),
                });
            }
        }
    }
    let duration = started.elapsed();
    // After an early stop the probe is not asked: the user wants out, or
    // the receiver answers nothing.
    let (probed, violations, probe_error) = match &probe {
        Some(probe) if !shared.config.stop.is_stopped() => check_effects(&shared, probe).await,
        _ => (0, Vec::new(), None),
    };
    Ok(report(&shared, duration, probed, violations, probe_error))
}

/// A counter summed over the workers.
fn sum(shared: &Shared, field: impl Fn(&Counters) -> &AtomicU64) -> u64 {
    shared
        .counters
        .iter()
        .map(|c| field(c).load(Ordering::Relaxed))
        .sum()
}

/// A worker's connections: one for its deliveries, one for concurrent copies.
struct Connections {
    main: Connection,
    copy: Connection,
}

impl Connections {
    fn new(shared: &Shared) -> Connections {
        Connections {
            main: Connection::new(shared.target.clone()),
            copy: Connection::new(shared.target.clone()),
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

/// Takes the next delivery number, or `None` when the run is over.
fn next(shared: &Shared) -> Option<u64> {
    if shared.stop.load(Ordering::Relaxed) || shared.cut.is_cancelled() {
        return None;
    }
    let n = shared.next.fetch_add(1, Ordering::Relaxed);
    match shared.config.until {
        Until::Deliveries(limit) if n >= limit => {
            shared.stop.store(true, Ordering::Relaxed);
            None
        }
        _ => Some(n),
    }
}

async fn closed_loop(shared: &Shared, worker: usize) {
    let mut connections = Connections::new(shared);
    while let Some(n) = next(shared) {
        deliver(shared, worker, &mut connections, n, None).await;
    }
}

async fn open_loop(
    shared: &Shared,
    worker: usize,
    rx: Arc<Mutex<tokio::sync::mpsc::Receiver<(u64, tokio::time::Instant)>>>,
) {
    let mut connections = Connections::new(shared);
    loop {
        let job = tokio::select! {
            job = async { rx.lock().await.recv().await } => job,
            _ = shared.cut.cancelled() => None,
        };
        match job {
            Some((n, due)) => deliver(shared, worker, &mut connections, n, Some(due)).await,
            None => return,
        }
    }
}

/// Emits delivery `n` due at `start + n / rate`; the due time, not the send
/// time, is where latency is measured from, so a slow receiver cannot hide it.
async fn schedule(
    shared: &Shared,
    rate: f64,
    tx: tokio::sync::mpsc::Sender<(u64, tokio::time::Instant)>,
) {
    let start = tokio::time::Instant::now();
    let mut n = 0u64;
    loop {
        // The schedule itself decides how many are due: rate x duration,
        // whenever it started, so the count does not depend on start-up time.
        let offset = Duration::from_secs_f64(n as f64 / rate);
        let due = start + offset;
        let over = match shared.config.until {
            Until::After(d) => offset >= d,
            Until::Deliveries(limit) => n >= limit,
        };
        if over {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(due) => {}
            _ = shared.cut.cancelled() => break,
        }
        if tx.send((n, due)).await.is_err() {
            break;
        }
        n += 1;
    }
    shared.next.store(n, Ordering::Relaxed);
}

/// One delivery (and its duplicate, when chosen): POSTs with the retry policy.
async fn deliver(
    shared: &Shared,
    worker: usize,
    connections: &mut Connections,
    n: u64,
    due: Option<tokio::time::Instant>,
) {
    let bits = mix_bits(n);
    let mix = &shared.config.mix;
    let mut pick = bits % mix.total();
    let mut kind_index = 0;
    for (i, (_, weight)) in mix.0.iter().enumerate() {
        if pick < u64::from(*weight) {
            kind_index = i;
            break;
        }
        pick -= u64::from(*weight);
    }
    let size = match ((bits >> 32) % 100, shared.config.sizes) {
        (_, Sizes::Small) | (0..=79, _) => 0,
        (80..=94, _) => 1,
        _ => 2,
    };
    let template = &shared.templates[kind_index][size];
    let key = templates::key(template.prefix(), &shared.tag, n);
    let counters = &shared.counters[worker];
    counters.deliveries.fetch_add(1, Ordering::Relaxed);
    let duplicate = ((bits >> 16) % 1_000_000) as f64 / 1_000_000.0 < shared.config.duplicates;
    if duplicate {
        counters.duplicates.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut keys) = shared.duplicated.lock() {
            if keys.len() >= MAX_PROBED_DUPLICATES {
                keys.pop_front();
            }
            keys.push_back(key.clone());
        }
        // Boxed: the rare duplicate path keeps the common future small.
        Box::pin(duplicate_copies(
            shared,
            worker,
            connections,
            template,
            &key,
            due,
            bits,
        ))
        .await;
    } else {
        if n.is_multiple_of(SAMPLE_EVERY)
            && let Ok(mut sampled) = shared.sampled.lock()
            && sampled.len() < MAX_SAMPLED
        {
            sampled.push(key.clone());
        }
        send(shared, worker, &mut connections.main, template, &key, due).await;
    }
}

/// Sends a duplicated delivery twice: at once on two connections, or one after the other.
async fn duplicate_copies(
    shared: &Shared,
    worker: usize,
    connections: &mut Connections,
    template: &Template,
    key: &str,
    due: Option<tokio::time::Instant>,
    bits: u64,
) {
    if (bits >> 8).is_multiple_of(2) {
        let Connections { main, copy } = connections;
        tokio::join!(
            send(shared, worker, main, template, key, due),
            send(shared, worker, copy, template, key, None)
        );
    } else {
        send(shared, worker, &mut connections.main, template, key, due).await;
        send(shared, worker, &mut connections.main, template, key, None).await;
    }
}

/// Sends one copy with the retry policy; counts and records latency. At the
/// end of the run (or when it is stopped) the request in flight, or the
/// retry waiting, is cut and counted apart.
async fn send(
    shared: &Shared,
    worker: usize,
    connection: &mut Connection,
    template: &Template,
    key: &str,
    due: Option<tokio::time::Instant>,
) {
    let counters = &shared.counters[worker];
    let timeout = shared.config.sender.timeout;
    let policy = shared.config.sender.retry_policy();
    let render = || template.render(key);
    let mut retry = 0;
    let mut due = due;
    loop {
        let attempt = tokio::select! {
            biased;
            _ = shared.cut.cancelled() => {
                counters.cut.fetch_add(1, Ordering::Relaxed);
                return;
            }
            a = connection.post(&render, timeout) => a,
        };
        counters.requests.fetch_add(1, Ordering::Relaxed);
        if attempt.resent {
            counters.resent.fetch_add(1, Ordering::Relaxed);
        }
        // In open loop the first attempt counts from when it was due.
        let latency = match due.take() {
            Some(d) => tokio::time::Instant::now().saturating_duration_since(d),
            None => attempt.latency,
        };
        if let Ok(mut h) = shared.histograms[worker].lock() {
            h.saturating_record(latency.as_micros().max(1) as u64);
        }
        match attempt.status {
            Some(s) => {
                shared.last_answer_us.fetch_max(
                    shared.started.elapsed().as_micros() as u64,
                    Ordering::Relaxed,
                );
                let class = match StatusClass::of(s) {
                    StatusClass::Informational => 0,
                    StatusClass::Success => 1,
                    StatusClass::Redirect => 2,
                    StatusClass::ClientError => 3,
                    StatusClass::ServerError => 4,
                    StatusClass::Other => 5,
                };
                counters.status[class].fetch_add(1, Ordering::Relaxed);
            }
            None if attempt.outcome == Outcome::Timeout => {
                counters.timeouts.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                counters.connection_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        let next = attempt.outcome.answered().map(|a| policy.next(a, retry));
        let wait = match next {
            Some(Next::RetryAfter(wait)) => wait,
            _ if attempt.outcome == Outcome::Success => {
                counters.delivered.fetch_add(1, Ordering::Relaxed);
                return;
            }
            _ => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        retry += 1;
        counters.retries.fetch_add(1, Ordering::Relaxed);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shared.cut.cancelled() => {
                counters.cut.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
}

async fn check_effects(
    shared: &Shared,
    probe: &Probe,
) -> (usize, Vec<(String, u64)>, Option<String>) {
    let mut keys: Vec<String> = shared
        .duplicated
        .lock()
        .map(|k| k.iter().cloned().collect())
        .unwrap_or_default();
    keys.extend(shared.sampled.lock().map(|k| k.clone()).unwrap_or_default());
    let probed = keys.len();
    let results: Vec<(String, Result<u64, String>)> = ask_all(keys, probe).await;
    let mut violations = Vec::new();
    let mut error = None;
    for (key, result) in results {
        match result {
            Ok(1) => {}
            Ok(count) => violations.push((key, count)),
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    violations.sort();
    (probed, violations, error)
}

/// Asks the probe for every key, 16 at a time.
async fn ask_all(keys: Vec<String>, probe: &Probe) -> Vec<(String, Result<u64, String>)> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(16) {
        let mut set = tokio::task::JoinSet::new();
        for key in chunk {
            let (probe, key) = (probe.clone(), key.clone());
            set.spawn(async move {
                let (result, _) = probe.count(&key).await;
                (key, result)
            });
        }
        while let Some(Ok(r)) = set.join_next().await {
            out.push(r);
        }
    }
    out
}

fn report(
    shared: &Shared,
    duration: Duration,
    probed: usize,
    violations: Vec<(String, u64)>,
    probe_error: Option<String>,
) -> LoadReport {
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
        timeouts: sum(shared, |c| &c.timeouts),
        connection_errors: sum(shared, |c| &c.connection_errors),
        cut_by_deadline: sum(shared, |c| &c.cut),
        resent_after_closed_connection: sum(shared, |c| &c.resent),
        partial: shared.config.stop.is_stopped(),
        stopped: shared.config.stop.reason().map(|r| r.to_string()),
        unanswered_window_ms: shared.config.unanswered_window.as_secs_f64() * 1e3,
        latency: Latency {
            p50_us: h.value_at_quantile(0.5),
            p90_us: h.value_at_quantile(0.9),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
            mean_us: (h.mean() * 10.0).round() / 10.0,
        },
        probed,
        violations,
        probe_error,
        peak_rss_mib: peak_rss_mib(),
    }
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
