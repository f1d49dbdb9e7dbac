//! `sig-segv`
//!
//! Maps one anonymous page read-only and prints `page at ADDR`, installs a
//! SIGSEGV handler with SA_SIGINFO, writes 42 to the page's first byte. The
//! handler writes `SIGSEGV at ADDR` (from si_addr) with write(2), makes the
//! page writable with mprotect, and returns; the write is retried. Then
//! `value 42`, exit 0. Read handouts/signals.md first.

#![allow(dead_code)]

// This lab's shared code (src/signals/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod signals;

use std::os::raw::{c_int, c_void};
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;

use clap::Parser;

/// Used in error messages: `sig-segv: CONTEXT: REASON`.
const PROGRAM: &str = "sig-segv";
const USAGE: &str = "sig-segv";

#[derive(Parser)]
struct Args {}

/// The page's address and size, for the handler (set them before the fault).
static PAGE: AtomicUsize = AtomicUsize::new(0);
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);

/// The handler, in the SA_SIGINFO shape (`SigHandler::SigAction(on_segv)`):
/// prints `SIGSEGV at ADDR` (the faulting address), makes the page
/// writable, and returns, so that the CPU runs the faulting write again.
///
/// Pitfalls:
/// - No println!/format!: they lock and allocate, and a handler may run
///   while main holds that lock. Build the line in a buffer on the stack
///   and write(2) it; `ADDR` in `{:p}`'s format: `0x`, lowercase hex, no
///   leading zeros.
/// - Returning without making the page writable faults again at once,
///   forever.
///
/// Read: sigaction(2) (SA_SIGINFO, si_addr), signal-safety(7), mprotect(2).
extern "C" fn on_segv(_: c_int, info: *mut libc::siginfo_t, _: *mut c_void) {
    let _ = info;
    // Returning without mprotect would fault again at once, forever.
}

fn main() -> ExitCode {
    // Given: any argument is a usage error (`usage: ...` on stderr, exit 2).
    if let Err(code) = ipc_common::parse_args::<Args>(USAGE) {
        return code;
    }
    ipc_common::finish(PROGRAM, fault_and_recover())
}

/// The lab: map one anonymous page read-only, print `page at ADDR`, write
/// 42 to its first byte, recover in the handler, then print `value 42`.
///
/// Pitfalls:
/// - The handler knows the page only through the statics above: set them
///   before the fault.
/// - The compiler may leave out or move a write it thinks nobody reads:
///   the write to the page must really happen.
///
/// Read: mmap(2), sysconf(3) (page size), sigaction(2), mprotect(2);
/// handouts/signals.md.
/// Stuck? `cargo grade --hint sig-segv` shows one hint at a time.
fn fault_and_recover() -> ipc_common::Result<()> {
    todo!("map a read-only page, fault on it, recover in the handler")
}
