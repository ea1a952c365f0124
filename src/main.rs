use clap::Parser;
use webhook_harness::cli::{Cli, run, usage};

fn main() {
    let code = match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(error) => usage(error),
    };
    std::process::exit(code);
}
