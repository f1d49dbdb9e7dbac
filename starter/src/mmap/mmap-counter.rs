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
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, count(args.file, args.n))
}

/// The lab. The steps:
///
/// 1. Open FILE with `O_RDWR | O_CREAT` (mode 0644). If it is shorter than 8
///    bytes, `ftruncate` it to 8. Never truncate it otherwise: another copy
///    may be counting in it right now.
/// 2. Map 8 bytes from offset 0, `PROT_READ | PROT_WRITE`, `MAP_SHARED`
///    (mmap(2)): every copy maps the same page of the page cache.
/// 3. View them as a counter:
///    `unsafe { std::sync::atomic::AtomicU64::from_ptr(addr.as_ptr().cast()) }`
///    (a page is aligned for u64; say so in the `// SAFETY:` comment).
/// 4. N times: `counter.fetch_add(1, Ordering::SeqCst)`. It is ONE atomic
///    read-modify-write. A `load` followed by a `store` is two steps, and
///    another copy's increments between them are lost.
/// 5. Print `counter at X`, X being your own last increment's result
///    (`fetch_add` returns the value before, so add 1), not a fresh load.
///    msync and munmap.
fn count(file: PathBuf, n: u64) -> ipc_common::Result<()> {
    let _ = (file, n);
    todo!("add 1 to the shared counter N times, atomically (the steps above)")
}
