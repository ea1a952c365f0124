//! `webhook-harness payload`: print a payload.

use super::{PayloadArgs, exit, usage_error};

pub(super) fn run(args: &PayloadArgs) -> i32 {
    match args.event.builder().build() {
        Ok(event) => {
            let text = event.pretty();
            match args.show_secrets {
                true => println!("{text}"),
                false => println!("{}", crate::secret::redact(&text, event.webhook_id())),
            }
            exit::SUCCESS
        }
        Err(e) => usage_error(e),
    }
}
