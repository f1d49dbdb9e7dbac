//! The grader's protected region of a GitHub Actions log (`--format
//! github`).
//!
//! GitHub's runner takes a line of the log as a workflow command when it
//! starts with `::` (after blanks) or holds `##[` anywhere: `::notice
//! title=Score::408/408`, `::error ...`, `::add-mask::...`, and
//! `::stop-commands::TOKEN`, which silences every later command until a
//! line `::TOKEN::`. Student code prints in two places the grader cannot
//! escape line by line: its build (cargo passes on a build script's output
//! and the compiler's messages) and its programs. So before anything is
//! built, [`start`] prints `::stop-commands::TOKEN` with a token drawn
//! from the kernel's random numbers (student code cannot know it in
//! advance, and never sees it: it is neither in an environment nor in a
//! file) and sends the grader's stderr to its stdout, so that the log
//! keeps one order; [`end`] prints `::TOKEN::` once everything with
//! student text in it is out. The grader's annotations and its Score
//! notice come after, escaped. The launcher does the same around its own
//! build of the grader.

use std::io::{Read, Write};
use std::sync::Mutex;

/// The token of the region under way.
static TOKEN: Mutex<Option<String>> = Mutex::new(None);

/// A token for `::stop-commands::`: 128 bits from /dev/urandom.
pub fn token() -> String {
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // No /dev/urandom: still unknown to anyone in advance.
        bytes[..8].copy_from_slice(&fastrand::u64(..).to_le_bytes());
        bytes[8..].copy_from_slice(&fastrand::u64(..).to_le_bytes());
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("ipc-grader-{hex}")
}

/// Starts the protected region (once: later calls do nothing): prints
/// `::stop-commands::TOKEN` on stdout and makes stderr a copy of stdout.
pub fn start() {
    let mut active = TOKEN.lock().unwrap_or_else(|e| e.into_inner());
    if active.is_some() {
        return;
    }
    let token = token();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "::stop-commands::{token}");
    let _ = out.flush();
    drop(out);
    // One stream, one order: a line on stderr could otherwise reach the
    // runner before the line above, or after the one that ends the region.
    let _ = nix::unistd::dup2_stderr(std::io::stdout());
    *active = Some(token);
}

/// Ends the protected region, if one is under way: prints `::TOKEN::`.
pub fn end() {
    let Some(token) = TOKEN.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "::{token}::");
    let _ = out.flush();
}
