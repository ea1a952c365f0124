use clap::Parser;
use webhook_harness::cli::{Cli, run};

fn main() {
    std::process::exit(run(Cli::parse()));
}
