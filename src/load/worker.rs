//! The workers: closed loop, open loop with its schedule, one delivery with
//! its duplicate, one request with the retry policy.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::Mutex;

use super::connection::Connection;
use super::templates::{self, Template};
use super::{
    Connections, MAX_PROBED_DUPLICATES, MAX_SAMPLED, SAMPLE_EVERY, Shared, Sizes, Until, mix_bits,
};
use crate::contract::{Next, StatusClass};
use crate::sender::Outcome;

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

pub(super) async fn closed_loop(shared: &Shared, worker: usize) {
    let mut connections = Connections::new(shared, worker);
    while let Some(n) = next(shared) {
        deliver(shared, worker, &mut connections, n, None).await;
    }
}

pub(super) async fn open_loop(
    shared: &Shared,
    worker: usize,
    rx: Arc<Mutex<tokio::sync::mpsc::Receiver<(u64, tokio::time::Instant)>>>,
) {
    let mut connections = Connections::new(shared, worker);
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
pub(super) async fn schedule(
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
    let template = &shared.templates[connections.main_replica][kind_index][size];
    let copy_template = &shared.templates[connections.copy_replica][kind_index][size];
    let key = templates::key(template.prefix(), &shared.tag, n);
    let duplicate = ((bits >> 16) % 1_000_000) as f64 / 1_000_000.0 < shared.config.duplicates;
    // Two copies at once take two of the `--concurrency` slots (with one
    // slot in all, the copies go one after the other). A delivery that the
    // end of the run finds waiting for its slots was never started.
    let together = duplicate && (bits >> 8).is_multiple_of(2) && shared.config.concurrency > 1;
    let slots = if together { 2 } else { 1 };
    let _slots = tokio::select! {
        biased;
        _ = shared.cut.cancelled() => return,
        permit = shared.slots.acquire_many(slots) => match permit {
            Ok(permit) => permit,
            Err(_) => return,
        },
    };
    let counters = &shared.counters[worker];
    counters.deliveries.fetch_add(1, Ordering::Relaxed);
    // A key is probed only once a copy of it was answered 2xx: a delivery
    // cut by the deadline, or refused, may rightly have had no effect.
    if duplicate {
        counters.duplicates.fetch_add(1, Ordering::Relaxed);
        // Boxed: the rare duplicate path keeps the common future small.
        let delivered = Box::pin(duplicate_copies(
            shared,
            worker,
            connections,
            [template, copy_template],
            &key,
            due,
            together,
        ))
        .await;
        if delivered && let Ok(mut keys) = shared.duplicated.lock() {
            if keys.len() >= MAX_PROBED_DUPLICATES {
                keys.pop_front();
            }
            keys.push_back(key);
        }
    } else {
        let main = &mut connections.main;
        let delivered = send(shared, worker, main, template, &key, due, Copy::Single).await;
        if delivered
            && n.is_multiple_of(SAMPLE_EVERY)
            && let Ok(mut sampled) = shared.sampled.lock()
            && sampled.len() < MAX_SAMPLED
        {
            sampled.push(key);
        }
    }
}

/// Sends a duplicated delivery twice, on the worker's two connections (to
/// two replicas when there are several): at once (`together`), or one
/// after the other. `templates`: each connection's. Whether either copy was
/// answered 2xx.
async fn duplicate_copies(
    shared: &Shared,
    worker: usize,
    connections: &mut Connections,
    [first, second]: [&Template; 2],
    key: &str,
    due: Option<tokio::time::Instant>,
    together: bool,
) -> bool {
    let Connections { main, copy, .. } = connections;
    if together {
        let (a, b) = tokio::join!(
            send(shared, worker, main, first, key, due, Copy::Duplicated),
            send(shared, worker, copy, second, key, None, Copy::Duplicated)
        );
        a || b
    } else {
        let a = send(shared, worker, main, first, key, due, Copy::Duplicated).await;
        // A first copy cut by the end of the run has no second.
        if shared.cut.is_cancelled() {
            return a;
        }
        let b = send(shared, worker, copy, second, key, None, Copy::Duplicated).await;
        a || b
    }
}

/// Whether a request is a delivery sent once, or a copy of a duplicated one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Copy {
    Single,
    Duplicated,
}

/// Sends one copy with the retry policy; counts and records latency. At the
/// end of the run (or when it is stopped) the request in flight, or the
/// retry waiting, is cut and counted apart. Whether it was answered 2xx.
async fn send(
    shared: &Shared,
    worker: usize,
    connection: &mut Connection,
    template: &Template,
    key: &str,
    due: Option<tokio::time::Instant>,
    copy: Copy,
) -> bool {
    let counters = &shared.counters[worker];
    let timeout = shared.config.sender.timeout;
    let policy = shared.config.sender.retry_policy();
    let mut retry = 0;
    let mut due = due;
    loop {
        let attempt = tokio::select! {
            biased;
            _ = shared.cut.cancelled() => {
                counters.cut.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            a = connection.post(template, key, timeout) => a,
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
                if class != 1
                    && let Ok(mut refused) = counters.refused.lock()
                {
                    refused.entry(s).or_default()[usize::from(copy == Copy::Duplicated)] += 1;
                }
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
                return true;
            }
            _ => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                return false;
            }
        };
        retry += 1;
        counters.retries.fetch_add(1, Ordering::Relaxed);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shared.cut.cancelled() => {
                counters.cut.fetch_add(1, Ordering::Relaxed);
                return false;
            }
        }
    }
}
