//! Lab `fifo`: the checks of `fifo-server`.

use std::time::Duration;

use nix::sys::signal::Signal;

use ipc_engine::check::{Fail, ensure, listening_on_path};
use ipc_engine::ctx::Ctx;
use ipc_engine::proc::Exit;

use ipc_peers::fifo as peers;

use super::harness::*;

/// PATH is a FIFO of mode 0600 as soon as `listening on PATH` appears: under
/// the grader's umask, and under `umask 277` (which takes away the owner's
/// write bit from whatever mode mkfifo is given).
pub(super) fn server_creates_fifo(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn server_path_exists(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn server_one_client(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn server_clients_in_turn(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn server_idle_cpu(ctx: &mut Ctx) -> Result<(), Fail> {
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
            .timing(ipc_engine::check::Timing::CpuShare)
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
pub(super) fn server_16_clients(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn server_last_line_newline(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn server_sigterm_counts(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn server_sigterm_while_waiting(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("nobody.fifo");
    let mut server = start_server(ctx, Who::Student, &path, &[])?;
    std::thread::sleep(Duration::from_millis(300));
    still_running(&mut server, "before any client came")?;
    let done = signal_and_finish(ctx, &mut server, Signal::SIGTERM)?;
    expect_stopped(&done, &path, &[], Signal::SIGTERM)
}
