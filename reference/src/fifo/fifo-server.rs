//! `fifo-server PATH`: creates the named pipe PATH and prints every line that
//! clients write into it, from any number of clients, one after another or
//! at the same time. On SIGINT or SIGTERM it prints how many lines it
//! received, removes PATH and exits 0.

// This lab's shared code (src/fifo/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod fifo;

use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Parser;
use ipc_common::{Context, Error};
use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::{Mode, umask};
use nix::unistd::{mkfifo, read};

const PROGRAM: &str = "fifo-server";
const USAGE: &str = "fifo-server PATH";

#[derive(Parser)]
struct Args {
    /// Where to create the named pipe.
    path: PathBuf,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, serve(&args.path))
}

/// The lab: make the FIFO, print what clients write, from any number of them, until SIGINT or SIGTERM.
fn serve(path: &Path) -> ipc_common::Result<()> {
    let shown = path.display().to_string();

    ipc_common::fault!("replace-existing" => let _ = std::fs::remove_file(path));
    // mkfifo(3) gives the name a pipe. The mode it is given is filtered by
    // the umask, so clear the umask around the call: exactly 0600.
    let saved = (!ipc_common::fault!("mode-from-umask")).then(|| umask(Mode::empty()));
    let made = mkfifo(path, Mode::from_bits_truncate(0o600));
    if let Some(saved) = saved {
        umask(saved);
    }
    if let Err(e) = made {
        // EEXIST is `File exists`: whatever is there is not ours to remove.
        return Err(Error::new(&shown, e));
    }

    // From here on PATH is ours: the signal thread reports and removes it.
    let lines = Arc::new(AtomicU64::new(0));
    let stopping = {
        let (lines, path) = (lines.clone(), path.to_path_buf());
        fifo::on_termination(move |_| {
            // `flag-only` leaves it to the main loop, which only looks after a wake-up.
            ipc_common::fault!("flag-only" => return fifo::faults::stop_later());
            std::process::exit(finish(&path, &lines))
        })
    };
    if let Err(e) = stopping {
        let _ = std::fs::remove_file(path);
        return Err(Error::new("sigprocmask", e));
    }

    // The read end, opened with O_NONBLOCK: open(2) returns at once instead
    // of waiting for a first writer, so the server is a reader before it
    // says it listens, and read(2) never blocks: poll(2) does the waiting.
    let mut reader = match open_reader(path) {
        Ok(fd) => fd,
        Err(e) => return Err(Error::new(&shown, e)),
    };
    print_listening(path).context("stdout")?;

    // The start of a line whose newline has not come yet.
    let mut pending = Vec::new();
    let mut buf = vec![0u8; if ipc_common::fault!("newline-per-read") { 1024 } else { 64 * 1024 }];
    loop {
        // Sleeps until there is data, or until the last writer has gone.
        wait_readable(&reader).context("poll")?;
        ipc_common::fault!("flag-only" => if fifo::faults::stopping() { std::process::exit(finish(path, &lines)) });
        match read(&reader, &mut buf) {
            Ok(0) => {
                // End of file: no writer is left and the pipe is empty. That
                // ends a client, not the server. A last line without newline
                // is complete now.
                end_of_clients(&mut pending, &lines).context("stdout")?;
                ipc_common::fault!("count-per-client" => lines.store(0, Ordering::SeqCst));
                ipc_common::fault!("exit-at-eof" => return Ok(()));
                ipc_common::fault!("spin-at-eof" => continue);
                // poll(2) reports this descriptor ready (POLLHUP) for ever
                // now: waiting on it would spin. A fresh read end waits
                // again. It is opened before the old one is closed (the
                // assignment drops the old one last), so the FIFO always has
                // a reader: no client's data is lost in between, and no
                // writer ever finds the FIFO without one.
                reader = match open_reader(path) {
                    Ok(fd) => fd,
                    Err(e) => return Err(Error::new(&shown, e)),
                };
            }
            Ok(n) => {
                print_lines(&buf[..n], &mut pending, &lines).context("stdout")?;
            }
            // Nothing to read yet (a writer is connected but silent).
            Err(Errno::EAGAIN | Errno::EINTR) => {}
            Err(e) => return Err(Error::new(&shown, e)),
        }
    }
}

/// Opens the FIFO's read end without waiting for a writer.
fn open_reader(path: &Path) -> nix::Result<OwnedFd> {
    open(path, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC, Mode::empty())
}

/// Waits until `fd` has data or no writer is left.
fn wait_readable(fd: &OwnedFd) -> nix::Result<()> {
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    loop {
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            other => return other.map(drop),
        }
    }
}

/// `listening on PATH`, flushed at once: clients wait for it.
fn print_listening(path: &Path) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(b"listening on ")?;
    out.write_all(path.as_os_str().as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Adds `chunk` to the pending bytes and prints every complete line, as it
/// came, flushed. A read returns whatever bytes are in the pipe: it may end
/// in the middle of a line, and the rest comes with the next read.
fn print_lines(chunk: &[u8], pending: &mut Vec<u8>, lines: &AtomicU64) -> io::Result<()> {
    pending.extend_from_slice(chunk);
    // `newline-per-read` takes each read for one line.
    ipc_common::fault!("newline-per-read" => if !pending.ends_with(b"\n") { pending.push(b'\n') });
    let Some(last) = pending.iter().rposition(|&b| b == b'\n') else { return Ok(()) };
    let complete = &pending[..=last];
    let count = complete.iter().filter(|&&b| b == b'\n').count() as u64;
    // Counted under stdout's lock: the signal thread's count matches what
    // was printed.
    let mut out = io::stdout().lock();
    out.write_all(complete)?;
    out.flush()?;
    lines.fetch_add(count, Ordering::SeqCst);
    drop(out);
    pending.drain(..=last);
    Ok(())
}

/// At end of file: prints a last line that came without its newline, with one.
fn end_of_clients(pending: &mut Vec<u8>, lines: &AtomicU64) -> io::Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    ipc_common::fault!("no-added-newline" => return fifo::faults::print_as_is(pending, lines));
    pending.push(b'\n');
    print_lines(&[], pending, lines)
}

/// Prints `received N lines` and removes PATH; returns the exit status.
fn finish(path: &Path, lines: &AtomicU64) -> i32 {
    // Holding stdout's lock: a line being printed is finished first, and
    // nothing is printed after the count.
    let mut out = io::stdout().lock();
    let n = lines.load(Ordering::SeqCst);
    let _ = writeln!(out, "received {n} lines");
    let _ = out.flush();
    ipc_common::fault!("no-unlink" => return 0);
    // A FIFO's name outlives every process that used it: unlink(2) it.
    match std::fs::remove_file(path) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{PROGRAM}: {}: {}", path.display(), ipc_common::os_reason(&e));
            1
        }
    }
}
