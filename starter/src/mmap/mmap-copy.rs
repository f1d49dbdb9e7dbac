//! `mmap-copy SRC DST`
//!
//! Copies SRC to DST through two mappings; DST ends up exactly SRC's size.
//! Prints nothing. Read handouts/mmap.md first; `cargo grade mmap` checks it.

// This lab's shared code (src/mmap/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mmap;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `mmap-copy: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "mmap-copy";
const USAGE: &str = "mmap-copy SRC DST";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    src: PathBuf,
    dst: PathBuf,
}

fn main() -> ExitCode {
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, copy(args.src, args.dst))
}

/// The lab: copy SRC to DST through two mappings; DST ends up exactly
/// SRC's size, whatever it held before.
///
/// Pitfalls:
/// - A missing SRC is reported with its name as given:
///   `mmap-copy: SRC: No such file or directory`.
/// - A shared writable mapping needs a descriptor open for reading too.
/// - Touching a mapped page past the end of the file raises SIGBUS: the
///   file must be long enough before you write through the mapping.
/// - A mapping of length 0 is an error (EINVAL): an empty SRC needs none.
/// - The bytes must reach DST's file before you report success.
///
/// Read: open(2), fstat(2), ftruncate(2), mmap(2), msync(2), munmap(2);
/// handouts/mmap.md.
/// Stuck? `cargo grade --hint mmap-copy` shows one hint at a time.
fn copy(src: PathBuf, dst: PathBuf) -> ipc_common::Result<()> {
    let _ = (src, dst);
    todo!("copy SRC to DST through two mappings")
}
