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
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, send(&args.path, args.nonblock, &args.lines))
}

/// The lab. The steps, each with its man page:
///
/// 1. Look before you open: `std::fs::metadata(path)` (stat(2)). Missing:
///    `fifo-client: PATH: No such file or directory`, exit 1
///    (`ipc_common::fail(PROGRAM, path.display(), ipc_common::os_reason(&err))`);
///    never create it (no O_CREAT). Not a FIFO
///    (`meta.file_type().is_fifo()`, `std::os::unix::fs::FileTypeExt`):
///    `fifo-client: PATH: not a FIFO`, exit 1. Opening a regular file for
///    writing would succeed, and your lines would land in the file.
/// 2. Open for writing: `nix::fcntl::open(path, OFlag::O_WRONLY, Mode::empty())`.
///    open(2) of a FIFO's write end sleeps until some process opens it for
///    reading: that is the waiting the contract asks for. With `--nonblock`
///    add O_NONBLOCK: then no reader is the error ENXIO at once (fifo(7): a
///    writer with no reader would have nowhere to put its bytes), which you
///    report as `fifo-client: PATH: no reader`, exit 3
///    (`ipc_common::fail_with(3, ...)`). Once open, clear O_NONBLOCK again
///    (`fcntl(&fd, F_GETFL)`, then `F_SETFL` without it, fcntl(2)): left on,
///    a write to a full pipe fails with EAGAIN instead of waiting.
///    `std::fs::File::from(fd)` then gives you `Write`.
/// 3. Send each line as ONE write(2) of the line and its `\n`. A write of at
///    most PIPE_BUF bytes (`fifo::PIPE_BUF`, 4096) is atomic (pipe(7)), so it
///    never mixes with other clients' lines; two writes can: another
///    client's line lands in between. `writeln!(file, "{line}")` on a `File`
///    is two writes (the text, then the newline), and a `BufWriter` writes
///    out its buffer wherever it is full, in the middle of a line. Build
///    the line and its newline in one `Vec<u8>` and `write_all` it: for at
///    most PIPE_BUF bytes that is one write, never cut short. A line longer
///    than `fifo::MAX_LINE` (4095): print `fifo-client: line too long`, exit 1
///    (the lines before it are already sent).
///    With no LINE, read stdin line by line (`BufRead::read_until(b'\n', ..)`,
///    bytes, not `String`); a last line without `\n` is a line too.
/// 4. The reader goes away: write fails with EPIPE (`Broken pipe`). Rust
///    ignores SIGPIPE, so you get the error; a C program must ignore it
///    itself (`signal(SIGPIPE, SIG_IGN)`), or the kernel's SIGPIPE kills it
///    without a word. Report `fifo-client: PATH: Broken pipe`, exit 1.
fn send(path: &Path, nonblock: bool, lines: &[OsString]) -> ipc_common::Result<()> {
    let _ = (path, nonblock, lines);
    todo!("open the FIFO and send the lines (the steps above)")
}
