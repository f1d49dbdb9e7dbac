//! Code shared by the programs of lab `fifo`. `on_termination` is given
//! complete: stopping cleanly on a signal is the `signals` lab's subject, not
//! this one's. Use it from a program as `fifo::on_termination`.

use nix::sys::signal::{SigSet, Signal};

/// A write of at most `PIPE_BUF` bytes (4096 on Linux, see pipe(7)) to a
/// pipe or FIFO is atomic: its bytes land together, never mixed with another
/// writer's. A longer write may be split and interleaved.
pub const PIPE_BUF: usize = libc::PIPE_BUF;

/// The longest line a client may send: the line and its newline make one
/// write of at most `PIPE_BUF` bytes.
pub const MAX_LINE: usize = PIPE_BUF - 1;

/// Runs `on_signal` on a thread of its own when SIGINT or SIGTERM arrives.
///
/// Call it before any other thread exists: it blocks both signals in the
/// calling thread (every later thread inherits the mask), so they are never
/// delivered asynchronously. The waiting thread takes them with sigwait(3):
/// no handler, no async-signal-safety rules, and it works wherever your main
/// thread is blocked, in `open`, `poll` or `read`.
///
/// ```no_run
/// fifo::on_termination(|_signal| std::process::exit(0)).expect("sigprocmask");
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
