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
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Parser;
use ipc_common::{Context, Error, exit_child, fault};
use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

use signals::install;

/// Used in error messages: `sig-reaper: CONTEXT: REASON`.
const PROGRAM: &str = "sig-reaper";
const USAGE: &str = "sig-reaper N";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// How many children (1 to 1000).
    #[arg(value_parser = clap::value_parser!(u32).range(if fault!("accept-zero") { 0 } else { 1 }..=1000))]
    n: u32,
}

/// Set by the handler; main only needs to be woken, the flag is for clarity.
static CHILD_ENDED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigchld(_: c_int) {
    CHILD_ENDED.store(true, Ordering::Relaxed);
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, reap_children(args.n))
}

/// The lab: fork N children and reap each as it ends, with SIGCHLD blocked
/// except while sleeping in sigsuspend.
fn reap_children(n: u32) -> ipc_common::Result<()> {
    fault!("reap-in-handler" => return signals::faults::reap_in_handler(n));
    // Block SIGCHLD: it stays pending until sigsuspend, so none is lost
    // between "reaped all I could" and "sleep".
    let waiting = SigSet::from(Signal::SIGCHLD).thread_swap_mask(SigmaskHow::SIG_BLOCK).context("sigprocmask")?;
    // SA_NOCLDSTOP: no SIGCHLD for stopped children, only ended ones.
    install(Signal::SIGCHLD, on_sigchld, SaFlags::SA_NOCLDSTOP | SaFlags::SA_RESTART).context("sigaction")?;

    let mut forked = 0;
    let mut failed = None;
    for i in 0..n {
        // SAFETY: this program is single-threaded. The child only sleeps
        // (nanosleep) and _exits.
        match unsafe { fork() }.context("fork") {
            Ok(ForkResult::Child) => {
                std::thread::sleep(Duration::from_millis(u64::from(i * 7 % 50)));
                exit_child((i % 256) as i32)
            }
            Ok(ForkResult::Parent { .. }) => forked += 1,
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }

    let mut reaped = 0;
    loop {
        // One SIGCHLD may stand for many ended children: reap until none is left.
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => {
                    // `raw-status`: the wait status as waitpid stores it, not the exit code.
                    println!("reaped {pid} status {}", if fault!("raw-status") { code << 8 } else { code });
                    reaped += 1;
                    fault!("one-wait-per-signal" => break);
                }
                Ok(WaitStatus::Signaled(pid, sig, _)) => {
                    println!("reaped {pid} status {}", 128 + sig as i32);
                    reaped += 1;
                }
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => break,
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(Error::new("waitpid", e)),
            }
        }
        if reaped == forked {
            break;
        }
        // Unblocks SIGCHLD and sleeps until a handler ran.
        waiting.suspend().context("sigsuspend")?;
        CHILD_ENDED.store(false, Ordering::Relaxed);
    }
    if let Some(e) = failed {
        return Err(e);
    }
    println!("reaped {reaped}{}", if fault!("no-summary") { "" } else { " children" });
    Ok(())
}
