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
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, write_at(args.file, args.offset, args.text))
}

/// The lab. The steps, each with its man page:
///
/// 1. Open FILE for reading and writing, creating it with mode 0644:
///    `nix::fcntl::open(&file, OFlag::O_RDWR | OFlag::O_CREAT, Mode::from_bits_truncate(0o644))`
///    (open(2)). Never O_TRUNC: bytes outside the range must survive.
/// 2. `nix::sys::stat::fstat(&fd)?.st_size` is the file's size. If it is
///    shorter than OFFSET + length(TEXT), grow it with
///    `nix::unistd::ftruncate` (ftruncate(2)). Growing this way allocates no
///    disk blocks (a "sparse" file): never write zeros to grow it. Touching a
///    mapped byte past the end of the file raises SIGBUS.
/// 3. mmap(2)'s offset must be a multiple of the page size
///    (`mmap::page_size()`): map from
///    `start = OFFSET - OFFSET % page`, length `OFFSET - start + length(TEXT)`,
///    with `nix::sys::mman::mmap(None, len, PROT_READ | PROT_WRITE, MAP_SHARED, &fd, start)`.
///    It is `unsafe`: write a `// SAFETY:` comment (a fresh mapping, no
///    MAP_FIXED, only bytes that exist in the file are touched).
/// 4. Copy TEXT to `OFFSET - start` bytes into the mapping
///    (`std::slice::from_raw_parts_mut` over the returned pointer), then
///    `msync(addr, len, MsFlags::MS_SYNC)` (msync(2)) and `munmap` (munmap(2)).
///    An empty TEXT needs no mapping at all (length 0 is EINVAL).
/// 5. Print `wrote N bytes at OFFSET`, N counting TEXT's bytes.
///
/// On a failed system call: `return ipc_common::fail(PROGRAM, "ftruncate", err.desc())`.
fn write_at(file: PathBuf, offset: u64, text: OsString) -> ipc_common::Result<()> {
    let _ = (file, offset, text);
    todo!("write TEXT into FILE at OFFSET through a shared mapping (the steps above)")
}
