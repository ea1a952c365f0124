//! `--serve`: the harness starts the receiver, waits for it, keeps its log
//! next to failing cases, and stops it; no process is left behind.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_webhook-harness");

fn harness(dir: &Path, args: &[&str]) -> (i32, String, String) {
    common::process::harness_in(dir, args, &[])
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wh-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The served command writes its group's id (the shell's pid) to `pgid`
/// first; `then` follows. A background `sleep` joins the group, so that the
/// check below sees a process started by the receiver too.
fn command(then: &str) -> String {
    format!("echo $$ > pgid; sleep 300 & {then}")
}

/// No process of the served group is left.
fn assert_group_gone(dir: &Path) {
    let pgid: i32 = std::fs::read_to_string(dir.join("pgid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: kill(2) with signal 0 only asks whether the group exists.
    let alive = unsafe { libc::kill(-pgid, 0) } == 0;
    assert!(!alive, "processes of group {pgid} were left behind");
}

fn receive() -> String {
    format!("exec {BIN} receive --port $PORT --webhook-id $WEBHOOK_HARNESS_WEBHOOK_ID")
}

const URL: &str = "http://127.0.0.1:0/webhook";
const PROBE: &str = "http://127.0.0.1:0/test/effects?key={key}";

#[test]
fn a_receiver_slow_to_start_is_waited_for_and_stopped() {
    let dir = temp_dir("slow");
    let serve = command(&format!("sleep 1; {}", receive()));
    let (code, stdout, stderr) = harness(
        &dir,
        &[
            "run",
            "--url",
            URL,
            "--serve",
            &serve,
            "--webhook-id",
            "served-id",
            "--effects-url",
            PROBE,
            "--filter",
            "events.*",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("serve: http://127.0.0.1:"), "{stderr}");
    assert!(stdout.contains("0 failed"), "{stdout}");
    assert_group_gone(&dir);
}

#[test]
fn a_receiver_that_never_listens_is_reported_with_its_output() {
    let dir = temp_dir("never");
    // It logs the id it was given, as receivers often do: shown masked.
    let serve =
        command("echo 'compiling...'; echo \"checking id $WEBHOOK_HARNESS_WEBHOOK_ID\"; sleep 300");
    let (code, _, stderr) = harness(
        &dir,
        &[
            "fuzz",
            "--url",
            URL,
            "--serve",
            &serve,
            "--serve-timeout",
            "2s",
            "--webhook-id",
            "served-secret-42",
        ],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("did not answer within 2.00s"), "{stderr}");
    assert!(stderr.contains("out] compiling..."), "{stderr}");
    assert!(stderr.contains("checking id se****"), "{stderr}");
    assert!(
        !stderr.contains("served-secret-42"),
        "the id in full: {stderr}"
    );
    assert_group_gone(&dir);
}

#[test]
fn a_receiver_that_crashes_during_the_run_is_said_with_its_last_lines() {
    let dir = temp_dir("crash");
    // Answers OPTIONS, and crashes (with a trace on stderr) on the third POST.
    let script = r#"
import http.server, os, sys
posts = 0
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_OPTIONS(self):
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def do_POST(self):
        global posts
        posts += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        print(f"handling POST {posts}", file=sys.stderr, flush=True)
        if posts == 3:
            print("Traceback: KeyError: 'usage'", file=sys.stderr, flush=True)
            os._exit(1)
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"{}")
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(f"listening on 127.0.0.1:{s.server_address[1]}", flush=True)
s.serve_forever()
"#;
    std::fs::write(dir.join("receiver.py"), script).unwrap();
    let serve = command("exec python3 receiver.py");
    let report = dir.join("run.json");
    let (code, stdout, stderr) = harness(
        &dir,
        &[
            "run",
            "--url",
            URL,
            "--serve",
            &serve,
            "--filter",
            "events.*",
            "--retries",
            "0",
            "--report-json",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stderr.contains("the receiver exited during the run"),
        "{stderr}"
    );
    assert!(stderr.contains("Traceback: KeyError: 'usage'"), "{stderr}");
    // The failing case carries what the receiver wrote while it ran.
    assert!(
        stdout.contains("the receiver wrote while it ran"),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let logged = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["receiver_log"].as_array().unwrap())
        .any(|l| l.as_str().unwrap().contains("Traceback"));
    assert!(logged, "no failing case carries the trace: {json}");
    assert_group_gone(&dir);
}

#[test]
fn a_receiver_that_ignores_sigterm_is_killed() {
    let dir = temp_dir("stubborn");
    let serve = command(&format!("trap '' TERM; {}", receive()));
    let (code, stdout, stderr) = harness(
        &dir,
        &[
            "run",
            "--url",
            URL,
            "--serve",
            &serve,
            "--filter",
            "events.generation-completed",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains("ignored SIGTERM and was killed"),
        "{stderr}"
    );
    assert_group_gone(&dir);
}

#[test]
fn serve_needs_a_url() {
    let dir = temp_dir("nourl");
    let (code, _, stderr) = harness(&dir, &["run", "--serve", "true"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--url"), "{stderr}");
}

#[test]
fn ctrl_c_during_the_run_stops_the_receiver_too() {
    let dir = temp_dir("ctrl-c");
    std::fs::write(
        dir.join("slow.yaml"),
        "cases:\n  - id: slow.wait\n    title: A long wait\n    steps:\n      - deliver: { event: webhook.test }\n      - wait: 60s\n",
    )
    .unwrap();
    let serve = command(&receive());
    let child = Command::new(BIN)
        .args(["run", "slow.yaml", "--url", URL, "--serve", &serve])
        .current_dir(&dir)
        .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the case is under way (its first line is printed when it
    // ends, so wait for the receiver's group, then a moment).
    for _ in 0..500 {
        if dir.join("pgid").is_file() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // SAFETY: kill(2) with the pid of our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_group_gone(&dir);
}

/// A receiver with a 1 MiB body limit that, on a larger body, answers 413
/// as soon as it has the head and closes (`refuse`), or exits (`die`),
/// while the body is still being written.
const BODY_LIMITED: &str = r#"
import os, socket, sys, threading
mode = sys.argv[1]
s = socket.socket()
s.bind(("127.0.0.1", int(os.environ["PORT"])))
s.listen(64)
print(f"Listening on http://127.0.0.1:{s.getsockname()[1]}", flush=True)
def serve(c):
    data = b""
    while b"\r\n\r\n" not in data:
        more = c.recv(65536)
        if not more:
            return c.close()
        data += more
    head, body = data.split(b"\r\n\r\n", 1)
    head = head.decode("latin-1").lower()
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip() == "content-length":
            length = int(value)
    if head.startswith("options"):
        c.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        return c.close()
    if length > 1 << 20:
        if mode == "die":
            print("body too large: exiting", flush=True)
            os._exit(1)
        c.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        c.setblocking(False)
        try:
            while c.recv(1 << 20):
                pass
        except BlockingIOError:
            pass
        return c.close()
    while len(body) < length:
        more = c.recv(65536)
        if not more:
            return c.close()
        body += more
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 16\r\nConnection: close\r\n\r\n{\"success\":true}")
    c.close()
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"#;

#[test]
fn a_served_receiver_that_refuses_or_dies_mid_upload_loses_no_run_and_leaves_nothing() {
    for (mode, expected) in [("refuse", 1), ("die", 3)] {
        for round in 0..10 {
            let dir = temp_dir(&format!("limited-{mode}-{round}"));
            std::fs::write(dir.join("receiver.py"), BODY_LIMITED).unwrap();
            let serve = command(&format!("exec python3 receiver.py {mode}"));
            let report = dir.join("run.json");
            let (code, stdout, stderr) = harness(
                &dir,
                &[
                    "run",
                    "--url",
                    URL,
                    "--serve",
                    &serve,
                    "--filter",
                    "limits.*",
                    "--retries",
                    "0",
                    // After the receiver died, the check that it is down
                    // takes twice this.
                    "--timeout",
                    "1s",
                    "--report-json",
                    report.to_str().unwrap(),
                ],
            );
            let said = format!("{mode} round {round}: exit {code}\n{stdout}{stderr}");
            assert_eq!(code, expected, "{said}");
            assert!(stdout.contains("FAIL limits.large-payload"), "{said}");
            if mode == "refuse" {
                assert!(stdout.contains("Actual: 413 (client error)"), "{said}");
            } else {
                assert!(
                    stderr.contains("the receiver exited during the run"),
                    "{said}"
                );
            }
            assert!(report.is_file(), "{said}");
            assert_group_gone(&dir);
        }
    }
}

#[test]
fn a_closed_standard_output_stops_the_served_receiver_too() {
    use std::io::{BufRead, BufReader};
    let dir = temp_dir("head");
    let serve = command(&receive());
    let mut child = Command::new(BIN)
        .args(["run", "--url", URL, "--serve", &serve])
        .current_dir(&dir)
        .env_remove("WEBHOOK_HARNESS_WEBHOOK_ID")
        .env_remove("CI")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // `run --serve ... | head -1`
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("webhook-harness: 34 cases"), "{first}");
    let status = child.wait().unwrap();
    assert!(matches!(status.code(), Some(0 | 141)), "{status:?}");
    assert_group_gone(&dir);
}

#[test]
fn a_port_something_already_listens_on_is_never_tested() {
    let dir = temp_dir("occupied");
    // A receiver left over from an earlier step, on the URL's port.
    let leftover = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = leftover.local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/webhook");
    let serve = command(&receive());
    let (code, stdout, stderr) = harness(&dir, &["run", "--url", &url, "--serve", &serve]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!("something already listens on 127.0.0.1:{port}"))
            && stderr.contains("use port 0 in --url"),
        "{stderr}"
    );
    assert!(!dir.join("pgid").exists(), "the command was started");
    assert!(!stdout.contains("passed"), "{stdout}");
    drop(leftover);
}

#[test]
fn serve_and_url_from_the_config_file_are_said_and_send_leaves_serve_alone() {
    let dir = temp_dir("config");
    std::fs::write(
        dir.join("webhook-harness.toml"),
        format!(
            "url = \"{URL}\"\nserve = \"{}\"\n",
            command(&receive()).replace('"', "\\\"")
        ),
    )
    .unwrap();
    // `serve` and `url` both from the file: the banner says so.
    let (code, stdout, stderr) = harness(&dir, &["run", "--filter", "events.webhook-test"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains("(serve from webhook-harness.toml)"),
        "{stderr}"
    );
    assert!(
        stdout.contains("(settings from webhook-harness.toml)"),
        "{stdout}"
    );
    assert_group_gone(&dir);
    // `--serve` on the command line takes `url` from the file.
    std::fs::remove_file(dir.join("pgid")).unwrap();
    let (code, stdout, stderr) = harness(
        &dir,
        &[
            "run",
            "--filter",
            "events.webhook-test",
            "--serve",
            &command(&receive()),
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stderr.contains("serve from"), "{stderr}");
    assert_group_gone(&dir);
    // --no-config: the file is not read at all (nothing started, the
    // built-in receiver tested).
    std::fs::remove_file(dir.join("pgid")).unwrap();
    let (code, stdout, stderr) = harness(
        &dir,
        &["run", "--no-config", "--filter", "events.webhook-test"],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stderr.contains("serve:"), "{stderr}");
    assert!(!stdout.contains("settings from"), "{stdout}");
    assert!(stdout.contains("(built-in reference receiver)"), "{stdout}");
    assert!(
        !dir.join("pgid").exists(),
        "--no-config started the file's serve"
    );
    let (code, stdout, _) = harness(&dir, &["config", "run", "--no-config"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("(config file: none)"), "{stdout}");
    // `send` does not start the file's receiver (its URL is elsewhere).
    let (_nothing, refusing) = common::refusing_url();
    let (code, stdout, stderr) = harness(
        &dir,
        &["send", "test", "--url", &refusing, "--retries", "0"],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(!stderr.contains("serve:"), "{stderr}");
    assert!(!dir.join("pgid").exists(), "send started the file's serve");
}

#[test]
fn a_log_line_that_may_be_a_neighbours_is_marked() {
    let dir = temp_dir("neighbour");
    // Logs each delivery just after answering it, as access logs do; takes
    // its time with webhook.test, logs it, and refuses it with a 500.
    let script = r#"
import http.server, os, time
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_OPTIONS(self):
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        event = self.headers.get("X-Inference-Event")
        if event == "webhook.test":
            time.sleep(0.3)
            print(f"handled {event}", flush=True)
            self.send_response(500)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"{}")
        if event != "webhook.test":
            print(f"handled {event}", flush=True)
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H)
print(f"listening on 127.0.0.1:{s.server_address[1]}", flush=True)
s.serve_forever()
"#;
    std::fs::write(dir.join("receiver.py"), script).unwrap();
    let serve = command("exec python3 receiver.py");
    let report = dir.join("run.json");
    let (code, stdout, stderr) = harness(
        &dir,
        &[
            "run",
            "--url",
            URL,
            "--serve",
            &serve,
            "--filter",
            "events.*",
            "--retries",
            "0",
            "--report-json",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let case = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "events.webhook-test")
        .unwrap();
    let log: Vec<&str> = case["receiver_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    // Its own line is there (marked too when the harness read it only
    // after the next case had begun, as on a loaded machine).
    assert!(
        log.iter().any(|l| l.contains("handled webhook.test")),
        "its own line: {log:?}\n{stdout}"
    );
    for line in log.iter().filter(|l| !l.contains("webhook.test")) {
        assert!(
            line.contains("(may be from events."),
            "another case's line, not marked: {line}\n{log:?}"
        );
    }
}

/// A receiver that controls its answers and its log, and uses them against
/// the harness: it logs the webhook id across the 4096-byte cut of a line,
/// echoes the id URL-encoded and JSON-escaped in a failing answer, and puts
/// terminal escapes and Markdown in both.
const HOSTILE: &str = r#"
import http.server, json, os, sys, urllib.parse
ID = os.environ["WEBHOOK_HARNESS_WEBHOOK_ID"]
escaped = "".join("\\u%04x" % ord(c) for c in ID)
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_OPTIONS(self):
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        # The id across the cut of a long line, and a title-setting escape.
        print("x" * 4090 + ID + " tail", flush=True)
        print("\x1b]0;pwned\x07\x1b[2J\rid=" + urllib.parse.quote(ID, safe=""), flush=True)
        if self.headers.get("X-Inference-Event") == "webhook.test":
            body = ('{"error":"[click](http://evil.example) ![x](http://evil.example/x.png) <img src=x onerror=alert(1)>",'
                    '"id":"' + urllib.parse.quote(ID, safe="") + '","id2":"' + escaped + '","esc":"\x1b[31mred"}').encode()
            self.send_response(500)
        else:
            body = b"{}"
            self.send_response(200)
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H)
print(f"listening on 127.0.0.1:{s.server_address[1]}", flush=True)
s.serve_forever()
"#;

#[test]
fn a_receiver_cannot_leak_the_secret_nor_drive_the_terminal_or_the_markdown() {
    let dir = temp_dir("hostile");
    std::fs::write(dir.join("receiver.py"), HOSTILE).unwrap();
    // Characters a URL and JSON encode differently.
    let secret = "Se/cr+et=42";
    let serve = command("exec python3 receiver.py");
    let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let summary = dir.join("step-summary.md");
    let (code, stdout, stderr) = common::process::harness_in(
        &dir,
        &[
            "run",
            "--url",
            URL,
            "--serve",
            &serve,
            "--webhook-id",
            secret,
            "--filter",
            "events.*",
            "--retries",
            "0",
            "--report-json",
            &file("r.json"),
            "--report-junit",
            &file("r.xml"),
            "--report-html",
            &file("r.html"),
            "--report-markdown",
            &file("r.md"),
        ],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("FAIL events.webhook-test"), "{stdout}");
    let encoded = "Se%2Fcr%2Bet%3D42";
    let escaped: String = secret
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let mut artifacts = vec![
        ("stdout".to_owned(), stdout.clone()),
        ("stderr".to_owned(), stderr.clone()),
    ];
    for name in ["r.json", "r.xml", "r.html", "r.md", "step-summary.md"] {
        artifacts.push((
            name.to_owned(),
            std::fs::read_to_string(dir.join(name)).unwrap(),
        ));
    }
    for (name, text) in &artifacts {
        for form in [
            secret,
            encoded,
            escaped.as_str(),
            "cr+et=42",
            "cr%2Bet%3D42",
        ] {
            assert!(
                !text.contains(form),
                "{name} holds the secret as {form}:\n{text}"
            );
        }
    }
    // The log line that held the id at its cut was masked whole, then cut.
    assert!(
        stdout.contains("[line cut]")
            || stderr.contains("[line cut]")
            || artifacts[2].1.contains("[line cut]"),
        "{stdout}"
    );
    // Nothing the receiver wrote acts on the terminal.
    for (name, text) in &artifacts[..2] {
        for control in ['\u{1b}', '\u{7}', '\r'] {
            assert!(
                !text.contains(control),
                "{name} holds {control:?}:\n{text:?}"
            );
        }
    }
    // In Markdown, the receiver's answer is code: no link, image or HTML.
    for name in ["r.md", "step-summary.md"] {
        let md = std::fs::read_to_string(dir.join(name)).unwrap();
        let row = md
            .lines()
            .find(|l| l.contains("events.webhook-test"))
            .unwrap_or_else(|| panic!("{name}: no row\n{md}"));
        let what = row.split(" | ").nth(3).unwrap();
        assert!(
            what.starts_with("expected `2xx`, got `") && what.ends_with('`'),
            "{name}: {row}"
        );
        assert_eq!(
            what.matches('`').count(),
            4,
            "{name}: one code span each: {row}"
        );
    }
}
