//! `mmap-private FILE TEXT`
//!
//! Writes TEXT into a private (copy-on-write) mapping of FILE, then prints
//! `mapping: M` and `file: F`, showing that the file did not change. Read
//! handouts/mmap.md first; `cargo grade mmap` checks it.

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

/// Used in error messages: `mmap-private: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "mmap-private";
const USAGE: &str = "mmap-private FILE TEXT";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    file: PathBuf,
    text: OsString,
}

fn main() -> ExitCode {
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, write_privately(args.file, args.text))
}

/// The lab: write TEXT into a private (copy-on-write) mapping of FILE,
/// then print `mapping: M` and `file: F` (the same bytes, read from the
/// mapping and from the file itself), showing that the file did not change.
///
/// Pitfalls:
/// - The file may be shorter than TEXT:
///   `mmap-private: FILE: file shorter than text`, exit 1.
/// - A private mapping may be written even when the file was opened
///   read-only: the writes never reach the file.
/// - Read the file itself, not the mapping, for the second line.
///
/// Read: mmap(2) (MAP_PRIVATE), pread(2); handouts/mmap.md#shared-and-private-mappings.
/// Stuck? `cargo grade --hint mmap-private` shows one hint at a time.
fn write_privately(file: PathBuf, text: OsString) -> ipc_common::Result<()> {
    let _ = (file, text);
    todo!("write TEXT into a private mapping and compare with the file")
}
