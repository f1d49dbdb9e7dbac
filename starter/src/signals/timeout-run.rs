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
    let args = match Args::try_parse() {
        Ok(args) if args.seconds.parse::<f64>().is_ok_and(|s| s.is_finite() && s >= 0.0) => args,
        _ => todo!("report the usage error with ipc_common::usage(USAGE)"),
    };
    ipc_common::finish(PROGRAM, run_with_timeout(args))
}

/// The lab. The steps:
///
/// 1. Block SIGCHLD and SIGALRM; install handlers that set atomic flags.
/// 2. fork. Child: `setpgid(0, 0)` (its own group), restore the old signal
///    mask (a mask survives exec), `execvp`; if that returns, it failed:
///    print `timeout-run: COMMAND: REASON` on stderr (REASON is the error's
///    text, e.g. `No such file or directory`: `Errno::desc()`), then exit 127
///    for ENOENT, else 126 (`ipc_common::exit_child`). In the child, between
///    fork and exec, allocate nothing: build the message's pieces before
///    fork and write them with `nix::unistd::write` to descriptor 2 (as GNU
///    timeout prints `timeout: failed to run command 'x': No such file or
///    directory`). Parent: also `setpgid(child, child)`.
/// 3. Arm a timer: `libc::setitimer(ITIMER_REAL, ...)` takes seconds and
///    microseconds (alarm(2) only whole seconds: 0.2 would not work).
/// 4. Loop on `old_mask.suspend()`: on SIGCHLD, `waitpid(child, WNOHANG)`;
///    on the first SIGALRM `killpg(child, SIGTERM)` and arm 1 s more; on the
///    second, `killpg(child, SIGKILL)`.
///
/// Signal the GROUP (killpg), not only the child: a shell's children would
/// survive. Exit 124 if the time ran out, else the command's status.
fn run_with_timeout(args: Args) -> ipc_common::Result<ExitCode> {
    let _ = args;
    todo!("run the command with a time limit: the steps above")
}
