//! `fifo-client [--nonblock] PATH [LINE...]`: sends each LINE (or, with no
//! LINE, each line of stdin) into the existing named pipe PATH, every line
//! and its newline as one atomic write.

// This lab's shared code (src/fifo/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod fifo;

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufRead, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use ipc_common::Error;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl, open};
use nix::sys::stat::Mode;

const PROGRAM: &str = "fifo-client";
const USAGE: &str = "fifo-client [--nonblock] PATH [LINE...]";

/// Exit status when `--nonblock` finds no reader.
const NO_READER_STATUS: u8 = 3;

#[derive(Parser)]
struct Args {
    /// Exit with status 3 instead of waiting when no reader has the FIFO open.
    #[arg(long)]
    nonblock: bool,
    /// The named pipe; it must exist.
    path: PathBuf,
    /// The lines to send; with none, the lines of stdin.
    lines: Vec<OsString>,
}

/// Why sending stopped.
enum Stop {
    TooLong,
    /// Writing to the FIFO failed (EPIPE: the reader went away).
    Fifo(io::Error),
    Stdin(io::Error),
}

fn main() -> ExitCode {
    // `sigpipe-default`: a reader that goes away then kills the client silently.
    ipc_common::fault!("sigpipe-default" => fifo::faults::sigpipe_default());
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return if ipc_common::fault!("usage-status-1") { ExitCode::FAILURE } else { code },
    };
    ipc_common::finish(PROGRAM, send(&args.path, args.nonblock, &args.lines))
}

/// The lab: open the FIFO for writing (waiting for a reader, unless
/// `nonblock`), then send each LINE, or each line of stdin, as one write.
fn send(path: &Path, nonblock: bool, lines: &[OsString]) -> ipc_common::Result<()> {
    let shown = path.display().to_string();
    // The type first: open(2) of a regular file for writing would succeed,
    // and the lines would go into the file.
    match std::fs::metadata(path) {
        Ok(meta) if meta.file_type().is_fifo() || ipc_common::fault!("no-fifo-check") => {}
        Ok(_) => return Err(Error::new(&shown, "not a FIFO")),
        Err(e) if e.kind() == io::ErrorKind::NotFound && ipc_common::fault!("create-if-missing") => {}
        Err(e) => return Err(Error::new(&shown, e)),
    }
    let fifo = match open_writer(path, nonblock) {
        Ok(file) => file,
        // O_NONBLOCK and no reader: open(2) fails with ENXIO.
        Err(Errno::ENXIO) if !ipc_common::fault!("enxio-os-text") => {
            return Err(Error::new(&shown, "no reader").status(NO_READER_STATUS));
        }
        Err(e) => return Err(Error::new(&shown, e)),
    };
    let sent = if lines.is_empty() {
        send_stdin(&fifo)
    } else {
        lines.iter().try_for_each(|line| send_line(&fifo, line.as_bytes()))
    };
    match sent {
        Ok(()) => Ok(()),
        Err(Stop::TooLong) => Err(Error::plain("line too long")),
        // Rust ignores SIGPIPE, so a reader that went away is EPIPE here:
        // `Broken pipe`.
        Err(Stop::Fifo(e)) => Err(Error::new(&shown, e)),
        Err(Stop::Stdin(e)) => Err(Error::new("stdin", e)),
    }
}

/// Opens the FIFO for writing. Without O_NONBLOCK open(2) sleeps until a
/// reader opens it; with it, no reader is ENXIO at once.
fn open_writer(path: &Path, nonblock: bool) -> nix::Result<File> {
    let mut flags = OFlag::O_WRONLY | OFlag::O_CLOEXEC;
    ipc_common::fault!("create-if-missing" => flags |= OFlag::O_CREAT);
    if nonblock || ipc_common::fault!("always-nonblock") {
        flags |= OFlag::O_NONBLOCK;
    }
    let fd = open(path, flags, Mode::from_bits_truncate(0o600))?;
    if nonblock && !ipc_common::fault!("nonblock-stays-on") {
        // O_NONBLOCK was for the open only. Left on, a write to a full pipe
        // would fail with EAGAIN instead of waiting for the reader.
        let flags = OFlag::from_bits_truncate(fcntl(&fd, FcntlArg::F_GETFL)?);
        fcntl(&fd, FcntlArg::F_SETFL(flags - OFlag::O_NONBLOCK))?;
    }
    Ok(File::from(fd))
}

/// Sends one line and its newline as ONE write(2) of at most PIPE_BUF
/// bytes: atomic, so it never mixes with other clients' lines, and never
/// partial on a blocking pipe (the write waits for room for all of it).
fn send_line(mut fifo: &File, line: &[u8]) -> Result<(), Stop> {
    let limit = if ipc_common::fault!("limit-4096") { fifo::MAX_LINE + 1 } else { fifo::MAX_LINE };
    if line.len() > limit {
        return Err(Stop::TooLong);
    }
    ipc_common::fault!("no-newline" => return fifo.write_all(line).map_err(Stop::Fifo));
    ipc_common::fault!("line-then-newline" => return fifo::faults::line_then_newline(fifo, line).map_err(Stop::Fifo));
    let mut record = Vec::with_capacity(line.len() + 1);
    record.extend_from_slice(line);
    record.push(b'\n');
    fifo.write_all(&record).map_err(Stop::Fifo)
}

/// Sends each line of stdin; a last line without newline is a line too.
fn send_stdin(fifo: &File) -> Result<(), Stop> {
    let mut stdin = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        // Reads at most a line of MAX_LINE bytes, its newline and one byte
        // more: enough to tell a line that is too long, without holding a
        // huge one in memory.
        let read = (&mut stdin).take(fifo::PIPE_BUF as u64 + 1).read_until(b'\n', &mut line).map_err(Stop::Stdin)?;
        if read == 0 {
            return Ok(());
        }
        ipc_common::fault!("drop-unterminated" => if line.last() != Some(&b'\n') && line.len() <= fifo::MAX_LINE { return Ok(()) });
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        send_line(fifo, &line)?;
    }
}
