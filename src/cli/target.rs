//! The receiver under test for `run`, `fuzz` and `load`: the user's, or the
//! built-in reference receiver started in-process with its probe wired in.

use crate::receiver::{Receiver, ReceiverConfig};
use crate::sender::url::ReceiverUrl;
use crate::sender::{Attempt, Sender};
use crate::serve::{Fleet, ServeConfig, StartError};

/// `template` with the port of `url` when it names port 0 (a `--serve`
/// receiver that picked its own port).
fn same_port(template: &str, url: &str) -> String {
    let port = ReceiverUrl::parse(url).ok().and_then(|u| u.port());
    match port {
        Some(port) => template
            .replace("127.0.0.1:0/", &format!("127.0.0.1:{port}/"))
            .replace("localhost:0/", &format!("localhost:{port}/")),
        None => template.to_owned(),
    }
}

/// Starts a `--serve` command (`replicas` copies of it) with the id and
/// port in its environment, and waits for `url` to answer.
pub(super) async fn start_served(
    command: &str,
    url: &str,
    webhook_id: &str,
    timeout: std::time::Duration,
    replicas: usize,
) -> Result<Fleet, TargetError> {
    let mut env = vec![(
        "WEBHOOK_HARNESS_WEBHOOK_ID".to_owned(),
        webhook_id.to_owned(),
    )];
    // PORT=0 asks the receiver to pick a free port and say which.
    if let Some(port) = ReceiverUrl::parse(url).ok().and_then(|u| u.port()) {
        env.push(("PORT".to_owned(), port.to_string()));
    }
    let from = match super::config::file_of("serve") {
        Some(file) => format!(" (serve from {})", file.display()),
        None => String::new(),
    };
    crate::output::errln!(
        "serve: starting `{command}`{from}, waiting up to {} for {url}",
        crate::duration::format(timeout)
    );
    let config = ServeConfig {
        command: command.to_owned(),
        env,
        url: url.to_owned(),
        timeout,
        grace: std::time::Duration::from_secs(5),
        secret: Some(webhook_id.to_owned()),
    };
    let served = Fleet::start(&config, replicas)
        .await
        .map_err(TargetError::Serve)?;
    crate::output::errln!(
        "serve: {} answered after {}",
        served.urls().join(", "),
        crate::duration::format(served.elapsed())
    );
    Ok(served)
}

use super::{TargetArgs, advice, exit};

/// Where the commands send, and the built-in receiver when it stands in,
/// or the user's receiver when the harness started it (`--serve`).
pub(super) struct ReceiverUnderTest {
    pub url: String,
    pub effects_url: Option<String>,
    builtin: Option<Receiver>,
    served: Option<std::sync::Arc<Fleet>>,
    /// The effects probe's template on each replica, when there are several.
    pub replica_effects_urls: Vec<String>,
}

/// Why the receiver under test is not there to test.
pub(super) enum TargetError {
    /// The arguments do not work together (exit 2).
    Usage(String),
    /// The `--serve` receiver did not come up (exit 3).
    Serve(StartError),
}

/// Says why the receiver under test is not there; the exit code.
pub(super) fn failed(error: TargetError) -> i32 {
    match error {
        TargetError::Usage(e) => super::usage_error(e),
        TargetError::Serve(e) => {
            let what = match &e {
                StartError::Spawn { .. } => "check the command",
                StartError::Occupied { .. } => {
                    "stop it (a receiver left from an earlier step, or one started by hand), or use port 0 in --url so that the receiver picks a free port"
                }
                StartError::Exited { .. } => {
                    "its last lines below may say why; check the command and --url"
                }
                StartError::NotReady { url, .. } if url.contains(":0/") => {
                    "with port 0 in --url the receiver must print the port it got (e.g. `listening on 127.0.0.1:41235`), not the 0 it was given; or give --url a fixed port"
                }
                StartError::NotReady { .. } => {
                    "check that it listens where --url says (and on PORT, which the harness sets), or raise --serve-timeout"
                }
            };
            crate::output::errln!("error: --serve: {e}; {what}");
            if !matches!(e, StartError::Occupied { .. }) {
                print_tail(e.tail());
            }
            exit::UNREACHABLE
        }
    }
}

fn print_tail(tail: &[String]) {
    if tail.is_empty() {
        crate::output::errln!("  (the receiver wrote nothing)");
    } else {
        crate::output::errln!("  its last {} lines of output:", tail.len());
        for line in tail {
            crate::output::errln!("  {line}");
        }
    }
}

impl ReceiverUnderTest {
    /// The user's receiver, or the built-in one when no `--url` is given.
    pub async fn start(args: &TargetArgs) -> Result<ReceiverUnderTest, TargetError> {
        if let Some(template) = &args.effects_url {
            crate::runner::Probe::check_template(template)
                .map_err(|e| TargetError::Usage(format!("--effects-url {e}")))?;
        }
        if args.serve.is_some() && args.url.is_none() {
            return Err(TargetError::Usage(
                "--serve needs the URL the receiver will answer on: give --url (or `url` in webhook-harness.toml), e.g. --url http://127.0.0.1:0/webhook".into(),
            ));
        }
        if let Some(url) = &args.url {
            if args.serve_replicas > 1 && args.serve.is_none() {
                return Err(TargetError::Usage(
                    "--serve-replicas starts copies of the --serve command: give --serve too"
                        .into(),
                ));
            }
            let served = match &args.serve {
                Some(command) => Some(std::sync::Arc::new(
                    start_served(
                        command,
                        url,
                        &args.webhook_id,
                        args.serve_timeout,
                        usize::from(args.serve_replicas),
                    )
                    .await?,
                )),
                None => None,
            };
            let urls = served
                .as_ref()
                .map_or_else(|| vec![url.clone()], |s| s.urls().to_vec());
            // The probe is the served receiver's: its port too, replica by replica.
            let replica_effects_urls: Vec<String> = match (&served, &args.effects_url) {
                (Some(_), Some(template)) => urls.iter().map(|u| same_port(template, u)).collect(),
                _ => Vec::new(),
            };
            let effects_url = replica_effects_urls
                .first()
                .cloned()
                .or_else(|| args.effects_url.clone());
            return Ok(ReceiverUnderTest {
                url: urls[0].clone(),
                effects_url,
                builtin: None,
                served,
                replica_effects_urls: if urls.len() > 1 {
                    replica_effects_urls
                } else {
                    Vec::new()
                },
            });
        }
        let config = ReceiverConfig {
            webhook_id: Some(args.webhook_id.clone()),
            ..ReceiverConfig::default()
        };
        let receiver = Receiver::start_local(config)
            .await
            .map_err(|e| TargetError::Usage(advice::for_serve_error(&e)))?;
        Ok(ReceiverUnderTest {
            url: receiver.url(),
            effects_url: Some(
                args.effects_url
                    .clone()
                    .unwrap_or_else(|| receiver.effects_url()),
            ),
            builtin: Some(receiver),
            served: None,
            replica_effects_urls: Vec::new(),
        })
    }

    /// Gives every failing case of `outcome` what the `--serve` receiver
    /// wrote while it ran (a little after its end too: a log line often
    /// trails the answer, so the lines are read once that time has passed).
    /// A line that may be another case's (written while another case was
    /// under way, or just after the one before ended) is marked so.
    pub async fn attach_logs(&self, outcome: &mut crate::result::RunResult) {
        let Some(served) = &self.served else {
            return;
        };
        let failed = crate::result::CaseStatus::Failed;
        if outcome.cases.iter().all(|c| c.status() != failed) {
            return;
        }
        tokio::time::sleep(crate::result::LOG_SLACK).await;
        outcome.attach_logs(|from, to| served.lines_during(from, to));
    }

    /// Every replica's URL when the harness serves several (none otherwise).
    pub fn replicas(&self) -> Vec<String> {
        match &self.served {
            Some(fleet) if fleet.urls().len() > 1 => fleet.urls().to_vec(),
            _ => Vec::new(),
        }
    }

    /// The receiver the harness started (restart steps restart it).
    pub fn fleet(&self) -> Option<std::sync::Arc<Fleet>> {
        self.served.clone()
    }

    /// ` (built-in reference receiver)` when it is the built-in one.
    pub fn label(&self) -> &'static str {
        if self.builtin.is_some() {
            " (built-in reference receiver)"
        } else {
            ""
        }
    }

    /// `webhook id ****` for the banner; when the user's receiver gets the
    /// built-in default id, says so, as a receiver expecting its own id
    /// rejects every delivery.
    pub fn webhook_id_label(&self, args: &TargetArgs) -> String {
        if self.builtin.is_none() && args.webhook_id == crate::event::DEFAULT_WEBHOOK_ID {
            "the default webhook id: pass --webhook-id if your receiver expects its own".to_owned()
        } else {
            format!(
                "webhook id {}",
                crate::secret::display(&args.webhook_id, args.show_secrets)
            )
        }
    }

    /// Stops the built-in receiver, or the `--serve` one. `Some(3)` when the
    /// latter had exited during the run (said, with its last lines).
    pub async fn shutdown(mut self) -> Option<i32> {
        if let Some(receiver) = self.builtin.take() {
            receiver.shutdown().await;
        }
        let served = self.served.take()?;
        let tail = served.tail(20);
        let mut code = None;
        for stopped in served.stop().await {
            match stopped {
                crate::serve::Stopped::ExitedEarlier(status) => {
                    crate::output::errln!(
                        "error: --serve: the receiver exited during the run ({status}); the verdicts after that say little"
                    );
                    print_tail(&tail);
                    code = Some(exit::UNREACHABLE);
                }
                crate::serve::Stopped::Killed => {
                    crate::output::errln!(
                        "note: --serve: the receiver ignored SIGTERM and was killed"
                    );
                }
                crate::serve::Stopped::Terminated => {}
            }
        }
        code
    }
}

/// Says that `url` cannot be reached, with what to do; the exit code 3.
pub(super) fn unreachable(url: &str, failure: &crate::sender::Failure) -> i32 {
    let hint = advice::for_failure(failure)
        .map(|a| format!(". {}{}.", a[..1].to_uppercase(), &a[1..]))
        .unwrap_or_default();
    // A receiver whose TLS handshake fails is there, but nothing can be
    // sent to it until the certificate question is settled.
    let what = match failure {
        crate::sender::Failure::Tls(_) => "cannot test",
        _ => "cannot reach",
    };
    crate::output::errln!("error: {what} {url}: {failure}{hint}");
    exit::UNREACHABLE
}

/// The readiness check made once before a command starts; `Err(exit code 3)`
/// after saying so when nothing listens there.
pub(super) async fn check_reachable(sender: &Sender, url: &str) -> Result<Attempt, i32> {
    let ready = sender.readiness(url).await;
    if let Some(failure) = ready.failure.as_ref().filter(|f| f.stops_a_run()) {
        return Err(unreachable(url, failure));
    }
    Ok(ready)
}
