//! The receiver under test for `run`, `fuzz` and `load`: the user's, or the
//! built-in reference receiver started in-process with its probe wired in.

use crate::receiver::{Receiver, ReceiverConfig};
use crate::sender::{Attempt, Sender};

use super::{TargetArgs, advice, exit};

/// Where the commands send, and the built-in receiver when it stands in.
pub(super) struct ReceiverUnderTest {
    pub url: String,
    pub effects_url: Option<String>,
    builtin: Option<Receiver>,
}

impl ReceiverUnderTest {
    /// The user's receiver, or the built-in one when no `--url` is given.
    pub async fn start(args: &TargetArgs) -> Result<ReceiverUnderTest, String> {
        if let Some(template) = &args.effects_url {
            crate::runner::Probe::check_template(template)
                .map_err(|e| format!("--effects-url {e}"))?;
        }
        if let Some(url) = &args.url {
            return Ok(ReceiverUnderTest {
                url: url.clone(),
                effects_url: args.effects_url.clone(),
                builtin: None,
            });
        }
        let config = ReceiverConfig {
            webhook_id: Some(args.webhook_id.clone()),
            ..ReceiverConfig::default()
        };
        let receiver = Receiver::start_local(config)
            .await
            .map_err(|e| advice::for_serve_error(&e))?;
        Ok(ReceiverUnderTest {
            url: receiver.url(),
            effects_url: Some(
                args.effects_url
                    .clone()
                    .unwrap_or_else(|| receiver.effects_url()),
            ),
            builtin: Some(receiver),
        })
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

    /// Stops the built-in receiver, if any.
    pub async fn shutdown(self) {
        if let Some(receiver) = self.builtin {
            receiver.shutdown().await;
        }
    }
}

/// Says that `url` cannot be reached, with what to do; the exit code 3.
pub(super) fn unreachable(url: &str, failure: &crate::sender::Failure) -> i32 {
    let hint = advice::for_failure(failure)
        .map(|a| format!(". {}{}.", a[..1].to_uppercase(), &a[1..]))
        .unwrap_or_default();
    eprintln!("error: cannot reach {url}: {failure}{hint}");
    exit::UNREACHABLE
}

/// The readiness check made once before a command starts; `Err(exit code 3)`
/// after saying so when nothing listens there.
pub(super) async fn check_reachable(sender: &Sender, url: &str) -> Result<Attempt, i32> {
    let ready = sender.readiness(url).await;
    if let Some(failure) = ready.failure.as_ref().filter(|f| f.is_unreachable()) {
        return Err(unreachable(url, failure));
    }
    Ok(ready)
}
