//! Code shared by the programs of lab `sockets`, given complete: stopping
//! cleanly on a signal is the `signals` lab's subject, not this one's.
//!
//! Use it from a program as `sockets::on_termination`.

use nix::sys::signal::{SigSet, Signal};

/// Runs `on_signal` on a thread of its own when SIGINT or SIGTERM arrives.
///
/// Call it first in `main`, before any other thread exists: it blocks both
/// signals in the calling thread (every later thread inherits the mask), so
/// they are never delivered asynchronously. The waiting thread takes them
/// with sigwait(3): no handler, no async-signal-safety rules, and no race
/// between checking a flag and blocking in recvfrom or accept.
///
/// ```no_run
/// sockets::on_termination(|_signal| std::process::exit(0)).expect("sigprocmask");
/// ```
pub fn on_termination(on_signal: impl FnOnce(Signal) + Send + 'static) -> nix::Result<()> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()?;
    std::thread::spawn(move || {
        if let Ok(signal) = set.wait() {
            on_signal(signal);
        }
    });
    Ok(())
}
