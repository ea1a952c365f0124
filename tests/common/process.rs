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
