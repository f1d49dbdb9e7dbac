//! Lab `fifo`: named pipes (`fifo-server`, `fifo-client`).
//!
//! Every FIFO a program is given lives in the check's own temporary folder,
//! which is removed after the check whatever a program leaves there. The
//! check itself only ever opens a FIFO without blocking (O_NONBLOCK, or the
//! gate's O_RDWR): an open that waits for a partner is left to the programs
//! and the trusted peers, which the check's deadline can kill.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;

use ipc_engine::check::{Check, Done, Fail, ensure, listening_on_path, mismatch};
use ipc_engine::ctx::Ctx;
use ipc_engine::proc::{Exit, Proc};
use ipc_engine::text;

use ipc_peers::fifo as peers;

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["fifo-server", "fifo-client"];

pub fn checks() -> Vec<Check> {
    vec![
        Check::new("server-creates-fifo", server_creates_fifo),
        Check::new("server-path-exists", server_path_exists),
        Check::new("server-one-client", server_one_client),
        Check::new("server-clients-in-turn", server_clients_in_turn),
        Check::new("server-idle-cpu", server_idle_cpu),
        Check::new("server-16-clients", server_16_clients),
        Check::new("server-last-line-newline", server_last_line_newline),
        Check::new("server-sigterm-counts", server_sigterm_counts),
        Check::new("server-sigterm-while-waiting", server_sigterm_while_waiting),
        Check::new("client-one-server", client_one_server),
        Check::new("client-stdin-lines", client_stdin_lines),
        Check::new("clients-16-at-once", clients_16_at_once),
        Check::new("client-waits-for-reader", client_waits_for_reader),
        Check::new("client-nonblock", client_nonblock),
        Check::new("client-missing-path", client_missing_path),
        Check::new("client-not-a-fifo", client_not_a_fifo),
        Check::new("client-line-too-long", client_line_too_long),
        Check::new("client-broken-pipe", client_broken_pipe),
        Check::new("pair", pair),
        Check::new("usage-errors", usage_errors),
    ]
}

/// How long lines may take to be printed once their client has sent them.
const ARRIVE_WAIT: Duration = Duration::from_secs(3);
/// How long a client that has a reader may take to send a few lines.
const CLIENT_WAIT: Duration = Duration::from_secs(3);
/// The longest line: it and its newline are one write of PIPE_BUF bytes.
const MAX_LINE: usize = 4095;
/// Clients at once, and lines each sends, in the concurrency checks.
const CLIENTS: usize = 16;
const LINES_EACH: usize = 250;
/// How long each of many clients writing at once may take. A quiet machine
/// needs well under a second for all of them; up to 13 s were seen with
/// `--repeat 20` running four copies of a 16-client check at once on a
/// 2-core machine at load 14.
const CROWD_WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// Helpers.

/// Which side of a pair is the program under test.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    Student,
    Grader,
}

/// Starts a server on PATH and waits for its `listening on PATH` line.
fn start_server(ctx: &mut Ctx, who: Who, path: &Path, options: &[&str]) -> Result<Proc, Fail> {
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
fn printed(server: &Proc) -> (Vec<Vec<u8>>, Vec<u8>) {
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
fn wait_printed(server: &Proc, count: usize, deadline: Instant) -> bool {
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
fn expect_printed(server: &Proc, lines: &[Vec<u8>], who: &str) -> Result<(), Fail> {
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
fn as_args(lines: &[Vec<u8>]) -> Vec<std::ffi::OsString> {
    use std::os::unix::ffi::OsStringExt;
    lines.iter().map(|l| std::ffi::OsString::from_vec(l.clone())).collect()
}

/// Lines, each with its newline, as one input.
fn as_input(lines: &[Vec<u8>]) -> Vec<u8> {
    lines.iter().flat_map(|l| l.iter().copied().chain([b'\n'])).collect()
}

/// A line of `len` printable bytes that starts with `tag`.
fn filled(tag: &str, len: usize, rng: &mut fastrand::Rng) -> Vec<u8> {
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
fn client_lines(client: usize, count: usize, rng: &mut fastrand::Rng) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let len = if i % 8 == 7 { MAX_LINE } else { rng.usize(16..=MAX_LINE) };
            filled(&format!("c{client:02} l{i:04} "), len, rng)
        })
        .collect()
}

/// A line's length and first bytes.
type LineKey = (usize, Vec<u8>);

/// Expects every line of every client printed exactly once, unchanged and
/// in its client's order; lines of different clients may interleave.
fn expect_each_once(printed: &[Vec<u8>], rest: &[u8], sent: &[Vec<Vec<u8>>]) -> Result<(), String> {
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
fn make_fifo(ctx: &Ctx, name: &str) -> Result<PathBuf, Fail> {
    let path = ctx.path(name);
    nix::unistd::mkfifo(&path, Mode::from_bits_truncate(0o600)).map_err(Fail::infra)?;
    Ok(path)
}

/// The type and permission bits of PATH (not following a symlink), for messages.
fn describe(path: &Path) -> String {
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

fn is_fifo(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

/// Fails as `Cmd::spawn` does when the program under test is missing.
fn ensure_program(ctx: &Ctx, name: &str) -> Result<PathBuf, Fail> {
    let path = ctx.program_path(name);
    if path.is_file() {
        return Ok(path);
    }
    Err(Fail::new(format!("program `{name}` not found"))
        .expected(format!("an executable at {}", path.display()))
        .note("build it (cargo build), or check the folder given to --bin-dir"))
}

/// A server that still runs, or a failure saying how it ended.
fn still_running(server: &mut Proc, after: &str) -> Result<(), Fail> {
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
fn grader_client(ctx: &mut Ctx, path: &Path, lines: &[Vec<u8>], raw: Option<Vec<u8>>) -> Result<(), Fail> {
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
fn finish_within(ctx: &Ctx, running: &mut Proc, limit: Duration, why: &str) -> Result<Done, Fail> {
    ctx.finish_within(running, limit, "its input ended").map_err(|f| f.note(why.to_string()))
}

/// Stops a server the check no longer needs (with its process group).
fn stop(mut server: Proc) {
    server.kill_group();
}

/// Sends `sig` to the server and collects it (waiting at most 3 s).
fn signal_and_finish(ctx: &Ctx, server: &mut Proc, sig: Signal) -> Result<Done, Fail> {
    server.signal(sig).map_err(|e| {
        Fail::new(format!("the server was gone before {} could be sent ({e})", sig.as_str())).command(&server.command)
    })?;
    if server.wait_timeout(Duration::from_secs(3)).is_none() {
        server.kill_group();
        return Err(Fail::new(format!("the server did not exit within 3s of {}", sig.as_str()))
            .command(&server.command)
            .got(text::excerpt(&server.stdout.bytes(), server.stdout.total(), 6, 400))
            .note("it must stop wherever it is waiting (in open, poll or read): a flag set by a signal handler is never looked at while the main thread sleeps"));
    }
    ctx.finish(server)
}

/// After SIGTERM/SIGINT: exit 0, stdout `listening`, `lines`, then
/// `received N lines`, and PATH removed.
fn expect_stopped(done: &Done, path: &Path, lines: &[Vec<u8>], sig: Signal) -> Result<(), Fail> {
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
fn grader_umask() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Umask:").map(|m| m.trim().to_string())))
        .unwrap_or_else(|| "unknown".into())
}

const FIFO_0600: &str = "a FIFO, mode 0600";

/// Waits until `fd` (a FIFO's read end, O_NONBLOCK) has data or no writer
/// is left, and reads; `None` at `deadline`.
fn read_before(fd: &OwnedFd, buf: &mut [u8], deadline: Instant) -> Result<Option<usize>, Fail> {
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
fn sample_lines() -> Vec<Vec<u8>> {
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

// ---------------------------------------------------------------------------
// fifo-server.

/// PATH is a FIFO of mode 0600 as soon as `listening on PATH` appears: under
/// the grader's umask, and under `umask 277` (which takes away the owner's
/// write bit from whatever mode mkfifo is given).
fn server_creates_fifo(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("made.fifo");
    let server = start_server(ctx, Who::Student, &path, &[])?;
    // At once: the line says the FIFO is there.
    let seen = describe(&path);
    stop(server);
    ensure(seen == FIFO_0600, || {
        Fail::new("PATH is not a FIFO of mode 0600 when `listening on PATH` appears")
            .expected(FIFO_0600)
            .got(seen.clone())
            .note(format!("the server ran with umask {}", grader_umask()))
            .note("create it with mkfifo(3), mode 0600, before printing the line")
    })?;

    let program = ensure_program(ctx, "fifo-server")?;
    let path = ctx.path("umask.fifo");
    let deadline = ctx.deadline();
    let mut server = ctx.launcher(peers::UMASK).arg("277").arg(&program).arg(&path).spawn()?;
    listening_on_path(&mut server, &path, deadline)?;
    let seen = describe(&path);
    stop(server);
    ensure(seen == FIFO_0600, || {
        Fail::new("under umask 277, PATH is not a FIFO of mode 0600")
            .expected(FIFO_0600)
            .got(seen.clone())
            .note(format!("the check ran: (umask 277; {} {})", program.display(), path.display()))
            .note("mkfifo's mode is filtered by the umask: clear it around the call (umask(0)), or chmod afterwards")
    })
}

/// PATH already exists (a regular file, then a FIFO): `fifo-server: PATH:
/// File exists`, exit 1, and what was there is still there, unchanged.
fn server_path_exists(ctx: &mut Ctx) -> Result<(), Fail> {
    let contents = b"not the server's: leave me alone\n";
    let file = ctx.write_file("taken.txt", contents)?;
    let fifo = make_fifo(ctx, "taken.fifo")?;
    for (path, what) in [(&file, "a regular file"), (&fifo, "a FIFO")] {
        let done = ctx.program("fifo-server").arg(path).timeout(Duration::from_secs(3)).run()?;
        done.expect_code(1)
            .map_err(|f| f.note(format!("PATH was {what} already")))?
            .expect_stderr_line(&format!("fifo-server: {}: File exists", path.display()))?;
        let kept = match what {
            "a FIFO" => is_fifo(path),
            _ => std::fs::read(path).is_ok_and(|now| now == contents) && !is_fifo(path),
        };
        ensure(kept, || {
            done.fail(format!("{what} at PATH was changed or removed"))
                .expected(format!("{what}, as it was"))
                .got(describe(path))
                .note(
                    "never remove or replace what you did not create: mkfifo fails with EEXIST, and that is the answer",
                )
        })?;
    }
    Ok(())
}

/// The grader's client sends six lines (an empty one, blanks and tabs, UTF-8,
/// 4095 bytes); the server prints them unchanged and in order.
fn server_one_client(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("server.fifo");
    let server = start_server(ctx, Who::Student, &path, &[])?;
    let lines = sample_lines();
    grader_client(ctx, &path, &lines, None)?;
    expect_printed(&server, &lines, "the server").map_err(|f| {
        f.note("a read returns whatever is in the pipe, ending anywhere in a line: print only whole lines, and keep the rest for the next read")
    })?;
    stop(server);
    Ok(())
}

/// Three clients one after another: the server survives each one's close
/// (end of file) and prints the next one's lines.
fn server_clients_in_turn(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("turns.fifo");
    let mut server = start_server(ctx, Who::Student, &path, &[])?;
    let rounds: [&[&str]; 3] =
        [&["first client"], &["second client, line 1", "second client, line 2"], &["third client"]];
    let mut all: Vec<Vec<u8>> = Vec::new();
    for (n, round) in rounds.iter().enumerate() {
        let lines: Vec<Vec<u8>> = round.iter().map(|l| l.as_bytes().to_vec()).collect();
        if n > 0 {
            // Give a server that takes end of file for the end a moment to quit.
            std::thread::sleep(Duration::from_millis(200));
            still_running(&mut server, &format!("after client {n} closed the FIFO"))?;
        }
        grader_client(ctx, &path, &lines, None).map_err(|f| f.note(format!("this was client {} of 3", n + 1)))?;
        all.extend(lines);
        expect_printed(&server, &all, "the server").map_err(|f| f.note(format!("after client {} of 3", n + 1)))?;
    }
    stop(server);
    Ok(())
}

/// Most CPU the server may use while it waits for the next client.
const IDLE_CPU_SHARE: f64 = 0.1;
/// How long the server's idle CPU time is measured.
const IDLE_WINDOW: Duration = Duration::from_millis(1500);

/// After a client left, the idle server uses at most 10% of what a busy
/// loop gets over 1.5 s (a sleeping server: a few ms), and still prints the
/// next client's line.
fn server_idle_cpu(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("idle.fifo");
    let mut server = start_server(ctx, Who::Student, &path, &[])?;
    let first = vec![b"before the pause".to_vec()];
    grader_client(ctx, &path, &first, None)?;
    expect_printed(&server, &first, "the server")?;
    std::thread::sleep(Duration::from_millis(300));
    let cpu = ctx.cpu_used(&mut [&mut server], IDLE_WINDOW)?;
    let Some(used) = cpu.used[0] else {
        still_running(&mut server, "after its client closed the FIFO")?;
        return Err(Fail::new("the server ended while it should wait for the next client"));
    };
    cpu.verdict(used, IDLE_CPU_SHARE).map_err(|why| {
        Fail::new(format!("the server burns the CPU while no client is connected: {why}"))
            .expected(format!(
                "a server asleep until the next client writes, using at most {:.0}% of what a busy loop gets",
                IDLE_CPU_SHARE * 100.0
            ))
            .command(&server.command)
            .note("after end of file, read returns 0 (and poll reports POLLHUP) at once, for ever: open the FIFO again and wait on the new descriptor")
    })?;
    let mut all = first;
    all.push(b"after the pause".to_vec());
    grader_client(ctx, &path, &all[1..], None)?;
    expect_printed(&server, &all, "the server")?;
    stop(server);
    Ok(())
}

/// 16 of the grader's clients released at the same moment, 250 lines each
/// of 16 to 4095 bytes: the server prints every line exactly once, none
/// mixed or cut.
fn server_16_clients(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("many.fifo");
    let server = start_server(ctx, Who::Student, &path, &[])?;
    let gate_path = make_fifo(ctx, "gate")?;
    // Both ends at once (O_RDWR does not wait on Linux): the clients' opens
    // of the gate for reading return at once, and they wait in read().
    let mut gate = std::fs::OpenOptions::new().read(true).write(true).open(&gate_path).map_err(Fail::infra)?;
    let mut rng = fastrand::Rng::with_seed(0x16c1);
    let sent: Vec<Vec<Vec<u8>>> = (0..CLIENTS).map(|c| client_lines(c, LINES_EACH, &mut rng)).collect();
    let mut clients = Vec::new();
    for (i, lines) in sent.iter().enumerate() {
        let ready = ctx.path(&format!("ready-{i}"));
        let cmd = ctx.peer(peers::CLIENT)?.arg("--gate").arg(&gate_path).arg("--ready").arg(&ready).arg(&path);
        clients.push(cmd.stdin_generated(as_input(lines), "(250 lines of 16 to 4095 bytes)").spawn()?);
    }
    let all_ready = |ctx: &Ctx| (0..CLIENTS).all(|i| ctx.path(&format!("ready-{i}")).exists());
    while !all_ready(ctx) {
        ctx.check_deadline("waiting for the grader's clients at their starting gate")?;
        std::thread::sleep(Duration::from_millis(2));
    }
    std::io::Write::write_all(&mut gate, &[b'g'; CLIENTS]).map_err(Fail::infra)?;
    drop(gate);
    for (i, client) in clients.iter_mut().enumerate() {
        let done = finish_within(
            ctx,
            client,
            CROWD_WAIT,
            "a writer waits while the pipe is full: is the server still reading?",
        )?;
        ensure(done.exit == Exit::Code(0), || {
            done.fail(format!("the grader's client {i} could not deliver its lines"))
                .got(done.exit.to_string())
                .note("did the server close its read end, or exit, while clients were writing?")
        })?;
    }
    let total = CLIENTS * LINES_EACH;
    wait_printed(&server, total, ctx.within(ARRIVE_WAIT));
    let (got, rest) = printed(&server);
    expect_each_once(&got, &rest, &sent).map_err(|what| {
        Fail::new("the server did not print every line of 16 clients exactly once, unchanged")
            .expected(format!("{total} lines, each exactly once, none mixed or cut"))
            .got(what)
            .command(&server.command)
            .note("each client writes whole lines, one write each; a read may hold lines of several clients and end in the middle of one: print whole lines only, and keep the rest for the next read")
    })?;
    stop(server);
    Ok(())
}

/// A client whose last line has no newline (`first\nlast line without
/// newline`): the server prints both lines, the last with a newline added
/// when the client closes, and the next client's line on a line of its own.
fn server_last_line_newline(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("partial.fifo");
    let server = start_server(ctx, Who::Student, &path, &[])?;
    let mut lines = vec![b"first line".to_vec(), b"last line without newline".to_vec()];
    let raw = b"first line\nlast line without newline".to_vec();
    grader_client(ctx, &path, &[], Some(raw))?;
    expect_printed(&server, &lines, "the server").map_err(|f| {
        f.note("the client sent `first line\\nlast line without newline` and closed: at end of file, print what is left with a newline added")
    })?;
    lines.push(b"the next client".to_vec());
    grader_client(ctx, &path, &lines[2..], None)?;
    expect_printed(&server, &lines, "the server")?;
    stop(server);
    Ok(())
}

/// SIGTERM after two clients (3 and 2 lines): `received 5 lines` last, PATH
/// removed, exit 0; SIGINT after one client of one line: `received 1 lines`.
fn server_sigterm_counts(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("count.fifo");
    let mut server = start_server(ctx, Who::Student, &path, &[])?;
    let lines: Vec<Vec<u8>> = ["one", "two", "three", "four", "five"].iter().map(|l| l.as_bytes().to_vec()).collect();
    grader_client(ctx, &path, &lines[..3], None)?;
    expect_printed(&server, &lines[..3], "the server")?;
    grader_client(ctx, &path, &lines[3..], None)?;
    expect_printed(&server, &lines, "the server")?;
    let done = signal_and_finish(ctx, &mut server, Signal::SIGTERM)?;
    expect_stopped(&done, &path, &lines, Signal::SIGTERM)?;

    let path = ctx.path("count-int.fifo");
    let mut server = start_server(ctx, Who::Student, &path, &[])?;
    let lines = vec![b"only line".to_vec()];
    grader_client(ctx, &path, &lines, None)?;
    expect_printed(&server, &lines, "the server")?;
    let done = signal_and_finish(ctx, &mut server, Signal::SIGINT)?;
    expect_stopped(&done, &path, &lines, Signal::SIGINT)
}

/// SIGTERM while no client ever came (the server waiting for the first):
/// `received 0 lines`, PATH removed, exit 0.
fn server_sigterm_while_waiting(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("nobody.fifo");
    let mut server = start_server(ctx, Who::Student, &path, &[])?;
    std::thread::sleep(Duration::from_millis(300));
    still_running(&mut server, "before any client came")?;
    let done = signal_and_finish(ctx, &mut server, Signal::SIGTERM)?;
    expect_stopped(&done, &path, &[], Signal::SIGTERM)
}

// ---------------------------------------------------------------------------
// fifo-client.

/// Six LINEs (an empty one, blanks and tabs, UTF-8, 4095 bytes) reach the
/// grader's server unchanged and in order; the client exits 0.
fn client_one_server(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("server.fifo");
    let server = start_server(ctx, Who::Grader, &path, &[])?;
    let lines = sample_lines();
    let done = ctx.program("fifo-client").arg(&path).args(as_args(&lines)).timeout(CLIENT_WAIT).run()?;
    done.expect_code(0)?;
    expect_printed(&server, &lines, "the grader's server")
        .map_err(|f| f.command(&done.command).note("send each LINE's bytes and one newline"))?;
    stop(server);
    Ok(())
}

/// With no LINE, the lines of stdin are sent (an empty one, and a last one
/// without newline, which gets one).
fn client_stdin_lines(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("stdin.fifo");
    let server = start_server(ctx, Who::Grader, &path, &[])?;
    let input = b"alpha\n\nbeta  gamma\nlast line without newline".to_vec();
    let lines: Vec<Vec<u8>> =
        ["alpha", "", "beta  gamma", "last line without newline"].iter().map(|l| l.as_bytes().to_vec()).collect();
    let done = ctx.program("fifo-client").arg(&path).stdin_bytes(input).timeout(CLIENT_WAIT).run()?;
    done.expect_code(0)?;
    expect_printed(&server, &lines, "the grader's server")
        .map_err(|f| f.command(&done.command).note("a last line without newline is a line too: send it with one"))?;
    stop(server);
    Ok(())
}

/// 16 clients wait for a reader on one FIFO, then write 250 lines each (16
/// to 4095 bytes) at once: the grader's server prints every line exactly
/// once, none mixed or cut.
fn clients_16_at_once(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = make_fifo(ctx, "busy.fifo")?;
    let mut rng = fastrand::Rng::with_seed(0x16c2);
    let sent: Vec<Vec<Vec<u8>>> = (0..CLIENTS).map(|c| client_lines(c, LINES_EACH, &mut rng)).collect();
    let mut clients = Vec::new();
    for lines in &sent {
        let cmd = ctx.program("fifo-client").arg(&path).output_cap(64 << 10);
        clients.push(cmd.stdin_generated(as_input(lines), "(250 lines of 16 to 4095 bytes)").spawn()?);
    }
    // No reader yet: every client waits in open(2). The reader releases them all at once.
    std::thread::sleep(Duration::from_millis(500));
    for client in &mut clients {
        if client.try_exit().is_some() {
            let done = ctx.finish(client)?;
            return Err(done
                .fail("a client ended before the FIFO had any reader")
                .got(done.exit.to_string())
                .note("open(2) for writing, without O_NONBLOCK, waits for a reader"));
        }
    }
    let server = start_server(ctx, Who::Grader, &path, &["--existing"])?;
    for client in &mut clients {
        finish_within(ctx, client, CROWD_WAIT, "the grader's server was reading all along")?.expect_code(0)?;
    }
    let total = CLIENTS * LINES_EACH;
    wait_printed(&server, total, ctx.within(ARRIVE_WAIT));
    let (got, rest) = printed(&server);
    expect_each_once(&got, &rest, &sent).map_err(|what| {
        Fail::new("the lines of 16 clients writing at once did not all arrive whole, exactly once")
            .expected(format!("{total} lines, each exactly once, none mixed or cut"))
            .got(what)
            .note(format!("one of the commands: {}", clients[0].command))
            .note("write each line and its newline with ONE write: a write of at most PIPE_BUF (4096) bytes is atomic; two writes (`writeln!`, a BufWriter) let other clients' bytes in between")
    })?;
    stop(server);
    Ok(())
}

/// Started before any reader, the client waits (still running and asleep
/// after 500 ms); once the grader's server opens the FIFO it delivers its
/// line and exits 0.
fn client_waits_for_reader(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = make_fifo(ctx, "later.fifo")?;
    let lines = vec![b"sent once a reader came".to_vec()];
    let mut client = ctx.program("fifo-client").arg(&path).args(as_args(&lines)).spawn()?;
    std::thread::sleep(Duration::from_millis(500));
    if client.try_exit().is_some() {
        let done = ctx.finish(&mut client)?;
        return Err(done
            .fail("the client did not wait for a reader")
            .got(done.exit.to_string())
            .note("open(2) of a FIFO for writing, without O_NONBLOCK, sleeps until a reader opens it"));
    }
    // Asleep: state S in /proc/PID/stat (sampled for up to a second, so that
    // a moment of being runnable on a loaded machine does not count).
    let mut state = None;
    for _ in 0..50 {
        state = ipc_engine::proc::state(client.pid());
        if state == Some('S') {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    ensure(state == Some('S'), || {
        Fail::new("while it waits for a reader, the client is not asleep")
            .expected("state S (sleeping) in /proc/PID/stat")
            .got(format!("{state:?}"))
            .command(&client.command)
            .note("no loop: a blocking open(2) sleeps until a reader comes")
    })?;
    let server = start_server(ctx, Who::Grader, &path, &["--existing"])?;
    let done = finish_within(ctx, &mut client, CLIENT_WAIT, "the grader's server has the FIFO open for reading")?;
    done.expect_code(0)?;
    expect_printed(&server, &lines, "the grader's server")?;
    stop(server);
    Ok(())
}

/// `--nonblock` with no reader: `fifo-client: PATH: no reader`, exit 3. With
/// a reader that starts reading only after 500 ms, `PATH --nonblock` sends
/// 200 KB of lines from stdin (more than the pipe holds): all arrive, exit 0.
fn client_nonblock(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = make_fifo(ctx, "nobody.fifo")?;
    let done = ctx
        .program("fifo-client")
        .arg("--nonblock")
        .arg(&path)
        .arg("anyone there?")
        .timeout(Duration::from_secs(2))
        .run()?;
    done.expect_code(3)?.expect_stderr_line(&format!("fifo-client: {}: no reader", path.display()))?;

    let path = ctx.path("slow.fifo");
    let server = start_server(ctx, Who::Grader, &path, &["--pause", "500"])?;
    let mut rng = fastrand::Rng::with_seed(0x0b10c);
    let lines: Vec<Vec<u8>> = (0..2000).map(|i| filled(&format!("line {i:04} "), 100, &mut rng)).collect();
    let done = ctx
        .program("fifo-client")
        .arg(&path)
        .arg("--nonblock")
        .stdin_generated(as_input(&lines), "(2000 lines of 100 bytes)")
        .timeout(Duration::from_secs(4))
        .run()?;
    done.expect_code(0).map_err(|f| {
        f.note("the reader came, but read nothing for 500 ms while the pipe filled up").note(
            "O_NONBLOCK is for the open only: clear it (fcntl F_SETFL), or a write to a full pipe fails with EAGAIN",
        )
    })?;
    expect_printed(&server, &lines, "the grader's server")?;
    stop(server);
    Ok(())
}

/// A PATH that does not exist: `fifo-client: PATH: No such file or
/// directory`, exit 1, and nothing is created there.
fn client_missing_path(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("missing.fifo");
    let done = ctx.program("fifo-client").arg(&path).arg("hello?").timeout(CLIENT_WAIT).run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("fifo-client: {}: No such file or directory", path.display()))?;
    ensure(std::fs::symlink_metadata(&path).is_err(), || {
        done.fail("the client created PATH").got(describe(&path)).note("never create it: no O_CREAT (and no mkfifo)")
    })
}

/// A regular file at PATH: `fifo-client: PATH: not a FIFO`, exit 1, and the
/// file is unchanged.
fn client_not_a_fifo(ctx: &mut Ctx) -> Result<(), Fail> {
    let contents = b"a regular file: do not write here\n";
    let path = ctx.write_file("regular.txt", contents)?;
    let done = ctx.program("fifo-client").arg(&path).arg("overwritten?").timeout(CLIENT_WAIT).run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("fifo-client: {}: not a FIFO", path.display()))?;
    ensure(std::fs::read(&path).is_ok_and(|now| now == contents), || {
        done.fail("the regular file at PATH was changed")
            .got(describe(&path))
            .note("look at PATH's type (stat, `is_fifo()`) before you open it")
    })
}

/// A line of 4096 bytes (as LINE, then on stdin): `fifo-client: line too
/// long`, exit 1; the lines before it reached the grader's server, and none
/// of the long line did.
fn client_line_too_long(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut rng = fastrand::Rng::with_seed(0x1096);
    let long = filled("too long: ", MAX_LINE + 1, &mut rng);
    let before = [b"one".to_vec(), b"two".to_vec()];
    for from_stdin in [false, true] {
        let path = ctx.path(if from_stdin { "stdin.fifo" } else { "args.fifo" });
        let server = start_server(ctx, Who::Grader, &path, &[])?;
        let cmd = ctx.program("fifo-client").arg(&path).timeout(CLIENT_WAIT);
        let mut all = before.to_vec();
        all.push(long.clone());
        all.push(b"after".to_vec());
        let cmd = if from_stdin {
            cmd.stdin_generated(as_input(&all), "(one, two, a line of 4096 bytes, after)")
        } else {
            cmd.args(as_args(&all))
        };
        let done = cmd.run()?;
        let how = if from_stdin { "on stdin" } else { "as LINE" };
        done.expect_code(1)
            .map_err(|f| {
                f.note(format!("the third line, {how}, has 4096 bytes: with its newline, more than PIPE_BUF"))
            })?
            .expect_stderr_line("fifo-client: line too long")?;
        wait_printed(&server, before.len(), Instant::now() + ARRIVE_WAIT);
        std::thread::sleep(Duration::from_millis(100));
        let (got, rest) = printed(&server);
        let long_came = got.iter().chain([&rest]).any(|l| l.len() > MAX_LINE || l.starts_with(b"too long"));
        ensure(got.starts_with(&before) && !long_came, || {
            Fail::new(format!(
                "with a line too long {how}, the grader's server did not get exactly the lines before it"
            ))
            .expected("one\ntwo")
            .got(text::excerpt(&server.stdout.bytes(), server.stdout.total(), 4, 300))
            .command(&done.command)
            .note("send the lines in order, and stop at the first one longer than 4095 bytes without sending it")
        })?;
        stop(server);
    }
    Ok(())
}

/// The only reader reads a little, then closes while the client still has
/// 4 MB of lines to send: `fifo-client: PATH: Broken pipe`, exit 1 (not
/// death by SIGPIPE).
fn client_broken_pipe(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = make_fifo(ctx, "vanishing.fifo")?;
    // The check's own read end, without waiting for a writer.
    let reader =
        open(&path, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC, Mode::empty()).map_err(Fail::infra)?;
    let mut rng = fastrand::Rng::with_seed(0xb0c);
    let lines: Vec<Vec<u8>> = (0..1000).map(|i| filled(&format!("line {i:04} "), 3999, &mut rng)).collect();
    let input = Arc::new(as_input(&lines));
    let mut client =
        ctx.program("fifo-client").arg(&path).stdin_generated(input.clone(), "(1000 lines of 3999 bytes)").spawn()?;
    let mut buf = vec![0u8; 16 << 10];
    let got = read_before(&reader, &mut buf, ctx.within(CLIENT_WAIT))?;
    let Some(n) = got.filter(|&n| n > 0) else {
        // Ended (or still running, then killed): nothing came either way.
        client.kill_group();
        let done = ctx.finish(&mut client)?;
        return Err(done
            .fail(format!("nothing arrived in the FIFO within {}s, though it had a reader", CLIENT_WAIT.as_secs()))
            .got(done.exit.to_string()));
    };
    ensure(input.starts_with(&buf[..n]), || {
        Fail::new("the first bytes in the FIFO are not the first lines of stdin")
            .got(text::one_line(&String::from_utf8_lossy(&buf[..n.min(120)]), 120))
            .command(&client.command)
    })?;
    // The client fills the pipe again and waits in write(2); then the only
    // reader goes away.
    std::thread::sleep(Duration::from_millis(300));
    drop(reader);
    let done = finish_within(
        ctx,
        &mut client,
        CLIENT_WAIT,
        "the FIFO has no reader any more: the next write fails with EPIPE",
    )?;
    if done.exit == Exit::Signal(Signal::SIGPIPE as i32) {
        return Err(done
            .fail("the client died of SIGPIPE without a word")
            .got(done.exit.to_string())
            .note("ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)), then report the write's EPIPE: `fifo-client: PATH: Broken pipe`, exit 1"));
    }
    done.expect_code(1)?.expect_stderr_line(&format!("fifo-client: {}: Broken pipe", path.display()))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Both programs.

/// The student's clients with the student's server: four clients at once
/// (100 lines each, on stdin), then one more with a LINE; every line printed
/// exactly once; SIGTERM: `received 401 lines`, PATH removed, exit 0.
fn pair(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("pair.fifo");
    let mut server = start_server(ctx, Who::Student, &path, &[])?;
    let mut rng = fastrand::Rng::with_seed(0x9a1);
    let mut sent: Vec<Vec<Vec<u8>>> = (0..4).map(|c| client_lines(c, 100, &mut rng)).collect();
    let mut clients = Vec::new();
    for lines in &sent {
        let cmd = ctx.program("fifo-client").arg(&path);
        clients.push(cmd.stdin_generated(as_input(lines), "(100 lines of 16 to 4095 bytes)").spawn()?);
    }
    for client in &mut clients {
        finish_within(ctx, client, CROWD_WAIT, "a client waits in open(2) while the FIFO has no reader: did the server exit, or close it, when an earlier client closed?")?
            .expect_code(0)?;
    }
    let last = vec![b"the last client".to_vec()];
    ctx.program("fifo-client").arg(&path).args(as_args(&last)).timeout(CLIENT_WAIT).run()?.expect_code(0)?;
    sent.push(last);
    let total: usize = sent.iter().map(Vec::len).sum();
    wait_printed(&server, total, ctx.within(ARRIVE_WAIT));
    let (got, rest) = printed(&server);
    expect_each_once(&got, &rest, &sent).map_err(|what| {
        Fail::new("your clients' lines did not all reach your server whole, exactly once")
            .expected(format!("{total} lines, each exactly once"))
            .got(what)
            .note(format!("server: {}", server.command))
    })?;
    let done = signal_and_finish(ctx, &mut server, Signal::SIGTERM)?;
    done.expect_code(0)?;
    let want = format!("received {total} lines");
    ensure(done.stdout_text().lines().last() == Some(want.as_str()), || {
        done.fail("after SIGTERM the last line of stdout is not the count")
            .expected(want.clone())
            .got(text::one_line(done.stdout_text().lines().last().unwrap_or("(nothing)"), 200))
    })?;
    ensure(!path.exists() && !is_fifo(&path), || done.fail("PATH is still there after SIGTERM").got(describe(&path)))
}

/// Missing, extra or unknown arguments are usage errors (one line, status
/// 2), and the server creates nothing then.
fn usage_errors(ctx: &mut Ctx) -> Result<(), Fail> {
    let (a, b) = (ctx.path("usage-a"), ctx.path("usage-b"));
    let cases: Vec<(&str, Vec<&std::ffi::OsStr>)> = vec![
        ("fifo-server", vec![]),
        ("fifo-server", vec![a.as_os_str(), b.as_os_str()]),
        ("fifo-server", vec!["--no-such-option".as_ref(), a.as_os_str()]),
        ("fifo-client", vec![]),
        ("fifo-client", vec!["--no-such-option".as_ref(), a.as_os_str(), "line".as_ref()]),
    ];
    for (program, args) in cases {
        let done = ctx.program(program).args(args).timeout(Duration::from_secs(2)).run()?;
        done.expect_usage_error()?;
        for path in [&a, &b] {
            ensure(std::fs::symlink_metadata(path).is_err(), || {
                done.fail("a usage error created a file").got(format!("{}: {}", path.display(), describe(path)))
            })?;
        }
    }
    Ok(())
}
