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
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, serve(&args.path))
}

/// The lab. The steps, each with its man page:
///
/// 1. Create the FIFO: `nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600))`
///    (mkfifo(3)). Like open(2), mkfifo takes away the bits of the umask
///    (umask(2)): under `umask 277` you would get 0400. Clear it around the
///    call (`let old = nix::sys::stat::umask(Mode::empty());` ... `umask(old);`).
///    PATH already there fails with EEXIST: print `fifo-server: PATH:
///    File exists` (`return ipc_common::fail(PROGRAM, path.display(), err)`)
///    and never remove it: it is not yours.
/// 2. Only now (PATH is yours), before any other thread: arrange for SIGINT
///    and SIGTERM with `fifo::on_termination(move |_| ...)`. Your closure
///    locks stdout (`std::io::stdout().lock()`: a line being printed is
///    finished first), prints `received N lines`, flushes, removes PATH
///    (`std::fs::remove_file`: a FIFO's name outlives every process, unlike a
///    pipe's), and ends with `std::process::exit(0)`. Share N with it through
///    an `Arc<AtomicU64>`. A signal handler that only sets a flag does not
///    work here: your main thread sleeps in open or poll and never looks.
/// 3. Print `listening on PATH` and flush, without waiting for a client:
///    clients (the grader's too) wait for that line before they open the
///    FIFO. Then the read end: `File::open(path)` (open(2), O_RDONLY) sleeps
///    until a writer opens the FIFO, which is why it must not come before
///    the line. `nix::fcntl::open(path, OFlag::O_RDONLY | OFlag::O_NONBLOCK,
///    Mode::empty())` returns at once; its reads never block, so wait for data
///    with `nix::poll::poll` (poll(2), POLLIN, `PollTimeout::NONE`).
/// 4. Read (`nix::unistd::read`, into a 64 KiB buffer). A read returns
///    whatever bytes are in the pipe: half a line, or lines of several
///    clients. Keep the bytes after the last `\n` for the next read; print
///    the whole lines, unchanged, flush, and count them.
/// 5. read returns 0: end of file, which means that no writer is left (the
///    last client closed), not that you are done. Print a pending last line
///    with a `\n` added. Then wait for the next client without burning the
///    CPU. The trap: from now on every read of this descriptor returns 0 at
///    once, and poll says it is ready (POLLHUP) at once: a loop around them
///    spins at 100%. Instead, open the FIFO again (a fresh O_NONBLOCK read
///    end waits in poll until the next client writes) and only then drop the
///    old descriptor: the FIFO always has a reader, so nothing a client sends
///    in between is lost. (Keeping a write end open yourself, O_RDWR, also
///    stops the spinning, but you never see end of file again, so you cannot
///    tell that a client's last line has ended.)
///
/// On a failed system call: `return ipc_common::fail(PROGRAM, CONTEXT, err)`.
fn serve(path: &Path) -> ipc_common::Result<()> {
    let _ = path;
    todo!("create the FIFO and print what clients write (the steps above)")
}
