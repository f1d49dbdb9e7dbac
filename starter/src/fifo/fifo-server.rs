//! `fifo-server PATH`
//!
//! Creates the named pipe PATH (mode 0600, whatever the umask), prints
//! `listening on PATH`, then prints every line that clients write into it,
//! as it arrives, from any number of clients, one after another or at the
//! same time. PATH already exists: `fifo-server: PATH: File exists`, exit 1.
//! On SIGINT or SIGTERM: prints `received N lines`, removes PATH, exits 0.
//! Read handouts/fifo.md first; `cargo grade fifo` checks it.

// This lab's shared code (src/fifo/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod fifo;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `fifo-server: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "fifo-server";
const USAGE: &str = "fifo-server PATH";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// Where to create the named pipe.
    path: PathBuf,
}

fn main() -> ExitCode {
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, serve(&args.path))
}

/// The lab: create the FIFO PATH (mode 0600 whatever the umask), say
/// `listening on PATH`, print every line clients write, as it arrives, from
/// any number of clients; on SIGINT or SIGTERM report the count, remove
/// PATH and exit 0.
///
/// Pitfalls:
/// - The umask trims the mode of everything a process creates.
/// - PATH that already exists is not yours: report it, never remove it.
/// - Opening a FIFO's read end waits for a writer, and clients wait for
///   your `listening on` line: which must come first?
/// - A read returns whatever is in the pipe: half a line, or lines of
///   several clients. Print whole lines only, unchanged.
/// - End of file means "no writer left", not "done": after it, a read
///   returns 0 at once and poll reports the descriptor ready at once, so a
///   loop around them spins at 100% CPU. And no line a client sends while
///   you change descriptors may be lost.
/// - The signal may come while your main thread sleeps in open, read or
///   poll: a handler that only sets a flag is never looked at.
/// - A FIFO's name outlives every process: remove it on the way out.
///
/// Read: mkfifo(3), umask(2), fifo(7), open(2), poll(2), read(2),
/// handouts/fifo.md; `fifo::on_termination` is given (src/fifo/mod.rs).
/// Stuck? `cargo grade --hint fifo-server` shows one hint at a time.
fn serve(path: &Path) -> ipc_common::Result<()> {
    let _ = path;
    todo!("create the FIFO and print what clients write")
}
