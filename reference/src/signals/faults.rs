//! Code that exists only for faults (broken/README.md): compiled into
//! broken/'s programs, never into the reference's.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

use nix::sys::signal::SigSet;

/// `pause-loop`: nothing stays blocked, and the program sleeps in pause():
/// a signal handled between its check of the flags and pause() is slept
/// through until the next one (the lost wake-up).
pub fn unblock(waiting: &SigSet) {
    let _ = waiting.thread_set_mask();
}

/// `busy-wait`: unblocks the signals and spins until a handler sets a flag.
pub fn spin_until_flagged(waiting: &SigSet, mask: &SigSet, flags: &[&AtomicBool]) -> nix::Result<()> {
    waiting.thread_set_mask()?;
    while !flags.iter().any(|f| f.load(Ordering::Relaxed)) {
        std::hint::spin_loop();
    }
    mask.thread_block()
}

/// `reap-in-handler`: the handler reaps (waitpid is async-signal-safe) into
/// these, and main prints them, sleeping in pause() with SIGCHLD unblocked: a
/// SIGCHLD handled between main's look at the count and its pause() is
/// slept through, forever if it was the last child's.
static REAPED_PIDS: [AtomicI32; 1000] = [const { AtomicI32::new(0) }; 1000];
static REAPED_CODES: [AtomicI32; 1000] = [const { AtomicI32::new(0) }; 1000];
static REAPED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn reap_now(_: std::os::raw::c_int) {
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    while let Ok(WaitStatus::Exited(pid, code)) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        let i = REAPED.load(Ordering::Relaxed);
        REAPED_PIDS[i].store(pid.as_raw(), Ordering::Relaxed);
        REAPED_CODES[i].store(code, Ordering::Relaxed);
        REAPED.store(i + 1, Ordering::Release);
    }
}

pub fn reap_in_handler(n: u32) -> ipc_common::Result<()> {
    use ipc_common::Context;
    use nix::sys::signal::{SaFlags, Signal};
    use nix::unistd::{ForkResult, fork};
    super::install(Signal::SIGCHLD, reap_now, SaFlags::SA_NOCLDSTOP | SaFlags::SA_RESTART).context("sigaction")?;
    for i in 0..n {
        // SAFETY: single-threaded; the child only sleeps and _exits.
        if let ForkResult::Child = unsafe { fork() }.context("fork")? {
            std::thread::sleep(std::time::Duration::from_millis(u64::from(i * 7 % 50)));
            ipc_common::exit_child((i % 256) as i32)
        }
    }
    let mut reaped = 0;
    while reaped < n as usize {
        let done = REAPED.load(Ordering::Acquire);
        for i in reaped..done {
            let (pid, code) = (REAPED_PIDS[i].load(Ordering::Relaxed), REAPED_CODES[i].load(Ordering::Relaxed));
            println!("reaped {pid} status {code}");
        }
        reaped = done;
        if reaped < n as usize {
            nix::unistd::pause();
        }
    }
    println!("reaped {reaped} children");
    Ok(())
}
