//! The `receive` command as a child process, for tests of the binary.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A `receive` process on a free port; killed when dropped.
pub struct ReceiveProcess {
    child: Child,
    /// Its webhook endpoint, as it printed it.
    pub url: String,
}

impl Drop for ReceiveProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `receive --port 0` with `extra` arguments and reads its URL.
pub fn start_receiver(extra: &[&str]) -> ReceiveProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_webhook-harness"))
        .args(["receive", "--port", "0"])
        .args(extra)
        .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("Listening on ").unwrap().to_owned();
    // Keep draining the log so the receiver never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    ReceiveProcess { child, url }
}

/// Runs the harness binary in `dir` with `env` added, outside CI, colours
/// off and the webhook id variable unset unless `env` sets it; (exit code,
/// stdout, stderr).
pub fn harness_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_webhook-harness"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied());
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Three `load` runners at once in `dir` against `url` (each
/// `--hdr-log runner-N.hlog --report-json runner-N.json`), as a CI matrix
/// or a Kubernetes Job starts them, then `load merge` of their logs with
/// `--report-json merged.json`. Returns what `load merge` printed.
pub fn three_runners_merged(dir: &Path, url: &str) -> String {
    std::thread::scope(|scope| {
        for n in 0..3 {
            let (log, json) = (format!("runner-{n}.hlog"), format!("runner-{n}.json"));
            scope.spawn(move || {
                let (code, out, err) = harness_in(
                    dir,
                    &[
                        "load",
                        "--url",
                        url,
                        "--concurrency",
                        "4",
                        "--deliveries",
                        "1500",
                        "--hdr-log",
                        &log,
                        "--report-json",
                        &json,
                    ],
                    &[],
                );
                assert_eq!(code, 0, "{out}\n{err}");
            });
        }
    });
    let (code, out, err) = harness_in(
        dir,
        &[
            "load",
            "merge",
            "runner-0.hlog",
            "runner-1.hlog",
            "runner-2.hlog",
            "--report-json",
            "merged.json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    out
}

/// A child process whose output lines are collected; killed when dropped.
pub struct Process {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    /// Says when the reader has read the output to its end.
    read_all: std::sync::mpsc::Receiver<()>,
}

impl Process {
    pub fn start(args: &[&str]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_webhook-harness"))
            .args(args)
            .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = BufReader::new(child.stdout.take().unwrap());
        let sink = lines.clone();
        let (done, read_all) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
            let _ = done.send(());
        });
        Process {
            child,
            lines,
            read_all,
        }
    }

    /// Waits (up to a minute) for a line satisfying `pred`; returns it.
    pub fn wait_for(&self, pred: impl Fn(&str) -> bool) -> String {
        for _ in 0..3000 {
            if let Some(line) = self.lines.lock().unwrap().iter().find(|l| pred(l)) {
                return line.clone();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no such line in {:?}", self.lines.lock().unwrap());
    }

    pub fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Sends SIGINT and waits for the exit code.
    pub fn interrupt(&mut self) -> i32 {
        // SAFETY: kill(2) with the pid of our own child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        // The last lines are read once the output ends (bounded, in case a
        // grandchild still holds it open).
        let _ = self.read_all.recv_timeout(Duration::from_secs(30));
        code
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `broken_receiver` example's program (`examples/broken_receiver.rs`),
/// built once (cargo keeps it up to date) beside the harness binary, so
/// that the tests can serve it as a process of its own: restarted, several
/// replicas, several workers on one port.
pub fn broken_receiver() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args([
                    "build",
                    "--quiet",
                    "--locked",
                    "--example",
                    "broken_receiver",
                ])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("cargo runs");
            assert!(
                status.success(),
                "cargo build --example broken_receiver failed"
            );
            let harness = Path::new(env!("CARGO_BIN_EXE_webhook-harness"));
            harness
                .parent()
                .expect("the harness binary is in a folder")
                .join("examples/broken_receiver")
        })
        .clone()
}
