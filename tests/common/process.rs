//! The `receive` command as a child process, for tests of the binary.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

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
