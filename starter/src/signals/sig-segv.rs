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

/// The handler, in the SA_SIGINFO shape (`SigHandler::SigAction(on_segv)`).
///
/// - The address: `unsafe { (*info).si_addr() } as usize`.
/// - No println!/format!: they lock and allocate. Format the hex digits
///   into a `[u8; 48]` on the stack yourself, then `libc::write(1, ...)`.
///   Same format as `{:p}`: `0x`, lowercase, no leading zeros.
/// - `nix::sys::mman::mprotect(page, size, PROT_READ | PROT_WRITE)`, then
///   return: the CPU runs the faulting write again, and now it works.
extern "C" fn on_segv(_: c_int, info: *mut libc::siginfo_t, _: *mut c_void) {
    let _ = info;
    // Returning without mprotect would fault again at once, forever.
}

fn main() -> ExitCode {
    if Args::try_parse().is_err() {
        todo!("report the usage error with ipc_common::usage(USAGE)");
    }
    ipc_common::finish(PROGRAM, fault_and_recover())
}

/// The lab. The steps: page size from `nix::unistd::sysconf(SysconfVar::PAGE_SIZE)`;
/// `unsafe { nix::sys::mman::mmap_anonymous(None, size, PROT_READ, MAP_PRIVATE) }`;
/// print `page at {:p}`; store PAGE and PAGE_SIZE; install `on_segv` with
/// `SigAction::new(SigHandler::SigAction(on_segv), SaFlags::SA_SIGINFO, SigSet::empty())`;
/// `ptr.write_volatile(42)` (volatile: the compiler must really write);
/// read it back and print `value 42`.
fn fault_and_recover() -> ipc_common::Result<()> {
    todo!("map a read-only page, fault on it, recover in the handler: the steps above")
}
