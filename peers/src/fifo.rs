//! The grader's trusted partners for lab `fifo`. Each does what the contract
//! says its program does, prints what a check needs to see, and nothing more.
//!
//! - `ipc-fifo-server [--existing] [--pause MS] PATH`: creates the FIFO PATH
//!   (mode 0600; `--existing`: uses the FIFO already there), opens its read
//!   end *before* it prints `listening on PATH` (so from then on a writer
//!   finds a reader, even with O_NONBLOCK), waits MS milliseconds if asked
//!   (`--pause`: a client meanwhile fills the pipe), then prints every line
//!   as it arrives, a last line without newline with one. It neither counts
//!   nor removes PATH: the check ends it.
//! - `ipc-fifo-client [--raw] [--gate FIFO --ready FILE] PATH [LINE...]`:
//!   opens PATH for writing (waiting for a reader) and sends each LINE, or
//!   each line of stdin, with its newline in one write. `--raw`: sends
//!   stdin's bytes as they are (a last line without newline stays without
//!   one). `--gate`: first opens FIFO for reading, creates FILE and waits for
//!   one byte from FIFO (the check releases every client with one write, so
//!   that they all start writing at the same moment).
//! - `ipc-fifo-umask OCTAL PROGRAM [ARG...]`: sets the umask, restores every
//!   signal's default disposition and execs PROGRAM (a program under test):
//!   the pid stays, so the check waits for and kills PROGRAM as if it had
//!   started it.

use std::ffi::{CString, OsString};
use std::io::{BufRead, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::{Mode, umask};

pub const SERVER: &str = "ipc-fifo-server";
pub const CLIENT: &str = "ipc-fifo-client";
pub const UMASK: &str = "ipc-fifo-umask";

/// The longest line a client sends: it and its newline are one atomic write.
const MAX_LINE: usize = libc::PIPE_BUF - 1;

fn die(peer: &str, what: impl std::fmt::Display) -> ExitCode {
    eprintln!("{peer}: {}", ipc_engine::text::without_os_error(what.to_string()));
    ExitCode::from(1)
}

/// A peer's command line: its options (`--name` or `--name VALUE`), which
/// come first, then its positional words.
struct Words {
    options: Vec<(String, Option<OsString>)>,
    positional: Vec<OsString>,
}

impl Words {
    /// `None` if an option that takes a value has none.
    fn parse(args: Vec<OsString>, with_value: &[&str]) -> Option<Words> {
        let mut words = Words { options: Vec::new(), positional: Vec::new() };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let text = arg.to_string_lossy().into_owned();
            if !text.starts_with("--") {
                words.positional.push(arg);
                break;
            }
            let value = if with_value.contains(&text.as_str()) { Some(args.next()?) } else { None };
            words.options.push((text, value));
        }
        words.positional.extend(args);
        Some(words)
    }

    fn flag(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }

    fn value(&self, name: &str) -> Option<&OsString> {
        self.options.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.as_ref())
    }
}

pub fn server(args: Vec<OsString>) -> ExitCode {
    let usage = "usage: [--existing] [--pause MS] PATH";
    let Some(words) = Words::parse(args, &["--pause"]) else { return die(SERVER, usage) };
    let [path] = words.positional.as_slice() else { return die(SERVER, usage) };
    let path = PathBuf::from(path);
    let pause = words.value("--pause").and_then(|ms| ms.to_str()?.parse::<u64>().ok()).unwrap_or(0);
    if !words.flag("--existing") {
        let old = umask(Mode::empty());
        let made = nix::unistd::mkfifo(&path, Mode::from_bits_truncate(0o600));
        umask(old);
        if let Err(e) = made {
            return die(SERVER, format!("{}: {}", path.display(), e.desc()));
        }
    }
    let mut reader = match open_reader(&path) {
        Ok(fd) => fd,
        Err(e) => return die(SERVER, format!("{}: {}", path.display(), e.desc())),
    };
    let mut out = std::io::stdout().lock();
    let said = out
        .write_all(b"listening on ")
        .and_then(|()| out.write_all(path.as_os_str().as_bytes()))
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(e) = said {
        return die(SERVER, e);
    }
    std::thread::sleep(Duration::from_millis(pause));
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut fds = [PollFd::new(reader.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return die(SERVER, format!("poll: {}", e.desc())),
        }
        match nix::unistd::read(&reader, &mut buf) {
            Ok(0) => {
                // No writer left: a last line without newline is complete.
                if !pending.is_empty() {
                    pending.push(b'\n');
                }
                if let Err(e) = out.write_all(&pending).and_then(|()| out.flush()) {
                    return die(SERVER, e);
                }
                pending.clear();
                // This descriptor now reports end of file for ever: wait on a
                // fresh one, opened before the old one is closed.
                reader = match open_reader(&path) {
                    Ok(fd) => fd,
                    Err(e) => return die(SERVER, format!("{}: {}", path.display(), e.desc())),
                };
            }
            Ok(n) => {
                pending.extend_from_slice(&buf[..n]);
                if let Some(last) = pending.iter().rposition(|&b| b == b'\n') {
                    if let Err(e) = out.write_all(&pending[..=last]).and_then(|()| out.flush()) {
                        return die(SERVER, e);
                    }
                    pending.drain(..=last);
                }
            }
            Err(Errno::EAGAIN | Errno::EINTR) => {}
            Err(e) => return die(SERVER, format!("read: {}", e.desc())),
        }
    }
}

fn open_reader(path: &Path) -> nix::Result<OwnedFd> {
    open(path, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC, Mode::empty())
}

pub fn client(args: Vec<OsString>) -> ExitCode {
    let usage = "usage: [--raw] [--gate FIFO --ready FILE] PATH [LINE...]";
    let Some(words) = Words::parse(args, &["--gate", "--ready"]) else { return die(CLIENT, usage) };
    let Some((path, lines)) = words.positional.split_first() else { return die(CLIENT, usage) };
    let raw = words.flag("--raw");
    match (words.value("--gate"), words.value("--ready")) {
        (Some(gate), Some(ready)) => {
            if let Err(e) = wait_at_gate(gate, ready) {
                return die(CLIENT, e);
            }
        }
        (None, None) => {}
        _ => return die(CLIENT, usage),
    }
    // Blocks until a reader opens the FIFO.
    let mut fifo = match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(file) => file,
        Err(e) => return die(CLIENT, format!("{}: {e}", path.to_string_lossy())),
    };
    let mut send = |line: &[u8]| -> Result<(), String> {
        if line.len() > MAX_LINE {
            return Err(format!("a line of {} bytes is too long", line.len()));
        }
        let mut record = Vec::with_capacity(line.len() + 1);
        record.extend_from_slice(line);
        record.push(b'\n');
        fifo.write_all(&record).map_err(|e| format!("{}: {e}", path.to_string_lossy()))
    };
    let sent = if raw {
        let mut all = Vec::new();
        match std::io::stdin().lock().read_to_end(&mut all) {
            Ok(_) => fifo.write_all(&all).map_err(|e| e.to_string()),
            Err(e) => Err(format!("stdin: {e}")),
        }
    } else if lines.is_empty() {
        let mut stdin = std::io::stdin().lock();
        let mut line = Vec::new();
        loop {
            line.clear();
            match stdin.read_until(b'\n', &mut line) {
                Ok(0) => break Ok(()),
                Ok(_) => {
                    if line.last() == Some(&b'\n') {
                        line.pop();
                    }
                    if let Err(e) = send(&line) {
                        break Err(e);
                    }
                }
                Err(e) => break Err(format!("stdin: {e}")),
            }
        }
    } else {
        lines.iter().try_for_each(|line| send(line.as_bytes()))
    };
    match sent {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => die(CLIENT, e),
    }
}

/// Opens the gate FIFO for reading, creates `ready`, and waits for one byte.
fn wait_at_gate(gate: &OsString, ready: &OsString) -> Result<(), String> {
    // The check holds the gate open for writing: this open returns at once.
    let mut gate_file = std::fs::File::open(gate).map_err(|e| format!("{}: {e}", gate.to_string_lossy()))?;
    std::fs::write(ready, b"ready\n").map_err(|e| format!("{}: {e}", ready.to_string_lossy()))?;
    let mut byte = [0u8; 1];
    match gate_file.read(&mut byte) {
        Ok(1) => Ok(()),
        Ok(_) => Err("the gate closed without opening".into()),
        Err(e) => Err(format!("{}: {e}", gate.to_string_lossy())),
    }
}

pub fn umask_exec(args: Vec<OsString>) -> ExitCode {
    let usage = "usage: OCTAL PROGRAM [ARG...]";
    let Some((mask, program)) = args.split_first() else { return die(UMASK, usage) };
    let Some(mask) = mask.to_str().and_then(|m| u32::from_str_radix(m, 8).ok()) else { return die(UMASK, usage) };
    let argv: Option<Vec<CString>> = program.iter().map(|a| CString::new(a.as_bytes()).ok()).collect();
    let Some(argv) = argv.filter(|a| !a.is_empty()) else { return die(UMASK, usage) };
    umask(Mode::from_bits_truncate(mask));
    let e = ipc_engine::peer::exec_under_test(&argv);
    die(UMASK, format!("{}: {}", argv[0].to_string_lossy(), e.desc()))
}
