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
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, read_range(args.file, args.offset, args.len))
}

/// The lab: write bytes OFFSET to OFFSET+LEN-1 of FILE to stdout, read
/// through a read-only mapping.
///
/// Pitfalls:
/// - A range past the end of the file is an error
///   (`mmap-read: FILE: range past end of file`, exit 1), never a crash:
///   a mapped page wholly past the end of the file raises SIGBUS when
///   touched.
/// - LEN 0 prints nothing and succeeds, but a mapping of length 0 is EINVAL.
/// - A mapping's file offset must be a multiple of the page size.
///
/// Read: open(2), fstat(2), mmap(2), munmap(2);
/// handouts/mmap.md#page-aligned-offsets.
/// Stuck? `cargo grade --hint mmap-read` shows one hint at a time.
fn read_range(file: PathBuf, offset: u64, len: u64) -> ipc_common::Result<()> {
    let _ = (file, offset, len);
    todo!("print bytes OFFSET..OFFSET+LEN of FILE through a read-only mapping")
}
