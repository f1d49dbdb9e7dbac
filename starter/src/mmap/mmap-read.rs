//! `mmap-read FILE OFFSET LEN`
//!
//! Writes bytes OFFSET to OFFSET+LEN-1 of FILE to stdout, read through a
//! read-only mapping. A range past the end of the file is an error, never a
//! crash. Read handouts/mmap.md first; `cargo grade mmap` checks it.

// This lab's shared code (src/mmap/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mmap;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `mmap-read: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "mmap-read";
const USAGE: &str = "mmap-read FILE OFFSET LEN";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    file: PathBuf,
    offset: u64,
    len: u64,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, read_range(args.file, args.offset, args.len))
}

/// The lab. The steps:
///
/// 1. Open FILE read-only (`nix::fcntl::open` with `OFlag::O_RDONLY`) and
///    get its size with `nix::sys::stat::fstat` (fstat(2)).
/// 2. LEN 0: print nothing and exit 0 (a zero-length mmap fails with EINVAL).
/// 3. If OFFSET + LEN > size, print `mmap-read: FILE: range past end of file`
///    and exit 1 (`ipc_common::fail(PROGRAM, FILE, "range past end of file")`).
///    Check this BEFORE reading: a mapped page wholly past the end of the
///    file raises SIGBUS when touched, and the program dies.
/// 4. Map from OFFSET rounded down to a page boundary
///    (`mmap::page_size()`), `PROT_READ`, `MAP_SHARED`
///    (mmap(2); `unsafe`, with a `// SAFETY:` comment), and write the LEN
///    bytes that start at `OFFSET - start` to stdout (`write_all`). munmap.
fn read_range(file: PathBuf, offset: u64, len: u64) -> ipc_common::Result<()> {
    let _ = (file, offset, len);
    todo!("print bytes OFFSET..OFFSET+LEN of FILE through a read-only mapping (the steps above)")
}
