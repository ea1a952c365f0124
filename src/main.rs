fn main() {
    std::process::exit(webhook_harness::command_line());
}
