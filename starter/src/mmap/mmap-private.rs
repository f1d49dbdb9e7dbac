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
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, write_privately(args.file, args.text))
}

/// The lab. The steps:
///
/// 1. Open FILE read-only: a MAP_PRIVATE mapping may be written even then,
///    because the writes never reach the file.
/// 2. If the file (fstat) is shorter than TEXT:
///    `mmap-private: FILE: file shorter than text`, exit 1.
/// 3. Map length(TEXT) bytes from offset 0 with `PROT_READ | PROT_WRITE` and
///    `MapFlags::MAP_PRIVATE` (mmap(2), "copy on write"). Copy TEXT in.
/// 4. Read the same bytes from the file itself with
///    `nix::sys::uio::pread(&fd, &mut buf, 0)` (pread(2); loop until full).
/// 5. Print `mapping: ` + the mapping's bytes, a newline, `file: ` + the
///    file's bytes, a newline. munmap.
fn write_privately(file: PathBuf, text: OsString) -> ipc_common::Result<()> {
    let _ = (file, text);
    todo!("write TEXT into a MAP_PRIVATE mapping and compare with the file (the steps above)")
}
