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
use ipc_common::{fail, fault};
use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigSet, SigmaskHow, Signal};
use nix::unistd::{getpid, getppid};

use signals::install;

const PROGRAM: &str = "sig-counter";
const USAGE: &str = "sig-counter";

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
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err((context, e)) => fail(PROGRAM, context, e),
    }
}

fn run() -> Result<(), (&'static str, Errno)> {
    let rtmin = libc::SIGRTMIN();
    // Block our signals while main looks at the counters; sigsuspend then
    // unblocks them and sleeps in one atomic step, so that no signal can slip
    // in between "nothing to do" and "sleep" (as it could with pause()).
    let mut mask = SigSet::empty();
    for sig in [Signal::SIGUSR1, Signal::SIGUSR2, Signal::SIGHUP, Signal::SIGINT, Signal::SIGTERM] {
        mask.add(sig);
    }
    let mut raw = *mask.as_ref();
    // SAFETY: `raw` is an initialised sigset_t; nix's Signal has no
    // real-time signals, so SIGRTMIN is added through libc.
    unsafe { libc::sigaddset(&mut raw, rtmin) };
    // SAFETY: `raw` was initialised by SigSet::empty() and sigaddset.
    let mask = unsafe { SigSet::from_sigset_t_unchecked(raw) };
    // Fault `pause-loop`: nothing blocked, and pause() below: the lost wake-up.
    let waiting = if fault!("pause-loop") {
        SigSet::empty()
    } else {
        mask.thread_swap_mask(SigmaskHow::SIG_BLOCK).map_err(|e| ("sigprocmask", e))?
    };

    // Fault `resethand`: each handler runs once, then the default action is back.
    let flags = if fault!("resethand") { SaFlags::SA_RESTART | SaFlags::SA_RESETHAND } else { SaFlags::SA_RESTART };
    install(Signal::SIGUSR1, on_usr1, flags).map_err(|e| ("sigaction SIGUSR1", e))?;
    install(Signal::SIGUSR2, on_usr2, flags).map_err(|e| ("sigaction SIGUSR2", e))?;
    install(Signal::SIGHUP, on_hup, flags).map_err(|e| ("sigaction SIGHUP", e))?;
    install(Signal::SIGINT, on_quit, flags).map_err(|e| ("sigaction SIGINT", e))?;
    if !fault!("term-default") {
        install(Signal::SIGTERM, on_quit, flags).map_err(|e| ("sigaction SIGTERM", e))?;
    }
    install_rt(rtmin, on_rt).map_err(|e| ("sigaction SIGRTMIN", e))?;

    // stdout is line-buffered in Rust: each println! reaches the pipe at once.
    println!("pid {}", if fault!("wrong-pid") { getppid() } else { getpid() });
    loop {
        if fault!("busy-wait") {
            // Unblocks the signals and spins until a handler sets a flag.
            waiting.thread_set_mask().map_err(|e| ("sigprocmask", e))?;
            while !HUP.load(Ordering::Relaxed) && !QUIT.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
            mask.thread_block().map_err(|e| ("sigprocmask", e))?;
        } else if fault!("pause-loop") {
            // A signal handled between the flags' check below and here is
            // slept through until the next one.
            nix::unistd::pause();
        } else {
            // Returns after at least one handler ran.
            waiting.suspend().map_err(|e| ("sigsuspend", e))?;
        }
        let quit = QUIT.load(Ordering::Relaxed);
        if HUP.swap(false, Ordering::Relaxed) || quit {
            println!(
                "usr1={} usr2={} rt={}",
                USR1.load(Ordering::Relaxed),
                USR2.load(Ordering::Relaxed),
                // Fault `rt-counter-u8`: a u8 counter wraps at 256.
                if fault!("rt-counter-u8") { RT.load(Ordering::Relaxed) % 256 } else { RT.load(Ordering::Relaxed) }
            );
        }
        if fault!("exit-on-hup") && !quit {
            return Ok(());
        }
        if quit {
            if !fault!("no-bye") {
                println!("bye");
            }
            return Ok(());
        }
    }
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
