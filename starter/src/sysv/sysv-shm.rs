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
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, shmdemo(args))
}

/// The lab: the lecture's shmdemo, with its errors handled. Write the
/// functions in `mod.rs` first.
///
/// Pitfalls:
/// - TEXT over 1023 bytes is refused before any segment is touched, or
///   even created: `sysv-shm: text too long`, exit 1.
/// - A missing KEYFILE, and an existing segment of the key that is too
///   small, are reported at KEYFILE as the contract says. Never remove or
///   replace a segment you did not create: someone else is using it.
/// - Write TEXT and a NUL byte after it: without the NUL, `short` written
///   over `a longer text` reads back as `shortger text`.
/// - A segment someone else filled may hold no NUL at all: print what the
///   contract says, without `unwrap`, and never read past its 1024 bytes.
/// - Without `--remove` the segment stays: that is the point, the next run
///   finds it.
///
/// Read: sysvipc(7), ftok(3), shmget(2), shmat(2), shmdt(2), shmctl(2);
/// handouts/sysv.md.
/// Stuck? `cargo grade --hint sysv-shm` shows one hint at a time.
fn shmdemo(args: Args) -> ipc_common::Result<()> {
    let _ = (args.remove, args.keyfile, args.text);
    todo!("write TEXT into the segment, or print what it holds")
}
