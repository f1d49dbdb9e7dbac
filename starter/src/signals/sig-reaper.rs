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
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(_) => todo!("report the usage error with ipc_common::usage(USAGE)"),
    };
    ipc_common::finish(PROGRAM, reap_children(args.n))
}

/// The lab. The steps:
///
/// 1. Block SIGCHLD (`SigSet::thread_swap_mask`, keep the old mask), then
///    `install(Signal::SIGCHLD, on_sigchld, SaFlags::SA_NOCLDSTOP)`.
/// 2. Fork N children (`unsafe { fork() }` with a `// SAFETY:` comment). A
///    child sleeps with `std::thread::sleep` and ends with
///    `ipc_common::exit_child(i % 256)`.
/// 3. Loop: reap with `waitpid(None, Some(WaitPidFlag::WNOHANG))` until it
///    says `StillAlive` (or ECHILD), printing each child; stop when all N are
///    reaped; otherwise `old_mask.suspend()` until the next SIGCHLD.
///
/// The pitfall: a pending signal is one bit, not a counter. Ten children
/// ending together may give ONE SIGCHLD, so one waitpid per signal loses
/// children and the program waits forever.
///
/// The other pitfall, the lost wake-up: reaping in the handler and waiting
/// with `while reaped < n { pause() }` hangs when the last SIGCHLD comes
/// between the `reaped < n` test and pause(): the handler reaps the last
/// child, then pause() sleeps with no child left to wake it. Keep SIGCHLD
/// blocked except inside sigsuspend (or take it with sigwaitinfo or a
/// signalfd): the contract requires it, and the grader looks at the system
/// call your program sleeps in (/proc/PID/task/*/syscall) while it waits
/// for children it has stopped with SIGSTOP.
fn reap_children(n: u32) -> ipc_common::Result<()> {
    let _ = n;
    todo!("fork N children and reap them: the steps above")
}
