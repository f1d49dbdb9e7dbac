//! `mmap-write FILE OFFSET TEXT`
//!
//! Writes TEXT into FILE at byte OFFSET through a shared mapping, growing the
//! file (never shrinking it) when it is too short, then prints
//! `wrote N bytes at OFFSET`. Read handouts/mmap.md first; `cargo grade mmap`
//! checks it.

// This lab's shared code (src/mmap/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mmap;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `mmap-write: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "mmap-write";
const USAGE: &str = "mmap-write FILE OFFSET TEXT";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    file: PathBuf,
    offset: u64,
    text: OsString,
}

fn main() -> ExitCode {
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, write_at(args.file, args.offset, args.text))
}

/// The lab: write TEXT into FILE (created with mode 0644 if missing) at
/// byte OFFSET through a shared mapping, growing the file when it is too
/// short, then print `wrote N bytes at OFFSET`.
///
/// Pitfalls:
/// - Bytes outside the range must survive: never truncate FILE, and never
///   shrink it.
/// - Touching a mapped byte past the end of the file raises SIGBUS: the
///   file must be long enough first. Grow it without writing zeros (a
///   1 GiB offset must not cost 1 GiB of disk: a "sparse" file).
/// - A mapping's file offset must be a multiple of the page size
///   (`mmap::page_size()`), and OFFSET need not be.
/// - A mapping of length 0 is EINVAL: an empty TEXT needs none.
/// - mmap is `unsafe`: a `// SAFETY:` comment says why this one is sound.
///
/// Read: open(2), fstat(2), ftruncate(2), mmap(2), msync(2), munmap(2);
/// handouts/mmap.md.
/// Stuck? `cargo grade --hint mmap-write` shows one hint at a time.
fn write_at(file: PathBuf, offset: u64, text: OsString) -> ipc_common::Result<()> {
    let _ = (file, offset, text);
    todo!("write TEXT into FILE at OFFSET through a shared mapping")
}
