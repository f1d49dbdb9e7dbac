//! `pipe-message [--exit CODE] [TEXT]`
//!
//! A child sends TEXT (default `message for parent`) to its parent through a
//! pipe and exits with status CODE (default 0). The parent prints
//!
//! ```text
//! parent received: TEXT
//! child exited with status CODE
//! ```
//!
//! and exits 0. Read handouts/pipe.md first; `cargo grade pipe` checks it.

// This lab's shared code (src/pipe/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod pipe;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `pipe-message: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "pipe-message";
const USAGE: &str = "pipe-message [--exit CODE] [TEXT]";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// The child's exit status.
    #[arg(long = "exit", value_name = "CODE", default_value_t = 0)]
    exit: u8,
    /// What the child sends.
    #[arg(default_value = "message for parent")]
    text: OsString,
}

fn main() -> ExitCode {
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, send_to_parent(args.text, args.exit))
}

/// The lab: the child sends TEXT to the parent through a pipe and exits
/// with CODE; the parent prints what arrived and how the child ended.
///
/// Pitfalls:
/// - TEXT may be larger than the pipe's buffer (the grader sends 100 KiB):
///   one read(2) or write(2) may move only part of it.
/// - The parent sees end of file only once every write end is closed, in
///   every process: its own copy too.
/// - A child that does not exec must not go on into the parent's code, nor
///   run the exit-time clean-up it inherited (buffered output, printed twice).
/// - Send TEXT's bytes and nothing more: the lecture's C example also sent
///   the string's NUL, the contract does not.
/// - nix's `fork` is `unsafe`: a `// SAFETY:` comment says what the child
///   may do.
///
/// Read: pipe(2), fork(2), _exit(2), waitpid(2), pipe(7); handouts/pipe.md.
/// Stuck? `cargo grade --hint pipe-message` shows one hint at a time.
fn send_to_parent(text: OsString, code: u8) -> ipc_common::Result<()> {
    let _ = (text, code);
    todo!("send TEXT from a child to its parent through a pipe")
}
