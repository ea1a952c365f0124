//! Standard output and standard error, written without ever panicking or
//! dying of a signal.
//!
//! The process keeps SIGPIPE ignored (Rust's default), so a receiver that
//! closes its socket while a request body is being written is an error the
//! sender reports, never a signal that ends the run. `println!` would then
//! panic when the reader of standard output goes away (`run | head -1`);
//! every line goes through [`write_out`] and [`write_err`] instead. A closed standard
//! output calls the handler the command line installs (which stops what it
//! started and exits as a pipe's reader expects); without one, further
//! output is dropped. A closed standard error is ignored.
//!
//! The command line writes most of it: in a build without the `cli`
//! feature, what only it uses is unused.
#![cfg_attr(not(feature = "cli"), allow(dead_code, unused_macros, unused_imports))]

use std::fmt;
use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

static CONSOLE_TO_STDERR: AtomicBool = AtomicBool::new(false);
static MASKED: OnceLock<crate::secret::Redactor> = OnceLock::new();
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static ON_STDOUT_CLOSED: OnceLock<fn()> = OnceLock::new();

/// Sends the console output to standard error, leaving standard output to
/// data (`--report-json -`).
pub fn console_to_stderr(on: bool) {
    CONSOLE_TO_STDERR.store(on, Ordering::Relaxed);
}

/// Whether the console output goes to standard error.
pub fn console_on_stderr() -> bool {
    CONSOLE_TO_STDERR.load(Ordering::Relaxed)
}

/// What to do when the reader of standard output goes away: called once,
/// from the thread that found it closed. Set once per process.
pub fn on_stdout_closed(handler: fn()) {
    let _ = ON_STDOUT_CLOSED.set(handler);
}

/// Masks `secret` in everything written to standard output and error from
/// now on, whatever put it there (a URL that carries it, an error that
/// quotes it): the last line of defence of a secret that no output shows
/// unless asked. Set once per process.
pub fn mask_everywhere(secret: &str) {
    if !secret.is_empty() {
        let _ = MASKED.set(crate::secret::Redactor::new(secret));
    }
}

/// `args` as text, with the secret of [`mask_everywhere`] masked.
fn masked(args: fmt::Arguments<'_>) -> String {
    let text = args.to_string();
    match MASKED.get() {
        Some(redactor) => redactor.apply(&text),
        None => text,
    }
}

/// Writes to standard output; a reader that went away calls the handler
/// of [`on_stdout_closed`] once, and everything after it is dropped.
pub fn write_out(args: fmt::Arguments<'_>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let text = masked(args);
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    if let Err(e) = written
        && e.kind() == std::io::ErrorKind::BrokenPipe
        && !STDOUT_CLOSED.swap(true, Ordering::Relaxed)
        && let Some(handler) = ON_STDOUT_CLOSED.get()
    {
        handler();
    }
}

/// Writes to standard error; errors are ignored (there is nowhere left to
/// say them).
pub fn write_err(args: fmt::Arguments<'_>) {
    let text = masked(args);
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.flush());
}

/// Console output: standard output, or standard error when standard
/// output carries data (see [`console_to_stderr`]).
pub fn write_console(args: fmt::Arguments<'_>) {
    if console_on_stderr() {
        write_err(args)
    } else {
        write_out(args)
    }
}

/// `text` with every control character but the tab and the line feed
/// written as an escape (`\u{1b}`), so that text a receiver or a sender
/// controls (a log line, a header, a path) cannot move the cursor, set a
/// title, ring the bell or overwrite a line when it is shown: ESC, OSC and
/// CSI sequences, BEL, CR and the C1 controls all come out as visible text.
/// (A line feed only starts a new line, at its start.)
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let escaped = |c: char| c.is_control() && c != '\t' && c != '\n';
    if !text.chars().any(escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `print!` through [`write_out`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write_out(format_args!($($arg)*)) };
}

/// `println!` through [`write_out`].
macro_rules! outln {
    () => { $crate::output::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` through [`write_err`].
macro_rules! err {
    ($($arg:tt)*) => { $crate::output::write_err(format_args!($($arg)*)) };
}

/// `eprintln!` through [`write_err`].
macro_rules! errln {
    () => { $crate::output::write_err(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::write_err(format_args!("{}\n", format_args!($($arg)*))) };
}

/// A console line through [`write_console`].
macro_rules! consoleln {
    ($($arg:tt)*) => { $crate::output::write_console(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {consoleln, err, errln, out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_not_obeyed() {
        assert_eq!(escape_controls("plain\ttext\nline"), "plain\ttext\nline");
        assert_eq!(
            escape_controls("\u{1b}]0;pwned\u{7}\u{1b}[2Jred\rover\u{9b}"),
            "\\u{1b}]0;pwned\\u{7}\\u{1b}[2Jred\\u{d}over\\u{9b}"
        );
    }
}
