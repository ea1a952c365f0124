//! The library without the `cli` feature, as a receiver's own tests depend
//! on it (`default-features = false`): none of the command line's crates.

use std::process::Command;

#[test]
fn the_library_alone_depends_on_none_of_the_command_lines_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--locked",
            "--no-default-features",
            "--edges",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(crates.contains(&"tokio"), "{tree}");
    for cli_only in [
        "clap",
        "clap_complete",
        "clap_mangen",
        "indicatif",
        "console",
        "toml",
    ] {
        assert!(
            !crates.contains(&cli_only),
            "{cli_only} is built for the library alone"
        );
    }
    // And the full build has them: the test can fail.
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "tree", "--locked", "--edges", "normal", "--prefix", "none", "--format", "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let full = String::from_utf8_lossy(&out.stdout);
    assert!(full.lines().any(|l| l.starts_with("clap ")), "{full}");
}
