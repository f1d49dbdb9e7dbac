//! `mmap-counter FILE N`
//!
//! Adds 1 to the little-endian u64 at the start of FILE, N times, through a
//! shared mapping, then prints `counter at X`. Several copies may run at the
//! same time and must lose no increment. Read handouts/mmap.md first;
//! `cargo grade mmap` checks it.

// This lab's shared code (src/mmap/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mmap;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `mmap-counter: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "mmap-counter";
const USAGE: &str = "mmap-counter FILE N";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    file: PathBuf,
    n: u64,
}

fn main() -> ExitCode {
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, count(args.file, args.n))
}

/// The lab: add 1 to the little-endian u64 at the start of FILE, N times,
/// through a shared mapping, and print `counter at X`, X being the value
/// your own last increment made. Several copies run at once and lose no
/// increment.
///
/// Pitfalls:
/// - FILE may be new or shorter than 8 bytes: make it 8 long, but never
///   truncate it otherwise (another copy may be counting in it right now).
/// - A load followed by a store is two steps: another copy's increments
///   between them are lost. The increment must be one atomic
///   read-modify-write on the shared memory.
/// - X is the value after your own increment, not a fresh load (another
///   copy may have counted since).
///
/// Read: mmap(2), ftruncate(2), `std::sync::atomic::AtomicU64`;
/// handouts/mmap.md#atomic-read-modify-write.
/// Stuck? `cargo grade --hint mmap-counter` shows one hint at a time.
fn count(file: PathBuf, n: u64) -> ipc_common::Result<()> {
    let _ = (file, n);
    todo!("add 1 to the shared counter N times, atomically")
}
