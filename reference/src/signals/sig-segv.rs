//! `sig-segv`: writes to a read-only page; the SIGSEGV handler reports the
//! faulting address and makes the page writable, so the write succeeds.

// This lab's shared code (src/signals/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod signals;

use std::num::NonZeroUsize;
use std::os::raw::{c_int, c_void};
use std::process::ExitCode;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::Parser;
use ipc_common::{Context, Error, fault};
use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous, mprotect};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::unistd::{SysconfVar, sysconf};

/// Used in error messages: `sig-segv: CONTEXT: REASON`.
const PROGRAM: &str = "sig-segv";
const USAGE: &str = "sig-segv";

/// No arguments at all.
#[derive(Parser)]
struct Args {}

/// The page the handler may unprotect, and its size (set before the fault).
static PAGE: AtomicUsize = AtomicUsize::new(0);
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_segv(_: c_int, info: *mut libc::siginfo_t, _: *mut c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t.
    let addr = unsafe { (*info).si_addr() } as usize;
    // No println! here: it takes stdout's lock, which main may hold. Format
    // into a stack buffer and write(2), which is async-signal-safe.
    let mut line = [0u8; 48];
    let mut len = 0;
    for &b in b"SIGSEGV at 0x" {
        line[len] = b;
        len += 1;
    }
    len += hex(addr, &mut line[len..]);
    line[len] = b'\n';
    len += 1;
    // SAFETY: writes `len` initialised bytes of `line` to descriptor 1.
    unsafe { libc::write(1, line.as_ptr().cast(), len) };

    fault!("no-mprotect" => return); // the write faults again, forever
    let (page, size) = (PAGE.load(Ordering::Relaxed), PAGE_SIZE.load(Ordering::Relaxed));
    if page != 0 && (page..page + size).contains(&addr) {
        let ptr = NonNull::new(page as *mut c_void).expect("page is not null");
        // SAFETY: the page is our own mapping of `size` bytes; mprotect is
        // async-signal-safe. On return, the faulting write runs again.
        let _ = unsafe { mprotect(ptr, size, ProtFlags::PROT_READ | ProtFlags::PROT_WRITE) };
    } else {
        // A fault elsewhere is a real bug: let it kill the program as usual.
        let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        // SAFETY: restoring the default action runs no code of ours.
        let _ = unsafe { sigaction(Signal::SIGSEGV, &dfl) };
    }
}

/// Lowercase hexadecimal digits of `n` without padding; returns their count.
fn hex(mut n: usize, out: &mut [u8]) -> usize {
    let mut digits = [0u8; 16];
    let mut count = 0;
    loop {
        digits[count] = b"0123456789abcdef"[n % 16];
        count += 1;
        n /= 16;
        if n == 0 {
            break;
        }
    }
    for i in 0..count {
        out[i] = digits[count - 1 - i];
    }
    count
}

fn main() -> ExitCode {
    if let Err(code) = ipc_common::parse_args::<Args>(USAGE) {
        return code;
    }
    ipc_common::finish(PROGRAM, fault_and_recover())
}

/// The lab: map a read-only page, write to it, and let the SIGSEGV handler
/// make it writable so that the write succeeds when the CPU retries it.
fn fault_and_recover() -> ipc_common::Result<()> {
    let size = sysconf(SysconfVar::PAGE_SIZE).context("sysconf")?.ok_or(Error::new("sysconf", "no page size"))?;
    let size = size as usize;
    let len = NonZeroUsize::new(size).expect("a page is not empty");
    // SAFETY: a new anonymous mapping aliases no Rust object.
    let page = unsafe { mmap_anonymous(None, len, ProtFlags::PROT_READ, MapFlags::MAP_PRIVATE) }.context("mmap")?;
    let page = page.cast::<u8>().as_ptr();
    let shown = if fault!("padded-address") { format!("{:#018x}", page as usize) } else { format!("{page:p}") };
    println!("page at {shown}");
    PAGE_SIZE.store(size, Ordering::Relaxed);
    PAGE.store(page as usize, Ordering::Relaxed);

    let action = SigAction::new(SigHandler::SigAction(on_segv), SaFlags::SA_SIGINFO, SigSet::empty());
    // SAFETY: the handler only calls write(2), mprotect(2) and sigaction(2),
    // all async-signal-safe, and reads atomics.
    unsafe { sigaction(Signal::SIGSEGV, &action) }.context("sigaction")?;
    // SAFETY: the page is mapped and ours; the first write faults, the
    // handler makes the page writable, and the write is retried.
    // Volatile: the compiler must really do the write and read the byte back.
    unsafe { page.write_volatile(42) };
    // SAFETY: as above; the page is now readable and writable.
    let value = unsafe { page.read_volatile() };
    println!("value {value}");
    Ok(())
}
