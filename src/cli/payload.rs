//! `webhook-harness payload`: print a payload.

use clap::Args;

use super::args::EventArgs;

/// `payload` arguments.
#[derive(Debug, Args)]
pub struct PayloadArgs {
    #[command(flatten)]
    pub event: EventArgs,
    /// Print the webhook id in full (it is masked otherwise, as everywhere).
    #[arg(long)]
    pub show_secrets: bool,
}

use super::{exit, usage_error};

pub(super) fn run(args: &PayloadArgs) -> i32 {
    match args.event.builder().build() {
        Ok(event) => {
            let text = event.pretty();
            match args.show_secrets {
                true => crate::output::outln!("{text}"),
                false => {
                    crate::output::outln!("{}", crate::secret::redact(&text, event.webhook_id()))
                }
            }
            exit::SUCCESS
        }
        Err(e) => usage_error(e),
    }
}
