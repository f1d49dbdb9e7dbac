//! Ctrl-C, SIGTERM and SIGHUP: what the grader does when it is stopped.
//!
//! The programs under test run in process groups of their own (so that a
//! check can kill one and everything it started), which also means that
//! the terminal's Ctrl-C never reaches them: the grader must stop them
//! itself. [`install`] blocks the three signals in the calling thread,
//! which must be the only one yet, so that every thread started later
//! inherits the mask, and one thread takes them with `sigwait`. Programs
//! the grader starts get an empty mask again (`ipc_engine::proc::spawn`).

use nix::sys::signal::{SigSet, Signal};

/// The signals that stop the grader.
fn stop_signals() -> SigSet {
    let mut set = SigSet::empty();
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(sig);
    }
    set
}

/// Calls `on_stop` in a thread of its own when the first stop signal
/// arrives. Call it before any other thread starts.
pub fn install(on_stop: impl FnOnce(Signal) + Send + 'static) {
    let set = stop_signals();
    if set.thread_block().is_err() {
        return;
    }
    let spawned = std::thread::Builder::new().name("stop-signals".into()).spawn(move || {
        if let Ok(sig) = set.wait() {
            on_stop(sig);
        }
    });
    if spawned.is_err() {
        let _ = set.thread_unblock();
    }
}

/// The usual stop: every program the grader started (and what they
/// started) is killed, the runs' IPC objects and folders are removed, and
/// the grader exits with 128 + the signal's number.
pub fn stop_cleanly(sig: Signal) {
    ipc_engine::runner::abort();
    eprintln!("\ncargo grade: stopped by {sig}; every program it had started was stopped too.");
    crate::workflow::end();
    std::process::exit(128 + sig as i32);
}
