//! `sig-reaper N`: forks N children and reaps each as it ends, woken by
//! SIGCHLD; several ended children may share one SIGCHLD.

// This lab's shared code (src/signals/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod signals;

use std::os::raw::c_int;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::time::Duration;

use clap::Parser;
use ipc_common::{exit_child, fail, fault};
use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

use signals::install;

const PROGRAM: &str = "sig-reaper";
const USAGE: &str = "sig-reaper N";

#[derive(Parser)]
struct Args {
    /// How many children to fork (1 to 1000).
    #[arg(value_parser = clap::value_parser!(u32).range(if fault!("accept-zero") { 0 } else { 1 }..=1000))]
    n: u32,
}

/// Set by the handler; main only needs to be woken, the flag is for clarity.
static CHILD_ENDED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigchld(_: c_int) {
    CHILD_ENDED.store(true, Ordering::Relaxed);
}

/// Fault `reap-in-handler`: the handler reaps (waitpid is async-signal-safe)
/// into these, and main prints them, sleeping in pause() with SIGCHLD
/// unblocked: a SIGCHLD handled between main's look at the count and its
/// pause() is slept through, forever if it was the last child's.
static REAPED_PIDS: [AtomicI32; 1000] = [const { AtomicI32::new(0) }; 1000];
static REAPED_CODES: [AtomicI32; 1000] = [const { AtomicI32::new(0) }; 1000];
static REAPED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn reap_in_handler(_: c_int) {
    while let Ok(WaitStatus::Exited(pid, code)) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        let i = REAPED.load(Ordering::Relaxed);
        REAPED_PIDS[i].store(pid.as_raw(), Ordering::Relaxed);
        REAPED_CODES[i].store(code, Ordering::Relaxed);
        REAPED.store(i + 1, Ordering::Release);
    }
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // Block SIGCHLD: it stays pending until sigsuspend, so none is lost
    // between "reaped all I could" and "sleep".
    let mut chld = SigSet::empty();
    chld.add(Signal::SIGCHLD);
    let blocked =
        if fault!("reap-in-handler") { Ok(SigSet::empty()) } else { chld.thread_swap_mask(SigmaskHow::SIG_BLOCK) };
    let waiting = match blocked {
        Ok(old) => old,
        Err(e) => return fail(PROGRAM, "sigprocmask", e),
    };
    // SA_NOCLDSTOP: no SIGCHLD for stopped children, only ended ones.
    let handler = if fault!("reap-in-handler") { reap_in_handler } else { on_sigchld };
    if let Err(e) = install(Signal::SIGCHLD, handler, SaFlags::SA_NOCLDSTOP | SaFlags::SA_RESTART) {
        return fail(PROGRAM, "sigaction", e);
    }

    let mut forked = 0;
    let mut error = None;
    for i in 0..args.n {
        // SAFETY: this program is single-threaded. The child only sleeps
        // (nanosleep) and _exits.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                std::thread::sleep(Duration::from_millis(u64::from(i * 7 % 50)));
                exit_child((i % 256) as i32)
            }
            Ok(ForkResult::Parent { .. }) => forked += 1,
            Err(e) => {
                error = Some(fail(PROGRAM, "fork", e));
                break;
            }
        }
    }

    let mut reaped = 0;
    while fault!("reap-in-handler") && reaped < forked {
        let done = REAPED.load(Ordering::Acquire);
        for i in reaped..done {
            let (pid, code) = (REAPED_PIDS[i].load(Ordering::Relaxed), REAPED_CODES[i].load(Ordering::Relaxed));
            println!("reaped {pid} status {code}");
        }
        reaped = done;
        if reaped < forked {
            nix::unistd::pause();
        }
    }
    while !fault!("reap-in-handler") {
        // One SIGCHLD may stand for many ended children: reap until none is left.
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => {
                    // Fault `raw-status`: the wait status as waitpid stores it, not the exit code.
                    println!("reaped {pid} status {}", if fault!("raw-status") { code << 8 } else { code });
                    reaped += 1;
                    if fault!("one-wait-per-signal") {
                        break;
                    }
                }
                Ok(WaitStatus::Signaled(pid, sig, _)) => {
                    println!("reaped {pid} status {}", 128 + sig as i32);
                    reaped += 1;
                }
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => break,
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return fail(PROGRAM, "waitpid", e),
            }
        }
        if reaped == forked {
            break;
        }
        // Unblocks SIGCHLD and sleeps until a handler ran.
        if let Err(e) = waiting.suspend() {
            return fail(PROGRAM, "sigsuspend", e);
        }
        CHILD_ENDED.store(false, Ordering::Relaxed);
    }
    if let Some(code) = error {
        return code;
    }
    if fault!("no-summary") {
        println!("reaped {reaped}");
    } else {
        println!("reaped {reaped} children");
    }
    ExitCode::SUCCESS
}
