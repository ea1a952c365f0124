//! Latency in the HdrHistogram interval-log format (`load --hdr-log FILE`),
//! and several such logs merged into one set of figures (`load merge`).
//!
//! The file is the standard format that HdrHistogram's own tools read
//! (`HistogramLogProcessor`, HdrHistogram's plotter): `#[StartTime]` and
//! `#[BaseTime]` headers, then one line per interval with its start (seconds
//! after BaseTime), its length, its largest value and the histogram, V2
//! compressed and base64-encoded. Values are request latencies in
//! microseconds. The counts the histograms cannot carry (deliveries,
//! failures) are in one closing comment line,
//! `#[webhook-harness summary: deliveries=... ]`, which other tools skip.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry,
};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};

use super::figures::Latency;

/// The prefix of the closing comment line with a run's counts.
const SUMMARY: &str = "#[webhook-harness summary:";

/// Why a log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum HdrLogError {
    /// The file could not be created or written.
    #[error("cannot write the HdrHistogram log {}: {source}", path.display())]
    Write {
        /// The log.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file could not be read.
    #[error(
        "cannot read {}: {source}; pass the files `load --hdr-log` wrote",
        path.display()
    )]
    Read {
        /// The log.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A line is not of the interval-log format.
    #[error(
        "{}:{line}:{column}: not a line of an HdrHistogram interval log; pass files written by `load --hdr-log`",
        path.display()
    )]
    Parse {
        /// The log.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// An interval's histogram does not decode.
    #[error(
        "{}:{line}: the histogram of this interval does not decode ({reason}); the file may be cut or edited",
        path.display()
    )]
    Histogram {
        /// The log.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What the decoder said.
        reason: String,
    },
    /// Its histograms cannot be added to the other logs' ones.
    #[error(
        "{}: its histograms do not add to the others' (another range or precision); merge logs written by `load --hdr-log`",
        path.display()
    )]
    Incompatible {
        /// The log.
        path: PathBuf,
    },
    /// The log holds no interval.
    #[error(
        "{}: no interval in this log; was the run stopped before its first second?",
        path.display()
    )]
    Empty {
        /// The log.
        path: PathBuf,
    },
}

/// The counts of one run, written as the log's closing comment.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct RunCounts {
    /// Deliveries started (duplicates not counted).
    pub deliveries: u64,
    /// Deliveries and copies answered 2xx.
    pub delivered: u64,
    /// Deliveries and copies that ended without a 2xx.
    pub failed: u64,
    /// Extra copies of the same event.
    pub duplicates: u64,
    /// HTTP requests, retries included.
    pub requests: u64,
}

impl RunCounts {
    fn line(&self) -> String {
        format!(
            "{SUMMARY} deliveries={} delivered={} failed={} duplicates={} requests={}]",
            self.deliveries, self.delivered, self.failed, self.duplicates, self.requests
        )
    }

    fn parse(line: &str) -> Option<RunCounts> {
        let body = line.strip_prefix(SUMMARY)?.trim().strip_suffix(']')?;
        let mut counts = RunCounts::default();
        for pair in body.split_whitespace() {
            let (name, value) = pair.split_once('=')?;
            let value: u64 = value.parse().ok()?;
            match name {
                "deliveries" => counts.deliveries = value,
                "delivered" => counts.delivered = value,
                "failed" => counts.failed = value,
                "duplicates" => counts.duplicates = value,
                "requests" => counts.requests = value,
                _ => {}
            }
        }
        Some(counts)
    }
}

/// An interval log being written: each call adds the latencies recorded
/// since the last one as an interval.
pub struct IntervalLog {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    serializer: V2DeflateSerializer,
    /// The cumulative histogram at the end of the last interval.
    last: Histogram<u64>,
    /// Its time after the start.
    last_at: Duration,
}

impl IntervalLog {
    /// Creates `path` and writes the headers; `started` is when the run began.
    pub fn create(
        path: &Path,
        started: SystemTime,
        comment: &str,
        empty: Histogram<u64>,
    ) -> Result<IntervalLog, HdrLogError> {
        let error = |source| HdrLogError::Write {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::create(path).map_err(error)?;
        let mut log = IntervalLog {
            path: path.to_owned(),
            file: std::io::BufWriter::new(file),
            serializer: V2DeflateSerializer::new(),
            last: empty,
            last_at: Duration::ZERO,
        };
        IntervalLogWriterBuilder::new()
            .add_comment(comment)
            .add_comment("Values are request latencies in microseconds")
            .with_start_time(started)
            .with_base_time(started)
            .begin_log_with(&mut log.file, &mut log.serializer)
            .map_err(error)?;
        log.file.flush().map_err(error)?;
        Ok(log)
    }

    /// Writes what `cumulative` (every latency since the start) gained since
    /// the last interval, as the interval ending `at` after the start.
    pub fn interval(
        &mut self,
        cumulative: &Histogram<u64>,
        at: Duration,
    ) -> Result<(), HdrLogError> {
        let mut interval = cumulative.clone();
        // Only counts are added between intervals, so this cannot underflow;
        // if it could not be done, the interval is skipped rather than wrong.
        if interval.subtract(&self.last).is_err() {
            return Ok(());
        }
        let start = self.last_at;
        self.last = cumulative.clone();
        self.last_at = at;
        // Empty intervals are written too: the log covers the run's whole
        // time, so rates computed from it are right.
        let path = self.path.clone();
        let mut writer = IntervalLogWriterBuilder::new()
            .begin_log_with(&mut self.file, &mut self.serializer)
            .map_err(|source| HdrLogError::Write {
                path: path.clone(),
                source,
            })?;
        writer
            .write_histogram(&interval, start, at.saturating_sub(start), None)
            .map_err(|e| HdrLogError::Write {
                path: path.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
        self.file
            .flush()
            .map_err(|source| HdrLogError::Write { path, source })
    }

    /// Writes the last interval and the closing counts.
    pub fn finish(
        mut self,
        cumulative: &Histogram<u64>,
        at: Duration,
        counts: RunCounts,
    ) -> Result<(), HdrLogError> {
        self.interval(cumulative, at)?;
        let error = |source| HdrLogError::Write {
            path: self.path.clone(),
            source,
        };
        writeln!(self.file, "{}", counts.line()).map_err(error)?;
        self.file.flush().map_err(error)
    }
}

/// One runner's log, read back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunnerLog {
    /// The file.
    pub file: String,
    /// Requests recorded in its histograms.
    pub requests: u64,
    /// Its closing counts; `None` when the run was cut before writing them.
    pub counts: Option<RunCounts>,
    /// First moment covered, in seconds since the epoch.
    pub from_s: f64,
    /// Last moment covered, in seconds since the epoch.
    pub to_s: f64,
}

/// Several runners' logs as one.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Merged {
    /// One entry per file.
    pub runners: Vec<RunnerLog>,
    /// From the first runner's start to the last runner's end, in ms.
    pub span_ms: f64,
    /// Requests recorded (every runner's histograms).
    pub requests: u64,
    /// The sums of the runners' closing counts (runners without them left out).
    pub counts: RunCounts,
    /// Failed deliveries as a share of deliveries and copies.
    pub error_rate: f64,
    /// Deliveries per second over the span.
    pub deliveries_per_second: f64,
    /// Requests per second over the span.
    pub requests_per_second: f64,
    /// Percentiles of every request of every runner (exact: the histograms
    /// are added, not the percentiles averaged).
    pub latency: Latency,
}

/// Reads one log written by `load --hdr-log`: what it says, and all its
/// intervals added into one histogram.
pub fn read(path: &Path) -> Result<(RunnerLog, Histogram<u64>), HdrLogError> {
    let bytes = std::fs::read(path).map_err(|source| HdrLogError::Read {
        path: path.to_owned(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let counts = text.lines().rev().find_map(RunCounts::parse);
    let line_of = |offset: usize| {
        bytes[..offset.min(bytes.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    };
    let column_of = |offset: usize| {
        let offset = offset.min(bytes.len());
        offset
            - bytes[..offset]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1)
            + 1
    };
    let mut base = 0.0_f64;
    let mut histogram: Option<Histogram<u64>> = None;
    let (mut from, mut to) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut deserializer = Deserializer::new();
    for entry in IntervalLogIterator::new(&bytes) {
        let entry = entry.map_err(|e| {
            let hdrhistogram::serialization::interval_log::LogIteratorError::ParseError { offset } =
                e;
            HdrLogError::Parse {
                path: path.to_owned(),
                line: line_of(offset),
                column: column_of(offset),
            }
        })?;
        match entry {
            LogEntry::BaseTime(t) => base = t.as_secs_f64(),
            LogEntry::StartTime(t) if base == 0.0 => base = t.as_secs_f64(),
            LogEntry::StartTime(_) => {}
            LogEntry::Interval(interval) => {
                let encoded = interval.encoded_histogram();
                let offset = encoded.as_ptr() as usize - bytes.as_ptr() as usize;
                let bad = |reason: String| HdrLogError::Histogram {
                    path: path.to_owned(),
                    line: line_of(offset),
                    reason,
                };
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|e| bad(e.to_string()))?;
                let h: Histogram<u64> = deserializer
                    .deserialize(&mut raw.as_slice())
                    .map_err(|e| bad(format!("{e:?}")))?;
                let start = base + interval.start_timestamp().as_secs_f64();
                from = from.min(start);
                to = to.max(start + interval.duration().as_secs_f64());
                match &mut histogram {
                    Some(all) => all.add(&h).map_err(|e| bad(format!("{e:?}")))?,
                    None => histogram = Some(h),
                }
            }
        }
    }
    let Some(histogram) = histogram else {
        return Err(HdrLogError::Empty {
            path: path.to_owned(),
        });
    };
    let runner = RunnerLog {
        file: path.display().to_string(),
        requests: histogram.len(),
        counts,
        from_s: from,
        to_s: to,
    };
    Ok((runner, histogram))
}

/// The percentiles of `h`.
pub fn latency_of(h: &Histogram<u64>) -> Latency {
    Latency {
        p50_us: h.value_at_quantile(0.5),
        p90_us: h.value_at_quantile(0.9),
        p99_us: h.value_at_quantile(0.99),
        p999_us: h.value_at_quantile(0.999),
        max_us: h.max(),
        mean_us: (h.mean() * 10.0).round() / 10.0,
    }
}

/// Reads and merges the logs at `paths`.
pub fn merge(paths: &[PathBuf]) -> Result<Merged, HdrLogError> {
    let mut runners = Vec::new();
    let mut all: Option<Histogram<u64>> = None;
    for path in paths {
        let (runner, h) = read(path)?;
        match &mut all {
            Some(all) => all
                .add(&h)
                .map_err(|_| HdrLogError::Incompatible { path: path.clone() })?,
            None => all = Some(h),
        }
        runners.push(runner);
    }
    let from = runners
        .iter()
        .map(|r| r.from_s)
        .fold(f64::INFINITY, f64::min);
    let to = runners
        .iter()
        .map(|r| r.to_s)
        .fold(f64::NEG_INFINITY, f64::max);
    let span = (to - from).max(1e-9);
    let mut counts = RunCounts::default();
    for c in runners.iter().filter_map(|r| r.counts) {
        counts.deliveries += c.deliveries;
        counts.delivered += c.delivered;
        counts.failed += c.failed;
        counts.duplicates += c.duplicates;
        counts.requests += c.requests;
    }
    let requests = runners.iter().map(|r| r.requests).sum::<u64>();
    let copies = counts.deliveries + counts.duplicates;
    Ok(Merged {
        span_ms: (span * 1e6).round() / 1e3,
        requests,
        error_rate: if copies == 0 {
            0.0
        } else {
            counts.failed as f64 / copies as f64
        },
        deliveries_per_second: counts.deliveries as f64 / span,
        requests_per_second: requests as f64 / span,
        latency: all.as_ref().map(latency_of).unwrap_or_default(),
        counts,
        runners,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram() -> Histogram<u64> {
        Histogram::new_with_bounds(1, 600_000_000, 3).unwrap()
    }

    fn write_log(path: &Path, start: SystemTime, values: &[u64], counts: RunCounts) {
        let mut log = IntervalLog::create(path, start, "test", histogram()).unwrap();
        let mut cumulative = histogram();
        for (i, chunk) in values.chunks(3).enumerate() {
            for v in chunk {
                cumulative.record(*v).unwrap();
            }
            log.interval(&cumulative, Duration::from_millis(500 * (i as u64 + 1)))
                .unwrap();
        }
        log.finish(&cumulative, Duration::from_secs(10), counts)
            .unwrap();
    }

    #[test]
    fn merged_logs_give_the_exact_percentiles_of_all_values() {
        let dir = std::env::temp_dir().join(format!("wh-hdr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        // Runner a: fast; runner b: slow. Averaging their p50s would say 505.
        let a: Vec<u64> = (1..=9).map(|v| v * 10).collect();
        let b: Vec<u64> = (1..=3).map(|v| v * 1000).collect();
        let counts = |n| RunCounts {
            deliveries: n,
            delivered: n - 1,
            failed: 1,
            duplicates: 0,
            requests: n,
        };
        write_log(&dir.join("a.hlog"), start, &a, counts(9));
        write_log(
            &dir.join("b.hlog"),
            start + Duration::from_secs(2),
            &b,
            counts(3),
        );
        let merged = merge(&[dir.join("a.hlog"), dir.join("b.hlog")]).unwrap();
        let mut all = histogram();
        for v in a.iter().chain(&b) {
            all.record(*v).unwrap();
        }
        assert_eq!(merged.requests, 12);
        assert_eq!(merged.latency.p50_us, all.value_at_quantile(0.5));
        assert_eq!(merged.latency.p99_us, all.value_at_quantile(0.99));
        assert_eq!(merged.latency.max_us, all.max());
        assert_eq!(merged.counts.deliveries, 12);
        assert_eq!(merged.counts.failed, 2);
        // a covers 0..10 s (its last interval ends at 10 s), b 2..12 s.
        assert!(
            (merged.span_ms - 12_000.0).abs() < 1.0,
            "{}",
            merged.span_ms
        );
        assert!((merged.deliveries_per_second - 1.0).abs() < 0.01);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_broken_line_is_named_by_line_and_column() {
        let dir = std::env::temp_dir().join(format!("wh-hdr-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.hlog");
        std::fs::write(
            &path,
            "#[StartTime: 1.000 (seconds since epoch)]\nnot a histogram\n",
        )
        .unwrap();
        let err = merge(std::slice::from_ref(&path)).unwrap_err();
        assert!(
            matches!(
                err,
                HdrLogError::Parse {
                    line: 2,
                    column: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        let empty = dir.join("empty.hlog");
        std::fs::write(&empty, "#[StartTime: 1.000 (seconds since epoch)]\n").unwrap();
        assert!(matches!(
            merge(&[empty]).unwrap_err(),
            HdrLogError::Empty { .. }
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn summary_line_round_trips() {
        let counts = RunCounts {
            deliveries: 5,
            delivered: 4,
            failed: 1,
            duplicates: 2,
            requests: 8,
        };
        assert_eq!(RunCounts::parse(&counts.line()), Some(counts));
        assert_eq!(RunCounts::parse("#[StartTime: 1]"), None);
    }
}
