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
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, copy(args.src, args.dst))
}

/// The lab. The steps:
///
/// 1. Open SRC read-only. If that fails, report it with SRC's name as given:
///    `return ipc_common::fail(PROGRAM, src.display(), err.desc())` prints
///    `mmap-copy: SRC: No such file or directory`.
/// 2. Open DST with `O_RDWR | O_CREAT | O_TRUNC` (mode 0644). O_RDWR, not
///    O_WRONLY: a shared writable mapping needs read access too.
/// 3. `ftruncate` DST to SRC's size (fstat) before mapping it: touching a
///    page past DST's end raises SIGBUS.
/// 4. An empty SRC: stop here (a zero-length mapping is EINVAL).
/// 5. Map SRC `PROT_READ` and DST `PROT_READ | PROT_WRITE`, both
///    `MAP_SHARED`; `copy_from_slice`; `msync(MS_SYNC)` DST; munmap both.
fn copy(src: PathBuf, dst: PathBuf) -> ipc_common::Result<()> {
    let _ = (src, dst);
    todo!("copy SRC to DST through two mappings (the steps above)")
}
