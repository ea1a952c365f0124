//! `webhook-harness payload`: print a payload.

use super::{PayloadArgs, exit, usage_error};

pub(super) fn run(args: &PayloadArgs) -> i32 {
    match args.event.builder().build() {
        Ok(event) => {
            println!("{}", event.pretty());
            exit::SUCCESS
        }
        Err(e) => usage_error(e),
    }
}
