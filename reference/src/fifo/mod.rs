//! Code shared by the programs of lab `fifo`: the longest line a client may
//! send, and ending the server cleanly on SIGINT or SIGTERM.

use nix::sys::signal::{SigSet, Signal};

/// A write of at most `PIPE_BUF` bytes (4096 on Linux) to a pipe or FIFO is
/// atomic: its bytes land together, never mixed with another writer's.
pub const PIPE_BUF: usize = libc::PIPE_BUF;

/// The longest line a client sends: the line and its newline are one
/// atomic write.
pub const MAX_LINE: usize = PIPE_BUF - 1;

/// Runs `on_signal` on a thread of its own when SIGINT or SIGTERM arrives.
///
/// Call it before any other thread exists: it blocks both signals in the
/// calling thread (every later thread inherits the mask), so they are never
/// delivered asynchronously. The waiting thread takes them with sigwait(3):
/// no handler, no async-signal-safety rules, and it works wherever the main
/// thread is blocked (in `open`, `poll` or `read`).
pub fn on_termination(on_signal: impl FnOnce(Signal) + Send + 'static) -> nix::Result<()> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()?;
    std::thread::spawn(move || {
        // sigwait only fails for an invalid set.
        if let Ok(signal) = set.wait() {
            on_signal(signal);
        }
    });
    Ok(())
}
