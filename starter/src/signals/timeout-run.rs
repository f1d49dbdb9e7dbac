//! `timeout-run SECONDS COMMAND [ARG...]`
//!
//! Runs COMMAND in a new process group. After SECONDS (fractions allowed)
//! sends SIGTERM to the group, and SIGKILL one second later if it is still
//! there. Exit status as GNU `timeout`: the command's own; 128+N if signal N
//! killed it; 124 on timeout; 127 if COMMAND is not found; 126 if it cannot
//! be run. Read handouts/signals.md first.

#![allow(dead_code)]

// This lab's shared code (src/signals/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod signals;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `timeout-run: CONTEXT: REASON`.
const PROGRAM: &str = "timeout-run";
const USAGE: &str = "timeout-run SECONDS COMMAND [ARG...]";

#[derive(Parser)]
struct Args {
    /// Seconds, parsed as f64 (must be finite and >= 0).
    seconds: String,
    command: OsString,
    /// The command's arguments, `-l` included.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

fn main() -> ExitCode {
    // Given: a bad command line, or SECONDS that is not a finite number of
    // at least 0, prints `usage: ...` on stderr and exits 2.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) if args.seconds.parse::<f64>().is_ok_and(|s| s.is_finite() && s >= 0.0) => args,
        Ok(_) => return ipc_common::usage(USAGE),
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, run_with_timeout(args))
}

/// The lab: run COMMAND in a new process group; after SECONDS send SIGTERM
/// to the group, and SIGKILL one second later if it is still there. Exit
/// as GNU `timeout` does: the command's status, 128+N if signal N killed
/// it, 124 on a time-out, 127 if COMMAND is not found, 126 if it cannot be
/// run (`timeout-run: COMMAND: REASON` on stderr).
///
/// Pitfalls:
/// - Signal the whole group: a shell's children would survive a signal to
///   the child alone.
/// - SECONDS may be a fraction (0.2): a timer of whole seconds will not do.
/// - A signal mask and ignored signals survive exec: the command must
///   start as if run directly.
/// - Between fork and exec the child allocates nothing: prepare its error
///   message before the fork.
/// - The same lost wake-up as in sig-counter: checking and going to sleep
///   must be one atomic step.
///
/// Read: setpgid(2), killpg(3), setitimer(2), execvp(3), sigsuspend(2),
/// waitpid(2); handouts/signals.md (Process groups, Exit statuses).
/// Stuck? `cargo grade --hint timeout-run` shows one hint at a time.
fn run_with_timeout(args: Args) -> ipc_common::Result<ExitCode> {
    let _ = args;
    todo!("run the command with a time limit")
}
