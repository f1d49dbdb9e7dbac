//! `sig-reaper N`
//!
//! Installs a SIGCHLD handler, forks N children (1 to 1000): child i sleeps
//! `(i * 7) % 50` ms and exits with `i % 256`. Prints `reaped PID status S`
//! for each child as it ends, then `reaped N children`, exits 0. Read
//! handouts/signals.md first; `cargo grade signals` checks it.

#![allow(dead_code)]

// This lab's shared code (src/signals/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod signals;

use std::os::raw::c_int;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;

#[allow(unused_imports)]
use signals::install;

/// Used in error messages: `sig-reaper: CONTEXT: REASON`.
const PROGRAM: &str = "sig-reaper";
const USAGE: &str = "sig-reaper N";

#[derive(Parser)]
struct Args {
    /// How many children (1 to 1000).
    #[arg(value_parser = clap::value_parser!(u32).range(1..=1000))]
    n: u32,
}

static CHILD_ENDED: AtomicBool = AtomicBool::new(false);

/// The SIGCHLD handler: only records that something happened. Do NOT call
/// waitpid + println! here; main does that.
extern "C" fn on_sigchld(_: c_int) {
    CHILD_ENDED.store(true, Ordering::Relaxed);
}

fn main() -> ExitCode {
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, reap_children(args.n))
}

/// The lab: install a SIGCHLD handler, fork N children (child i sleeps
/// `(i * 7) % 50` ms and exits with `i % 256`), print each child as it is
/// reaped, then `reaped N children`.
///
/// Pitfalls:
/// - A pending signal is one bit, not a counter: ten children ending
///   together may give ONE SIGCHLD, so one waitpid per signal loses
///   children and the program waits forever.
/// - The lost wake-up: reaping in the handler and waiting with
///   `while reaped < n { pause() }` hangs when the last SIGCHLD comes
///   between the test and pause(). Checking and going to sleep must be one
///   atomic step: the grader looks at the system call your program sleeps
///   in (/proc/PID/task/*/syscall) while its children are stopped.
/// - The handler may only touch atomics; main does the reaping and the
///   printing.
/// - A child must end with `_exit`, never run the parent's code after it.
///
/// Read: signal(7), sigaction(2), sigprocmask(2), sigsuspend(2),
/// waitpid(2) (WNOHANG), fork(2); handouts/signals.md.
/// Stuck? `cargo grade --hint sig-reaper` shows one hint at a time.
fn reap_children(n: u32) -> ipc_common::Result<()> {
    let _ = n;
    todo!("fork N children and reap every one")
}
