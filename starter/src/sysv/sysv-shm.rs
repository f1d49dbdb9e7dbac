//! `sysv-shm [--remove] KEYFILE [TEXT]`
//!
//! The lecture's `shmdemo`: with TEXT, writes it into the System V shared
//! memory segment of key `ftok(KEYFILE, 'R')`; without, prints what the
//! segment holds. The segment outlives the program, so the next run finds
//! it; `--remove` removes it. Read handouts/sysv.md first; `cargo grade
//! sysv` checks it.

// This lab's shared code (src/sysv/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod sysv;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `sysv-shm: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "sysv-shm";
const USAGE: &str = "sysv-shm [--remove] KEYFILE [TEXT]";

/// The segment's size: TEXT and its NUL byte must fit.
#[allow(dead_code)]
const SEGMENT_SIZE: usize = 1024;

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// Remove the segment after using it.
    #[arg(long)]
    remove: bool,
    /// Any existing file: its identity makes the key.
    keyfile: PathBuf,
    /// Text to write (at most 1023 bytes); without it, print the segment.
    text: Option<OsString>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, shmdemo(args))
}

/// The lab: the lecture's shmdemo, with its errors handled. Write the
/// functions in `mod.rs` first, then these steps (`man 7 sysvipc` gives
/// the picture; each call has its own page):
///
/// 1. TEXT longer than 1023 bytes (`OsStrExt::as_bytes`): print
///    `sysv-shm: text too long` on stderr and exit 1, BEFORE touching any
///    segment (the NUL after TEXT must fit in the 1024 bytes).
/// 2. `sysv::key(&keyfile, b'R')`. On error:
///    `ipc_common::fail(PROGRAM, keyfile.display(), ipc_common::os_reason(&e))`
///    prints `sysv-shm: KEYFILE: No such file or directory`. Stop there.
/// 3. `sysv::get(key, SEGMENT_SIZE, libc::IPC_CREAT | 0o644)`: finds the
///    segment of that key or creates it (zero-filled). On error, the same
///    `fail(PROGRAM, KEYFILE, ...)`: EINVAL (`Invalid argument`) means the
///    existing segment is smaller than 1024 bytes. Do not "fix" it by
///    removing it: it is not yours.
/// 4. `sysv::Attached::new(id, SEGMENT_SIZE)` (shmat).
/// 5. With TEXT: print `writing to segment: "TEXT"` (TEXT's bytes as they
///    are: `std::io::Write::write_all` on stdout), then copy TEXT to the
///    start of the segment and put ONE NUL byte right after it. Without
///    the NUL, `short` written over `a longer text` reads back as
///    `shortger text`: C's `strncpy(data, text, 1024)` in the lecture copies
///    the NUL for you; `copy_from_slice` does not.
///    Without TEXT: print `segment contains: "CONTENT"`, CONTENT being the
///    bytes before the first NUL, or all 1024 if there is none (another
///    program may have filled the segment: no `unwrap`, and never read past
///    the 1024 bytes).
/// 6. Flush stdout, then `segment.detach()` (shmdt).
/// 7. `--remove`: `sysv::remove(id)` (shmctl IPC_RMID), then print
///    `segment removed`. Without `--remove` the segment stays: that is the
///    point, the next run finds it.
fn shmdemo(args: Args) -> ipc_common::Result<()> {
    let _ = (args.remove, args.keyfile, args.text);
    todo!("the steps above")
}
