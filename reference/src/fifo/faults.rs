//! Code that exists only for faults (broken/README.md): compiled into
//! broken/'s programs, never into the reference's.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// `flag-only`: the signal only sets a flag, which the main loop looks at
/// only after a wake-up (never, while no client comes).
static STOP: AtomicBool = AtomicBool::new(false);

pub fn stop_later() {
    STOP.store(true, Ordering::SeqCst);
}

pub fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// `no-added-newline`: a last line without newline printed as it came.
pub fn print_as_is(pending: &mut Vec<u8>, lines: &AtomicU64) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(pending)?;
    out.flush()?;
    lines.fetch_add(1, Ordering::SeqCst);
    pending.clear();
    Ok(())
}

/// `sigpipe-default`: SIGPIPE back to its default action, death.
pub fn sigpipe_default() {
    // SAFETY: installing SIG_DFL runs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

/// `line-then-newline`: two writes, between which another client's line
/// may land.
pub fn line_then_newline(mut fifo: &std::fs::File, line: &[u8]) -> io::Result<()> {
    fifo.write_all(line)?;
    fifo.write_all(b"\n")
}
