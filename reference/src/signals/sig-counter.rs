//! `sig-counter`: prints `pid PID`, then counts SIGUSR1, SIGUSR2 and SIGRTMIN
//! until SIGINT or SIGTERM; SIGHUP prints the counts.

// This lab's shared code (src/signals/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod signals;

use std::os::raw::c_int;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use clap::Parser;
use ipc_common::{Context, fault};
use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigSet, SigmaskHow, Signal};
use nix::unistd::{getpid, getppid};

use signals::install;

/// Used in error messages: `sig-counter: CONTEXT: REASON`.
const PROGRAM: &str = "sig-counter";
const USAGE: &str = "sig-counter";

/// No arguments at all.
#[derive(Parser)]
struct Args {}

// What the handlers record. Only atomics: a handler may run between any two
// instructions of main, so it must not take a lock or allocate.
static USR1: AtomicU64 = AtomicU64::new(0);
static USR2: AtomicU64 = AtomicU64::new(0);
static RT: AtomicU64 = AtomicU64::new(0);
static HUP: AtomicBool = AtomicBool::new(false);
static QUIT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_usr1(_: c_int) {
    USR1.fetch_add(1, Ordering::Relaxed);
}
extern "C" fn on_usr2(_: c_int) {
    USR2.fetch_add(1, Ordering::Relaxed);
}
extern "C" fn on_rt(_: c_int) {
    RT.fetch_add(1, Ordering::Relaxed);
}
extern "C" fn on_hup(_: c_int) {
    HUP.store(true, Ordering::Relaxed);
}
extern "C" fn on_quit(_: c_int) {
    QUIT.store(true, Ordering::Relaxed);
}

fn main() -> ExitCode {
    if let Err(code) = ipc_common::parse_args::<Args>(USAGE) {
        return code;
    }
    ipc_common::finish(PROGRAM, count_signals())
}

/// The lab: block the signals, install the handlers, print `pid PID`, then
/// sleep in sigsuspend and report what the handlers recorded.
fn count_signals() -> ipc_common::Result<()> {
    // Block our signals while main looks at the counters; sigsuspend then
    // unblocks them and sleeps in one atomic step, so that no signal can slip
    // in between "nothing to do" and "sleep" (as it could with pause()).
    let mut mask = SigSet::empty();
    for sig in [Signal::SIGUSR1, Signal::SIGUSR2, Signal::SIGHUP, Signal::SIGINT, Signal::SIGTERM] {
        mask.add(sig);
    }
    let mask = with_rtmin(mask);
    let waiting = mask.thread_swap_mask(SigmaskHow::SIG_BLOCK).context("sigprocmask")?;
    fault!("pause-loop" => signals::faults::unblock(&waiting));

    let flags = if fault!("resethand") { SaFlags::SA_RESTART | SaFlags::SA_RESETHAND } else { SaFlags::SA_RESTART };
    install(Signal::SIGUSR1, on_usr1, flags).context("sigaction SIGUSR1")?;
    install(Signal::SIGUSR2, on_usr2, flags).context("sigaction SIGUSR2")?;
    install(Signal::SIGHUP, on_hup, flags).context("sigaction SIGHUP")?;
    install(Signal::SIGINT, on_quit, flags).context("sigaction SIGINT")?;
    if !fault!("term-default") {
        install(Signal::SIGTERM, on_quit, flags).context("sigaction SIGTERM")?;
    }
    install_rt(libc::SIGRTMIN(), on_rt).context("sigaction SIGRTMIN")?;

    // stdout is line-buffered in Rust: each println! reaches the pipe at once.
    println!("pid {}", if fault!("wrong-pid") { getppid() } else { getpid() });
    loop {
        fault!("busy-wait" => signals::faults::spin_until_flagged(&waiting, &mask, &[&HUP, &QUIT]).context("sigprocmask")?);
        fault!("pause-loop" => nix::unistd::pause());
        // Returns after at least one handler ran.
        if !fault!("busy-wait") && !fault!("pause-loop") {
            waiting.suspend().context("sigsuspend")?;
        }
        let quit = QUIT.load(Ordering::Relaxed);
        if HUP.swap(false, Ordering::Relaxed) || quit {
            let rt = RT.load(Ordering::Relaxed);
            let rt = if fault!("rt-counter-u8") { rt % 256 } else { rt };
            println!("usr1={} usr2={} rt={rt}", USR1.load(Ordering::Relaxed), USR2.load(Ordering::Relaxed));
        }
        fault!("exit-on-hup" => return Ok(()));
        if quit {
            if !fault!("no-bye") {
                println!("bye");
            }
            return Ok(());
        }
    }
}

/// `set` and SIGRTMIN, which nix's `Signal` cannot name.
fn with_rtmin(set: SigSet) -> SigSet {
    let mut raw = *set.as_ref();
    // SAFETY: `raw` is an initialised sigset_t, and SIGRTMIN a valid signal.
    unsafe { libc::sigaddset(&mut raw, libc::SIGRTMIN()) };
    // SAFETY: `raw` was initialised by SigSet::empty() and sigaddset.
    unsafe { SigSet::from_sigset_t_unchecked(raw) }
}

/// `sigaction` for a real-time signal, which nix's `Signal` cannot name.
fn install_rt(sig: c_int, handler: extern "C" fn(c_int)) -> Result<(), Errno> {
    // SAFETY: an all-zero sigaction is valid (no flags, empty mask, SIG_DFL).
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as usize;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `action` is fully initialised; the handler only touches an atomic.
    let res = unsafe { libc::sigaction(sig, &action, std::ptr::null_mut()) };
    Errno::result(res).map(drop)
}
