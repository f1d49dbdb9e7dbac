//! `fifo-client [--nonblock] PATH [LINE...]`
//!
//! Opens the existing named pipe PATH for writing, waiting for a reader, and
//! sends each LINE (with no LINE: each line of stdin), each with its newline
//! in ONE write, then exits 0. `--nonblock`: no reader is
//! `fifo-client: PATH: no reader`, exit 3.
//! Read handouts/fifo.md first; `cargo grade fifo` checks it.

// This lab's shared code (src/fifo/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod fifo;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `fifo-client: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "fifo-client";
const USAGE: &str = "fifo-client [--nonblock] PATH [LINE...]";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// Exit with status 3 instead of waiting when no reader has the FIFO open.
    #[arg(long)]
    nonblock: bool,
    /// The named pipe; it must exist.
    path: PathBuf,
    /// The lines to send (`OsStrExt::as_bytes()` gives their bytes); with
    /// none, the lines of stdin.
    lines: Vec<OsString>,
}

fn main() -> ExitCode {
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, send(&args.path, args.nonblock, &args.lines))
}

/// The lab: open the existing FIFO PATH for writing, waiting for a reader
/// (or, with `nonblock`, failing at once when there is none), and send each
/// line so that it never mixes with another client's.
///
/// Pitfalls:
/// - PATH may be missing or not a FIFO: never create it, and never write
///   your lines into a regular file that happens to be there.
/// - Opening a FIFO's write end waits for a reader; without waiting, no
///   reader is an error, not a success. A descriptor left non-blocking
///   makes a write to a full pipe fail instead of wait.
/// - Another client's line must never land inside yours: only a write of
///   at most PIPE_BUF bytes is atomic, and it must be ONE write. Formatting
///   helpers and buffers may split a line into several writes.
/// - A line longer than `fifo::MAX_LINE` is refused; the lines before it
///   are already sent. Lines from stdin are bytes, and the last one may
///   lack its `\n`.
/// - The reader may go away: that is EPIPE (Rust ignores SIGPIPE), and a
///   contract error, not a crash.
///
/// Read: fifo(7), pipe(7) (PIPE_BUF), open(2) (O_NONBLOCK, ENXIO), stat(2),
/// fcntl(2), write(2); handouts/fifo.md.
/// Stuck? `cargo grade --hint fifo-client` shows one hint at a time.
fn send(path: &Path, nonblock: bool, lines: &[OsString]) -> ipc_common::Result<()> {
    let _ = (path, nonblock, lines);
    todo!("open the FIFO and send the lines")
}
