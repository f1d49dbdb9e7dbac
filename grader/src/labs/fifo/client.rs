//! Lab `fifo`: the checks of `fifo-client`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::fcntl::{OFlag, open};
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;

use ipc_engine::check::{Fail, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::proc::Exit;
use ipc_engine::text;

use super::harness::*;

/// Six LINEs (an empty one, blanks and tabs, UTF-8, 4095 bytes) reach the
/// grader's server unchanged and in order; the client exits 0.
pub(super) fn client_one_server(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn client_stdin_lines(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn clients_16_at_once(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn client_waits_for_reader(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn client_nonblock(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn client_missing_path(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("missing.fifo");
    let done = ctx.program("fifo-client").arg(&path).arg("hello?").timeout(CLIENT_WAIT).run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("fifo-client: {}: No such file or directory", path.display()))?;
    ensure(std::fs::symlink_metadata(&path).is_err(), || {
        done.fail("the client created PATH").got(describe(&path)).note("never create it: no O_CREAT (and no mkfifo)")
    })
}

/// A regular file at PATH: `fifo-client: PATH: not a FIFO`, exit 1, and the
/// file is unchanged.
pub(super) fn client_not_a_fifo(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn client_line_too_long(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn client_broken_pipe(ctx: &mut Ctx) -> Result<(), Fail> {
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
            .got(done.exit.to_string())
            .timing(ipc_engine::check::Timing::Deadline));
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
