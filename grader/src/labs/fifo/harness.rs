//! Lab `fifo`'s harness: starting the student's and the grader's servers
//! and clients, the lines they send and print, and FIFOs made and read
//! without blocking.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;

use ipc_engine::check::{Done, Fail, ensure, listening_on_path, mismatch};
use ipc_engine::ctx::Ctx;
use ipc_engine::proc::{Exit, Proc};
use ipc_engine::text;

use ipc_peers::fifo as peers;

/// How long lines may take to be printed once their client has sent them.
pub(super) const ARRIVE_WAIT: Duration = Duration::from_secs(3);
/// How long a client that has a reader may take to send a few lines.
pub(super) const CLIENT_WAIT: Duration = Duration::from_secs(3);
/// The longest line: it and its newline are one write of PIPE_BUF bytes.
pub(super) const MAX_LINE: usize = 4095;
/// Clients at once, and lines each sends, in the concurrency checks.
pub(super) const CLIENTS: usize = 16;
pub(super) const LINES_EACH: usize = 250;
/// How long each of many clients writing at once may take. A quiet machine
/// needs well under a second for all of them; up to 13 s were seen with
/// `--repeat 20` running four copies of a 16-client check at once on a
/// 2-core machine at load 14.
pub(super) const CROWD_WAIT: Duration = Duration::from_secs(20);

/// Which side of a pair is the program under test.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Who {
    Student,
    Grader,
}

/// Starts a server on PATH and waits for its `listening on PATH` line.
pub(super) fn start_server(ctx: &mut Ctx, who: Who, path: &Path, options: &[&str]) -> Result<Proc, Fail> {
    let deadline = ctx.deadline();
    let cmd = match who {
        Who::Student => ctx.program("fifo-server"),
        Who::Grader => ctx.peer(peers::SERVER)?.args(options),
    };
    let mut server = cmd.arg(path).output_cap(32 << 20).spawn()?;
    listening_on_path(&mut server, path, deadline)?;
    Ok(server)
}

/// The complete lines a server printed after its `listening on` line, and
/// whatever came after the last newline.
pub(super) fn printed(server: &Proc) -> (Vec<Vec<u8>>, Vec<u8>) {
    let bytes = server.stdout.bytes();
    let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let rest = lines.pop().unwrap_or_default();
    if !lines.is_empty() {
        lines.remove(0);
    }
    (lines, rest)
}

/// Waits until the server has printed at least `count` lines after its
/// `listening on` line, or `deadline`.
pub(super) fn wait_printed(server: &Proc, count: usize, deadline: Instant) -> bool {
    // Counted as the output grows: megabytes come in many pieces.
    let (mut seen, mut newlines) = (0, 0);
    let found = server.stdout.wait_for(deadline, |bytes| {
        newlines += bytes[seen..].iter().filter(|&&b| b == b'\n').count();
        seen = bytes.len();
        (newlines > count).then_some(())
    });
    found.is_some()
}

/// Expects the server to print exactly `lines` (each with its newline) after
/// its `listening on` line, waiting up to `ARRIVE_WAIT` for them.
pub(super) fn expect_printed(server: &Proc, lines: &[Vec<u8>], who: &str) -> Result<(), Fail> {
    wait_printed(server, lines.len(), Instant::now() + ARRIVE_WAIT);
    // A line too many would come at once: give it a moment to show.
    std::thread::sleep(Duration::from_millis(50));
    let (got, rest) = printed(server);
    if got == lines && rest.is_empty() {
        return Ok(());
    }
    let joined = |lines: &[Vec<u8>]| lines.iter().flat_map(|l| l.iter().copied().chain([b'\n'])).collect::<Vec<u8>>();
    let mut got_bytes = joined(&got);
    got_bytes.extend_from_slice(&rest);
    Err(mismatch(
        &format!("{who}'s output after `listening on PATH`"),
        &joined(lines),
        &got_bytes,
        got_bytes.len() as u64,
    )
    .command(&server.command)
    .note(format!("{who}'s stderr: {}", text::excerpt(&server.stderr.bytes(), server.stderr.total(), 4, 400))))
}

/// Lines as arguments.
pub(super) fn as_args(lines: &[Vec<u8>]) -> Vec<std::ffi::OsString> {
    use std::os::unix::ffi::OsStringExt;
    lines.iter().map(|l| std::ffi::OsString::from_vec(l.clone())).collect()
}

/// Lines, each with its newline, as one input.
pub(super) fn as_input(lines: &[Vec<u8>]) -> Vec<u8> {
    lines.iter().flat_map(|l| l.iter().copied().chain([b'\n'])).collect()
}

/// A line of `len` printable bytes that starts with `tag`.
pub(super) fn filled(tag: &str, len: usize, rng: &mut fastrand::Rng) -> Vec<u8> {
    // 64 characters: a random byte's low 6 bits pick one.
    const ALPHABET: &[u8; 64] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,";
    let mut line = tag.as_bytes().to_vec();
    let start = line.len().min(len);
    line.resize(len, 0);
    rng.fill(&mut line[start..]);
    for b in &mut line[start..] {
        *b = ALPHABET[usize::from(*b & 63)];
    }
    line
}

/// The lines client `client` sends in the concurrency checks: `count`
/// distinct lines of 16 to 4095 bytes (every 8th exactly 4095), each naming
/// its client and number, so that a line mixed from two is none of them.
pub(super) fn client_lines(client: usize, count: usize, rng: &mut fastrand::Rng) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let len = if i % 8 == 7 { MAX_LINE } else { rng.usize(16..=MAX_LINE) };
            filled(&format!("c{client:02} l{i:04} "), len, rng)
        })
        .collect()
}

/// A line's length and first bytes.
pub(super) type LineKey = (usize, Vec<u8>);

/// Expects every line of every client printed exactly once, unchanged and
/// in its client's order; lines of different clients may interleave.
pub(super) fn expect_each_once(printed: &[Vec<u8>], rest: &[u8], sent: &[Vec<Vec<u8>>]) -> Result<(), String> {
    // Found by length and first bytes (cheap to hash, and distinct for the
    // lines the checks send), then compared whole.
    let key = |line: &[u8]| (line.len(), line[..line.len().min(16)].to_vec());
    let mut origin: HashMap<LineKey, Vec<(usize, usize)>> = HashMap::new();
    for (c, lines) in sent.iter().enumerate() {
        for (i, line) in lines.iter().enumerate() {
            origin.entry(key(line)).or_default().push((c, i));
        }
    }
    let find = |line: &[u8]| origin.get(&key(line))?.iter().copied().find(|&(c, i)| sent[c][i] == line);
    let mut seen: Vec<Vec<bool>> = sent.iter().map(|l| vec![false; l.len()]).collect();
    let mut next = vec![0usize; sent.len()];
    let (mut unknown, mut twice, mut reordered) = (Vec::new(), 0, 0);
    for line in printed {
        match find(line) {
            None => unknown.push(line),
            Some((c, i)) if seen[c][i] => twice += 1,
            Some((c, i)) => {
                seen[c][i] = true;
                if i < next[c] {
                    reordered += 1;
                }
                next[c] = next[c].max(i + 1);
            }
        }
    }
    let missing: usize = seen.iter().map(|s| s.iter().filter(|&&x| !x).count()).sum();
    if missing == 0 && unknown.is_empty() && twice == 0 && reordered == 0 && rest.is_empty() {
        return Ok(());
    }
    let total: usize = sent.iter().map(Vec::len).sum();
    let mut what = format!(
        "of {total} lines sent, {missing} were not printed; {} printed lines were sent by no client (mixed or cut); \
         {twice} printed twice; {reordered} out of their client's order",
        unknown.len()
    );
    if !rest.is_empty() {
        what.push_str(&format!("; {} bytes after the last newline", rest.len()));
    }
    if let Some(line) = unknown.first() {
        what.push_str(&format!(
            "\nfirst line no client sent ({} bytes): {}",
            line.len(),
            text::one_line(&String::from_utf8_lossy(line), 160)
        ));
    }
    Err(what)
}

/// A FIFO made by the check, mode 0600.
pub(super) fn make_fifo(ctx: &Ctx, name: &str) -> Result<PathBuf, Fail> {
    let path = ctx.path(name);
    nix::unistd::mkfifo(&path, Mode::from_bits_truncate(0o600)).map_err(Fail::infra)?;
    Ok(path)
}

/// The type and permission bits of PATH (not following a symlink), for messages.
pub(super) fn describe(path: &Path) -> String {
    match std::fs::symlink_metadata(path) {
        Err(e) => format!("nothing ({})", ipc_engine::text::one_line(&e.to_string(), 100)),
        Ok(meta) => {
            let kind = match meta.file_type() {
                t if t.is_fifo() => "a FIFO",
                t if t.is_file() => "a regular file",
                t if t.is_dir() => "a directory",
                t if t.is_symlink() => "a symbolic link",
                _ => "something else",
            };
            format!("{kind}, mode {:04o}", meta.permissions().mode() & 0o7777)
        }
    }
}

pub(super) fn is_fifo(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

/// Fails as `Cmd::spawn` does when the program under test is missing.
pub(super) fn ensure_program(ctx: &Ctx, name: &str) -> Result<PathBuf, Fail> {
    let path = ctx.program_path(name);
    if path.is_file() {
        return Ok(path);
    }
    Err(Fail::new(format!("program `{name}` not found"))
        .expected(format!("an executable at {}", path.display()))
        .note("build it (cargo build), or check the folder given to --bin-dir"))
}

/// A server that still runs, or a failure saying how it ended.
pub(super) fn still_running(server: &mut Proc, after: &str) -> Result<(), Fail> {
    match server.try_exit() {
        None => Ok(()),
        Some(exit) => Err(Fail::new(format!("the server ended {after}"))
            .got(exit.to_string())
            .command(&server.command)
            .note(format!("stderr: {}", text::excerpt(&server.stderr.bytes(), server.stderr.total(), 4, 400)))
            .note("end of file means that no writer is left, not that the server is done: wait for the next client")),
    }
}

/// Runs the grader's client on PATH with these lines (or, with `raw`, stdin
/// bytes as they are) and expects it to deliver them.
pub(super) fn grader_client(ctx: &mut Ctx, path: &Path, lines: &[Vec<u8>], raw: Option<Vec<u8>>) -> Result<(), Fail> {
    let cmd = ctx.peer(peers::CLIENT)?.timeout(CLIENT_WAIT);
    let cmd = match raw {
        Some(bytes) => cmd.arg("--raw").arg(path).stdin_bytes(bytes),
        None => cmd.arg(path).args(as_args(lines)),
    };
    let done = cmd.run().map_err(|f| {
        f.note("the grader's client waits in open(2) until the FIFO has a reader: does the server keep it open for reading?")
    })?;
    ensure(done.exit == Exit::Code(0), || {
        done.fail("the grader's client could not deliver its lines").got(done.exit.to_string()).note(
            "`Broken pipe` means the server closed its read end while the client was writing; \
             `No such file or directory`, that PATH was gone",
        )
    })
}

/// Waits at most `limit` for a started program to end, and collects it; a
/// program still running then is killed and fails (`why` says what it may
/// be waiting for).
pub(super) fn finish_within(ctx: &Ctx, running: &mut Proc, limit: Duration, why: &str) -> Result<Done, Fail> {
    ctx.finish_within(running, limit, "its input ended").map_err(|f| f.note(why.to_string()))
}

/// Stops a server the check no longer needs (with its process group).
pub(super) fn stop(mut server: Proc) {
    server.kill_group();
}

/// Sends `sig` to the server and collects it (waiting at most 3 s).
pub(super) fn signal_and_finish(ctx: &Ctx, server: &mut Proc, sig: Signal) -> Result<Done, Fail> {
    server.signal(sig).map_err(|e| {
        Fail::new(format!("the server was gone before {} could be sent ({e})", sig.as_str())).command(&server.command)
    })?;
    if server.wait_timeout(Duration::from_secs(3)).is_none() {
        server.kill_group();
        return Err(Fail::new(format!("the server did not exit within 3s of {}", sig.as_str()))
            .timing(ipc_engine::check::Timing::Deadline)
            .command(&server.command)
            .got(text::excerpt(&server.stdout.bytes(), server.stdout.total(), 6, 400))
            .note("it must stop wherever it is waiting (in open, poll or read): a flag set by a signal handler is never looked at while the main thread sleeps"));
    }
    ctx.finish(server)
}

/// After SIGTERM/SIGINT: exit 0, stdout `listening`, `lines`, then
/// `received N lines`, and PATH removed.
pub(super) fn expect_stopped(done: &Done, path: &Path, lines: &[Vec<u8>], sig: Signal) -> Result<(), Fail> {
    let mut expected = format!("listening on {}\n", path.display()).into_bytes();
    expected.extend(as_input(lines));
    expected.extend(format!("received {} lines\n", lines.len()).into_bytes());
    done.expect_stdout(&expected).map_err(|f| {
        f.note(format!("after {} (`received N lines` counts every line since the start)", sig.as_str()))
    })?;
    done.expect_code(0).map_err(|f| f.note(format!("after {}", sig.as_str())))?;
    ensure(!path.exists() && !is_fifo(path), || {
        done.fail(format!("PATH is still there after {}", sig.as_str()))
            .got(describe(path))
            .note("the name outlives every process until someone unlinks it: std::fs::remove_file(PATH) before exiting")
    })
}

/// The umask this grader runs with (and its programs inherit), for messages.
pub(super) fn grader_umask() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Umask:").map(|m| m.trim().to_string())))
        .unwrap_or_else(|| "unknown".into())
}

pub(super) const FIFO_0600: &str = "a FIFO, mode 0600";

/// Waits until `fd` (a FIFO's read end, O_NONBLOCK) has data or no writer
/// is left, and reads; `None` at `deadline`.
pub(super) fn read_before(fd: &OwnedFd, buf: &mut [u8], deadline: Instant) -> Result<Option<usize>, Fail> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => return Err(Fail::infra(format!("poll: {e}"))),
        }
        match nix::unistd::read(fd, buf) {
            Ok(n) => return Ok(Some(n)),
            Err(Errno::EAGAIN | Errno::EINTR) => continue,
            Err(e) => return Err(Fail::infra(format!("read: {e}"))),
        }
    }
}

/// The lines of `server-one-client` and `client-one-server`: an empty one,
/// blanks and tabs, UTF-8, and one of the longest length.
pub(super) fn sample_lines() -> Vec<Vec<u8>> {
    let mut rng = fastrand::Rng::with_seed(0xf1f0);
    vec![
        b"hello, fifo".to_vec(),
        Vec::new(),
        b"  two  spaces\tand a tab ".to_vec(),
        "ünïcödé ✓".as_bytes().to_vec(),
        filled("the longest line: 4095 bytes ", MAX_LINE, &mut rng),
        b"last".to_vec(),
    ]
}
