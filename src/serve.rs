//! `--serve CMD`: the harness starts the receiver under test, waits until it
//! answers, keeps its output with timestamps, and stops it whatever happens.
//!
//! The command runs through `sh -c` as the leader of its own process group
//! (process-wrap), so stopping it reaches whatever it started (`npm start`
//! runs node under npm under sh): SIGTERM to the group, a grace period, then
//! SIGKILL, and every process of the group is waited for.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use process_wrap::tokio::{ChildWrapper, CommandWrap, KillOnDrop, ProcessGroup};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::sender::url::ReceiverUrl;
use crate::sender::{Sender, SenderConfig};

/// Lines of the receiver's output kept (the oldest go first).
const MAX_LINES: usize = 10_000;
/// A longer line is cut to this many bytes.
const MAX_LINE: usize = 4096;
/// How often readiness is asked while waiting.
const POLL: Duration = Duration::from_millis(100);

/// What to run and how long to wait for it.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The shell command, e.g. `npm start`.
    pub command: String,
    /// Variables added to its environment.
    pub env: Vec<(String, String)>,
    /// The URL that must answer before the run starts.
    pub url: String,
    /// How long to wait for it to answer.
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL when stopping it.
    pub grace: Duration,
    /// The webhook id: masked in its output as it is kept (receivers often
    /// log the id they check), so no report or error shows it.
    pub secret: Option<String>,
}

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Out,
    /// Standard error.
    Err,
}

/// One line the receiver wrote.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// Since the command started.
    pub at: Duration,
    /// Standard output or error.
    pub stream: Stream,
    /// The text, without its line end.
    pub text: String,
}

impl std::fmt::Display for LogLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stream = match self.stream {
            Stream::Out => "out",
            Stream::Err => "err",
        };
        write!(
            f,
            "[{:>8.3}s {stream}] {}",
            self.at.as_secs_f64(),
            self.text
        )
    }
}

/// A receiver's output, kept across its restarts (its times count from
/// the first start).
#[derive(Debug)]
struct Log {
    lines: VecDeque<LogLine>,
    origin: Instant,
}

impl Log {
    fn new() -> Arc<Mutex<Log>> {
        Arc::new(Mutex::new(Log {
            lines: VecDeque::new(),
            origin: Instant::now(),
        }))
    }
}

/// Why the receiver could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The shell could not be started.
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        /// The command.
        command: String,
        /// What failed.
        source: std::io::Error,
    },
    /// It exited before it answered.
    #[error("`{command}` exited ({status}) before {url} answered")]
    Exited {
        /// The command.
        command: String,
        /// How it exited.
        status: String,
        /// The URL waited for.
        url: String,
        /// Its last lines of output.
        tail: Vec<String>,
    },
    /// Something already listens where the receiver is to listen: a run
    /// against it would test a process the harness did not start. The
    /// command was not started.
    #[error("something already listens on {address}, before `{command}` was started")]
    Occupied {
        /// The command.
        command: String,
        /// `host:port` of the URL.
        address: String,
    },
    /// It did not answer in time (it was stopped).
    #[error("{url} did not answer within {} after `{command}` started", crate::duration::format(*.waited))]
    NotReady {
        /// The command.
        command: String,
        /// The URL waited for.
        url: String,
        /// How long the harness waited.
        waited: Duration,
        /// Its last lines of output.
        tail: Vec<String>,
    },
}

impl StartError {
    /// The receiver's last lines of output.
    pub fn tail(&self) -> &[String] {
        match self {
            StartError::Spawn { .. } | StartError::Occupied { .. } => &[],
            StartError::Exited { tail, .. } | StartError::NotReady { tail, .. } => tail,
        }
    }
}

/// A receiver the harness started.
pub struct Served {
    url: String,
    child: Box<dyn ChildWrapper>,
    pgid: Option<u32>,
    stopped: bool,
    log: Arc<Mutex<Log>>,
    /// When the log began (its lines' times count from it).
    origin: Instant,
    started: Instant,
    command: String,
    grace: Duration,
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served")
            .field("command", &self.command)
            .finish()
    }
}

/// How the receiver ended when it was stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// It ended on SIGTERM within the grace period.
    Terminated,
    /// It ignored SIGTERM and was killed.
    Killed,
    /// It had exited by itself before (how).
    ExitedEarlier(String),
}

impl Served {
    /// Starts `config.command` and waits until `config.url` gives any HTTP
    /// answer to the readiness `OPTIONS` (or takes part in a TLS handshake).
    pub async fn start(config: &ServeConfig) -> Result<Served, StartError> {
        Self::start_logging(config, Log::new()).await
    }

    /// [`Served::start`], its output going on in `log` (a restart's).
    async fn start_logging(
        config: &ServeConfig,
        log: Arc<Mutex<Log>>,
    ) -> Result<Served, StartError> {
        // A receiver already there (a leftover of an earlier step, one
        // started by hand) would answer for the one about to start, which
        // then dies of "address already in use" unseen.
        let parsed = ReceiverUrl::parse(&config.url).ok();
        if let Some(url) = parsed.as_ref().filter(|u| u.port() != Some(0))
            && listening(&url.authority()).await
        {
            return Err(StartError::Occupied {
                command: config.command.clone(),
                address: url.authority(),
            });
        }
        become_subreaper();
        let mut command = CommandWrap::with_new("sh", |c| {
            c.arg("-c")
                .arg(&config.command)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .envs(config.env.iter().map(|(k, v)| (k, v)));
        });
        command.wrap(KillOnDrop).wrap(ProcessGroup::leader());
        let mut child = command.spawn().map_err(|source| StartError::Spawn {
            command: config.command.clone(),
            source,
        })?;
        let started = Instant::now();
        let pgid = child.id();
        if let (Some(pgid), Ok(mut groups)) = (pgid, GROUPS.lock()) {
            groups.push(pgid);
        }
        let origin = log.lock().map(|l| l.origin).unwrap_or(started);
        if let Some(out) = child.stdout().take() {
            tokio::spawn(keep_lines(
                out,
                Stream::Out,
                log.clone(),
                config.secret.clone(),
            ));
        }
        if let Some(err) = child.stderr().take() {
            tokio::spawn(keep_lines(
                err,
                Stream::Err,
                log.clone(),
                config.secret.clone(),
            ));
        }
        let mut served = Served {
            url: config.url.clone(),
            child,
            pgid,
            stopped: false,
            log,
            origin,
            started,
            command: config.command.clone(),
            grace: config.grace,
        };
        // With port 0 in the URL the receiver picks its port and says it.
        let mut url = config.url.clone();
        let wants_port = parsed.as_ref().is_some_and(|u| u.port() == Some(0));
        let probe = Sender::new(SenderConfig {
            timeout: Duration::from_secs(1),
            retries: 0,
            readiness: false,
            ..SenderConfig::default()
        });
        loop {
            if let Some(status) = served.exited() {
                // Let the readers take the last lines.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Err(StartError::Exited {
                    command: config.command.clone(),
                    status,
                    url: config.url.clone(),
                    tail: served.tail(20),
                });
            }
            if wants_port
                && let Some(port) = served.announced_port()
                && let Some(parsed) = &parsed
            {
                url = parsed.with_port(port).to_string();
            }
            let asked = !wants_port || url != config.url;
            if asked
                && let Ok(sender) = &probe
                && answers(&sender.readiness(&url).await)
                // An answer from a command that has exited came from
                // another process: said as its exit, above, next round.
                && served.exited().is_none()
            {
                served.url = url;
                return Ok(served);
            }
            if started.elapsed() >= config.timeout {
                let tail = served.tail(20);
                served.stop().await;
                return Err(StartError::NotReady {
                    command: config.command.clone(),
                    url: config.url.clone(),
                    waited: config.timeout,
                    tail,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The URL it answered on (its port filled in when the URL said 0).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The first loopback port its output names (`127.0.0.1:PORT`,
    /// `localhost:PORT`, `[::1]:PORT`, `0.0.0.0:PORT`), for a URL with port 0.
    fn announced_port(&self) -> Option<u16> {
        let log = self.log.lock().ok()?;
        log.lines.iter().find_map(|line| port_in(&line.text))
    }

    /// Time since the command started (log lines are stamped with it).
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The lines written between `from` and `to` (times since the start).
    pub fn lines_between(&self, from: Duration, to: Duration) -> Vec<String> {
        self.log
            .lock()
            .map(|log| {
                log.lines
                    .iter()
                    .filter(|l| l.at >= from && l.at <= to)
                    .map(LogLine::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Its last `n` lines.
    pub fn tail(&self, n: usize) -> Vec<String> {
        self.log
            .lock()
            .map(|log| {
                let skip = log.lines.len().saturating_sub(n);
                log.lines
                    .iter()
                    .skip(skip)
                    .map(LogLine::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How it exited, if it has: the command's own process (the group's
    /// leader), whatever it left running (that is stopped with the group).
    pub fn exited(&self) -> Option<String> {
        // Not process-wrap's try_wait: it reaps the leader as soon as it
        // exits yet says nothing while anything else of the group runs.
        let pid = self.pgid?;
        // SAFETY: waitid(2) with WNOWAIT looks at our child's state without
        // reaping it (process-wrap reaps it when the group is waited for).
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
            if libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) == 0
                && info.si_pid() != 0
            {
                return Some(match info.si_code {
                    libc::CLD_EXITED => format!("exit status: {}", info.si_status()),
                    _ => format!("killed by signal {}", info.si_status()),
                });
            }
        }
        None
    }

    /// Stops it: SIGTERM to its group, the grace period, SIGKILL; waits for
    /// every process of the group.
    pub async fn stop(mut self) -> Stopped {
        let stopped = self.stop_group().await;
        forget(self.pgid);
        self.stopped = true;
        stopped
    }

    /// The lines written between two instants (a case's start and end),
    /// each with the instant it was read.
    pub fn lines_during(&self, from: Instant, to: Instant) -> Vec<(Instant, String)> {
        let (from, to) = (
            from.saturating_duration_since(self.origin),
            to.saturating_duration_since(self.origin),
        );
        self.log
            .lock()
            .map(|log| {
                log.lines
                    .iter()
                    .filter(|l| l.at >= from && l.at <= to)
                    .map(|l| (self.origin + l.at, l.to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn stop_group(&mut self) -> Stopped {
        if let Some(status) = self.exited() {
            // What it started may still run: the group goes too.
            if let Some(pgid) = self.pgid {
                // SAFETY: killpg(2) on the process group this value started.
                unsafe { libc::killpg(pgid as libc::pid_t, libc::SIGKILL) };
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
            return Stopped::ExitedEarlier(status);
        }
        let _ = self.child.signal(libc::SIGTERM);
        let ended = tokio::time::timeout(self.grace, self.child.wait()).await;
        if matches!(ended, Ok(Ok(_))) {
            return Stopped::Terminated;
        }
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        Stopped::Killed
    }
}

impl Drop for Served {
    /// A receiver not stopped (an early return, a panic) is killed with its
    /// whole group, so that nothing is left behind.
    fn drop(&mut self) {
        if !self.stopped
            && let Some(pgid) = self.pgid
        {
            // SAFETY: killpg(2) on the process group this value started.
            unsafe { libc::killpg(pgid as libc::pid_t, libc::SIGKILL) };
            forget(Some(pgid));
        }
    }
}

async fn keep_lines(
    stream: impl tokio::io::AsyncRead + Unpin,
    which: Stream,
    log: Arc<Mutex<Log>>,
    secret: Option<String>,
) {
    let origin = log
        .lock()
        .map(|l| l.origin)
        .unwrap_or_else(|_| Instant::now());
    let mut reader = BufReader::new(stream);
    let redactor = secret
        .as_deref()
        .map(crate::secret::Redactor::new)
        .unwrap_or_else(|| crate::secret::Redactor::new(""));
    // Enough of a long line is kept for the secret to be masked whole
    // before the line is cut.
    let keep = MAX_LINE + redactor.longest();
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = (&mut reader)
            .take(keep as u64)
            .read_until(b'\n', &mut buffer)
            .await;
        match read {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        // The rest of a longer line is read and dropped, never held.
        let cut = !buffer.ends_with(b"\n") && buffer.len() >= keep;
        if cut && skip_line(&mut reader).await.is_err() {
            return;
        }
        let text = String::from_utf8_lossy(&buffer);
        let text = redactor.apply(text.trim_end_matches(['\n', '\r']));
        let mut text = crate::output::escape_controls(&text).into_owned();
        if cut || text.len() > MAX_LINE {
            let mut end = MAX_LINE.min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push_str(" [line cut]");
        }
        if let Ok(mut log) = log.lock() {
            if log.lines.len() >= MAX_LINES {
                log.lines.pop_front();
            }
            log.lines.push_back(LogLine {
                at: origin.elapsed(),
                stream: which,
                text,
            });
        }
    }
}

/// Reads up to the end of the current line (or of the stream) and drops it.
async fn skip_line(reader: &mut (impl tokio::io::AsyncBufRead + Unpin)) -> std::io::Result<()> {
    use tokio::io::AsyncBufReadExt;
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(());
        }
        match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = chunk.len();
                reader.consume(n);
            }
        }
    }
}

/// Several copies of one receiver command (`--serve-replicas`), each on a
/// port of its own, sharing whatever the command shares (a database file
/// or URL it is given); one when the receiver is not replicated. Each can
/// be restarted on its port, its output going on in the same log.
pub struct Fleet {
    /// The command and settings of replica 0 (the others derive from it).
    config: ServeConfig,
    /// Each replica's URL, its port filled in once it answered.
    urls: Vec<String>,
    /// Each replica's output, across its restarts.
    logs: Vec<Arc<Mutex<Log>>>,
    /// The running replicas (a slot is empty while its replica restarts).
    replicas: Mutex<Vec<Option<Served>>>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet").field("urls", &self.urls).finish()
    }
}

/// The variable that tells a replica which one it is (0, 1, ...).
pub const REPLICA_VARIABLE: &str = "WEBHOOK_HARNESS_REPLICA";

/// Why a replica could not be restarted.
#[derive(Debug, thiserror::Error)]
pub enum RestartError {
    /// There is no such replica.
    #[error("there is no replica {0}")]
    NoSuchReplica(usize),
    /// It did not come back.
    #[error("replica {replica} did not come back after its restart: {error}")]
    Start {
        /// Which replica.
        replica: usize,
        /// Why.
        error: StartError,
    },
}

impl Fleet {
    /// Starts `replicas` copies of `config.command` (at least one), one
    /// after the other, each waited for. With port 0 in `config.url`, each
    /// picks its own port and says it; with a fixed port `P`, replica `i`
    /// is given `P + i`. Each has `PORT` and [`REPLICA_VARIABLE`] in its
    /// environment. One that does not come up stops those started before.
    pub async fn start(config: &ServeConfig, replicas: usize) -> Result<Fleet, StartError> {
        let mut fleet = Fleet {
            config: config.clone(),
            urls: Vec::new(),
            logs: Vec::new(),
            replicas: Mutex::new(Vec::new()),
        };
        let parsed = ReceiverUrl::parse(&config.url).ok();
        for replica in 0..replicas.max(1) {
            let url = match parsed.as_ref().and_then(|u| Some((u, u.port()?))) {
                Some((u, port)) if port != 0 => {
                    let port = port.saturating_add(u16::try_from(replica).unwrap_or(u16::MAX));
                    u.with_port(port).to_string()
                }
                _ => config.url.clone(),
            };
            let log = Log::new();
            match Served::start_logging(&fleet.replica_config(replica, &url), log.clone()).await {
                Ok(served) => {
                    fleet.urls.push(served.url().to_owned());
                    fleet.logs.push(log);
                    if let Ok(mut running) = fleet.replicas.lock() {
                        running.push(Some(served));
                    }
                }
                Err(e) => {
                    fleet.stop().await;
                    return Err(e);
                }
            }
        }
        Ok(fleet)
    }

    /// The settings replica `replica` starts with, on `url`.
    fn replica_config(&self, replica: usize, url: &str) -> ServeConfig {
        let mut config = self.config.clone();
        config.url = url.to_owned();
        config
            .env
            .retain(|(k, _)| k != "PORT" && k != REPLICA_VARIABLE);
        if let Some(port) = ReceiverUrl::parse(url).ok().and_then(|u| u.port()) {
            config.env.push(("PORT".into(), port.to_string()));
        }
        config
            .env
            .push((REPLICA_VARIABLE.into(), replica.to_string()));
        config
    }

    /// Each replica's URL (its port filled in).
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// Restarts replica `which`, or every replica: each is stopped (SIGTERM
    /// to its group, the grace period, SIGKILL) and started again with the
    /// same command, environment and port, and waited for (at most the
    /// serve timeout).
    pub async fn restart(&self, which: Option<usize>) -> Result<(), RestartError> {
        let chosen: Vec<usize> = match which {
            Some(replica) if replica >= self.urls.len() => {
                return Err(RestartError::NoSuchReplica(replica));
            }
            Some(replica) => vec![replica],
            None => (0..self.urls.len()).collect(),
        };
        for replica in chosen {
            let old = self
                .replicas
                .lock()
                .ok()
                .and_then(|mut running| running.get_mut(replica).and_then(Option::take));
            if let Some(old) = old {
                old.stop().await;
            }
            let config = self.replica_config(replica, &self.urls[replica]);
            let started = Served::start_logging(&config, self.logs[replica].clone())
                .await
                .map_err(|error| RestartError::Start { replica, error })?;
            if let Ok(mut running) = self.replicas.lock() {
                running[replica] = Some(started);
            }
        }
        Ok(())
    }

    /// Stops every replica; how each ended.
    pub async fn stop(&self) -> Vec<Stopped> {
        let running: Vec<Served> = self
            .replicas
            .lock()
            .map(|mut r| r.iter_mut().filter_map(Option::take).collect())
            .unwrap_or_default();
        let mut stopped = Vec::new();
        for served in running {
            stopped.push(served.stop().await);
        }
        stopped
    }

    /// Time since the first replica's log began.
    pub fn elapsed(&self) -> Duration {
        self.logs
            .first()
            .and_then(|l| l.lock().ok().map(|l| l.origin.elapsed()))
            .unwrap_or_default()
    }

    /// The lines every replica wrote between two instants, each with the
    /// instant it was read, in that order; marked `[replica N]` when there
    /// are several.
    pub fn lines_during(&self, from: Instant, to: Instant) -> Vec<(Instant, String)> {
        let several = self.logs.len() > 1;
        let mut lines: Vec<(Instant, String)> = Vec::new();
        for (replica, log) in self.logs.iter().enumerate() {
            let Ok(log) = log.lock() else {
                continue;
            };
            lines.extend(
                log.lines
                    .iter()
                    .map(|l| (log.origin + l.at, l))
                    .filter(|(at, _)| *at >= from && *at <= to)
                    .map(|(at, l)| match several {
                        true => (at, format!("[replica {replica}] {l}")),
                        false => (at, l.to_string()),
                    }),
            );
        }
        lines.sort_by_key(|(at, _)| *at);
        lines
    }

    /// The last `n` lines of every replica.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let several = self.logs.len() > 1;
        let mut all = Vec::new();
        for (replica, log) in self.logs.iter().enumerate() {
            if let Ok(log) = log.lock() {
                let skip = log.lines.len().saturating_sub(n);
                all.extend(log.lines.iter().skip(skip).map(|l| match several {
                    true => format!("[replica {replica}] {l}"),
                    false => l.to_string(),
                }));
            }
        }
        all
    }
}

/// Whether something accepts connections at `authority` (`host:port`),
/// asked for at most a second.
async fn listening(authority: &str) -> bool {
    let connect = tokio::net::TcpStream::connect(authority);
    matches!(
        tokio::time::timeout(Duration::from_secs(1), connect).await,
        Ok(Ok(_))
    )
}

/// Whether a readiness attempt shows a receiver that is up: any HTTP
/// answer, or a TLS handshake it took part in (whether its certificate is
/// trusted is the run's to say, with what to do about it).
fn answers(attempt: &crate::sender::Attempt) -> bool {
    attempt.status.is_some() || matches!(attempt.failure, Some(crate::sender::Failure::Tls(_)))
}

/// Makes this process the reaper of the receiver's orphans (a process the
/// receiver started and left behind), so that waiting for the group reaps
/// them rather than leaving zombies to an init that may never wait (as in
/// many containers).
fn become_subreaper() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(2) PR_SET_CHILD_SUBREAPER takes one integer argument.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// The first non-zero port after a loopback host in `text`.
fn port_in(text: &str) -> Option<u16> {
    ["127.0.0.1:", "localhost:", "[::1]:", "0.0.0.0:"]
        .iter()
        .flat_map(|host| text.match_indices(host).map(move |(i, _)| i + host.len()))
        .filter_map(|start| {
            let digits: String = text[start..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<u16>().ok().filter(|p| *p != 0)
        })
        .next()
}

/// The process groups started and not yet stopped, for [`kill_all_now`].
static GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// How long [`kill_all_now`] waits for the killed processes to be gone.
#[cfg(feature = "cli")]
const REAP_FOR: Duration = Duration::from_secs(2);

/// Kills every receiver group still running, at once, and reaps what it
/// killed (for up to 2 s): for an exit that cannot wait for a graceful stop
/// (a second Ctrl-C, a reader of the output that went away), so that
/// nothing is left behind, not even a zombie for an init that never waits.
/// (The command line's; a library caller's runs stop their receivers.)
#[cfg(feature = "cli")]
pub(crate) fn kill_all_now() {
    let groups = match GROUPS.lock() {
        Ok(groups) => groups.clone(),
        Err(_) => return,
    };
    for pgid in &groups {
        // SAFETY: killpg(2) on a process group this process started.
        unsafe { libc::killpg(*pgid as libc::pid_t, libc::SIGKILL) };
    }
    let until = Instant::now() + REAP_FOR;
    for pgid in groups {
        loop {
            let mut status = 0;
            // SAFETY: waitpid(2) on the group's processes (our children, or
            // orphans adopted as their subreaper), without blocking.
            let reaped =
                unsafe { libc::waitpid(-(pgid as libc::pid_t), &mut status, libc::WNOHANG) };
            match reaped {
                // None left to wait for (or reaped by another waiter).
                -1 => break,
                0 if Instant::now() >= until => break,
                0 => std::thread::sleep(Duration::from_millis(5)),
                _ => {}
            }
        }
    }
}

fn forget(pgid: Option<u32>) {
    if let (Some(pgid), Ok(mut groups)) = (pgid, GROUPS.lock()) {
        groups.retain(|g| *g != pgid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_read_from_what_a_server_says() {
        assert_eq!(
            port_in("Listening on http://127.0.0.1:41235/webhook"),
            Some(41235)
        );
        assert_eq!(
            port_in("INFO: Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C)"),
            Some(8000)
        );
        assert_eq!(port_in("Server at http://localhost:3000"), Some(3000));
        assert_eq!(port_in("bound [::1]:0 then [::1]:5000"), Some(5000));
        assert_eq!(port_in("no port here: 127.0.0.1"), None);
    }
}
