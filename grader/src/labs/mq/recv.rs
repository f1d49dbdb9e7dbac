//! Lab `mq`: the checks of `mq-recv`, fed by the grader's own sending
//! side.

use std::time::{Duration, Instant};

use ipc_engine::check::{Fail, Kind, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::leaks::queue_exists;

use ipc_peers::mq::{Queue, show};

use super::harness::*;

/// One message `hello world` in the queue: `mq-recv NAME` prints `0 hello world`.
pub(super) fn recv_one_message(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("one");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    Queue::create(ctx, &name, 10, 1024)?.send(ctx, 0, b"hello world")?;
    let done = ctx.program("mq-recv").arg(&name).timeout(PROMPT).run()?;
    done.expect_code(0)?.expect_stdout(b"0 hello world\n")?;
    Ok(())
}

/// Three messages: `--count 2` prints the first two, each on its own line,
/// and leaves the third in the queue.
pub(super) fn recv_keeps_boundaries(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("bounds");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let queue = Queue::create(ctx, &name, 10, 1024)?;
    for m in ["one two", "three  spaces", "four"] {
        queue.send(ctx, 0, m.as_bytes())?;
    }
    let done = ctx.program("mq-recv").args(["--count", "2", &name]).timeout(PROMPT).run()?;
    done.expect_code(0)?.expect_stdout(b"0 one two\n0 three  spaces\n")?;
    let left = queue.drain(ctx)?;
    ensure(left == [msg(0, "four")], || {
        Fail::new("`mq-recv --count 2` did not leave the third message in the queue")
            .expected(show(&[msg(0, "four")]))
            .got(show(&left))
            .note("receive exactly N messages, one mq_receive each")
    })?;
    Ok(())
}

/// Five messages of priorities 1, 5, 1, 5, 3: printed highest first, oldest
/// first within a priority, each with its priority.
pub(super) fn recv_priority_order(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("order");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let queue = Queue::create(ctx, &name, 10, 1024)?;
    for (p, m) in [(1, "low-a"), (5, "high-a"), (1, "low-b"), (5, "high-b"), (3, "mid")] {
        queue.send(ctx, p, m.as_bytes())?;
    }
    let done = ctx.program("mq-recv").args(["--count", "5", &name]).timeout(PROMPT).run()?;
    let expected = [msg(5, "high-a"), msg(5, "high-b"), msg(3, "mid"), msg(1, "low-a"), msg(1, "low-b")];
    done.expect_code(0)?.expect_stdout(&printed(&expected))?;
    Ok(())
}

/// A 5000-byte message on a queue of 8192-byte messages arrives whole.
pub(super) fn recv_large_message(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("large");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let text = ipc_engine::ctx::numbers_text(5000);
    Queue::create(ctx, &name, 2, 8192)?.send_made(ctx, 2, &text)?;
    let done = ctx.program("mq-recv").arg(&name).timeout(PROMPT).run()?;
    done.expect_code(0)?.expect_stdout(&printed(&[(2, text.text.into_bytes())]))?;
    Ok(())
}

/// On an empty queue mq-recv blocks; a message the grader sends once it is
/// blocked is printed, and mq-recv exits 0.
pub(super) fn recv_waits_for_message(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("wait");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let queue = Queue::create(ctx, &name, 10, 1024)?;
    let mut running = ctx.program("mq-recv").arg(&name).spawn()?;
    wait_blocked(ctx, &mut running, "a message")?;
    queue.send(ctx, 2, b"worth the wait")?;
    let done = ctx.finish_within(&mut running, PROMPT, "the grader sent a message")?;
    done.expect_code(0)?.expect_stdout(b"2 worth the wait\n")?;
    Ok(())
}

/// `--nonblock` on an empty queue: `queue empty`, status 3, nothing printed.
pub(super) fn recv_nonblock_empty(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("empty");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    drop(Queue::create(ctx, &name, 10, 1024)?);
    let done = ctx.program("mq-recv").args(["--nonblock", &name]).timeout(PROMPT).run()?;
    done.expect_code(3)?.expect_stderr_line(&format!("mq-recv: {name}: queue empty"))?.expect_stdout(b"")?;
    Ok(())
}

/// `--timeout 700` on an empty queue: `timed out`, status 4, after at least
/// 700 ms and at most 1700 ms.
pub(super) fn recv_timeout(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("timeout");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    drop(Queue::create(ctx, &name, 10, 1024)?);
    // Timed from before the fork to after the exit is seen, so a correct
    // program can never look early (Done::elapsed starts after spawn's setup).
    let before = Instant::now();
    let mut running = ctx.program("mq-recv").args(["--timeout", "700", &name]).spawn()?;
    let exited = running.wait_until(ctx.within(Duration::from_millis(2500)));
    let ms = before.elapsed().as_millis();
    if exited.is_none() {
        running.kill_group();
        return Err(Fail::new("`--timeout 700` was still waiting after 2.5 s")
            .kind(Kind::Timeout)
            .expected("exit 4 after 700 to 1700 ms")
            .command(&running.command)
            .note("MS is in milliseconds: add MS * 1_000_000 nanoseconds to the current time"));
    }
    let done = ctx.finish(&mut running)?;
    done.expect_code(4)?.expect_stderr_line(&format!("mq-recv: {name}: timed out"))?;
    ensure((700..=1700).contains(&ms), || {
        done.fail("`--timeout 700` did not wait about 700 ms")
            .expected("exit after 700 to 1700 ms")
            .got(format!("exit after {ms} ms"))
            .note("mq_timedreceive takes an absolute CLOCK_REALTIME time: now + MS, not MS alone")
    })?;
    Ok(())
}

/// `--timeout 4000`: a message the grader sends once mq-recv is blocked is
/// printed at once (within 1.5 s), and mq-recv exits 0.
pub(super) fn recv_timeout_message_in_time(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("intime");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let queue = Queue::create(ctx, &name, 10, 1024)?;
    let mut running = ctx.program("mq-recv").args(["--timeout", "4000", &name]).spawn()?;
    wait_blocked(ctx, &mut running, "a message (for at most 4 s)")?;
    queue.send(ctx, 1, b"in time")?;
    let done =
        ctx.finish_within(&mut running, Duration::from_millis(1500), "the grader sent a message").map_err(|f| {
            f.note("wait in mq_timedreceive, which returns as soon as a message arrives; do not sleep first")
        })?;
    done.expect_code(0)?.expect_stdout(b"1 in time\n")?;
    Ok(())
}

/// `--timeout` bounds each receive, not all of them: with `--count 3
/// --timeout 1500`, messages sent at 0, 0.8 and 1.6 s (each within 1.5 s of
/// the one before, all three not) are all received, and mq-recv exits 0.
pub(super) fn recv_timeout_each_receive(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("each");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let queue = Queue::create(ctx, &name, 10, 1024)?;
    queue.send(ctx, 1, b"first")?;
    let start = Instant::now();
    let mut running = ctx.program("mq-recv").args(["--count", "3", "--timeout", "1500", &name]).spawn()?;
    for (at, text) in [(800, &b"second"[..]), (1600, b"third")] {
        let due = start + Duration::from_millis(at);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        ctx.shown("sleep 0.8");
        queue.send(ctx, 1, text)?;
    }
    let done = ctx.finish_within(&mut running, Duration::from_millis(2500), "the grader sent the third message")?;
    done.expect_code(0)
        .map_err(|f| {
            f.note(
                "each receive waits at most MS: compute the deadline (now + MS) before every mq_timedreceive, not once",
            )
        })?
        .expect_stdout(b"1 first\n1 second\n1 third\n")?;
    Ok(())
}

/// Each `PRIORITY MESSAGE` line is flushed as soon as it is received: with
/// `--count 2`, the first line shows while mq-recv still waits for the second.
pub(super) fn recv_prints_each_at_once(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("flush");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let queue = Queue::create(ctx, &name, 10, 1024)?;
    let mut running = ctx.program("mq-recv").args(["--count", "2", &name]).spawn()?;
    wait_blocked(ctx, &mut running, "the first message")?;
    queue.send(ctx, 3, b"first")?;
    let seen =
        running.stdout.wait_for(ctx.within(Duration::from_millis(1500)), |b| b.starts_with(b"3 first\n").then_some(()));
    let still_waiting = running.try_exit().is_none();
    if seen.is_none() || !still_waiting {
        queue.send(ctx, 3, b"second")?;
        let what = if still_waiting {
            "the first message's line did not appear within 1.5 s while mq-recv waited for the second"
        } else {
            "mq-recv exited after one message although --count 2 asks for two"
        };
        return Err(Fail::new(what)
            .kind(Kind::Output)
            .expected("`3 first` on stdout at once, mq-recv still waiting")
            .output_so_far(&mut running)
            .note("flush stdout after each line (a reader waits on it): `out.flush()`, or write to a line-buffered stdout"));
    }
    queue.send(ctx, 3, b"second")?;
    let done = ctx.finish_within(&mut running, PROMPT, "the grader sent the second message")?;
    done.expect_code(0)?.expect_stdout(b"3 first\n3 second\n")?;
    Ok(())
}

/// `--unlink` removes the queue only when mq-recv succeeds: after a
/// time-out (status 4, `timed out`) the queue is still there.
pub(super) fn recv_unlink_only_on_success(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("keep");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    drop(Queue::create(ctx, &name, 10, 1024)?);
    let done = ctx.program("mq-recv").args(["--unlink", "--timeout", "300", &name]).timeout(PROMPT).run()?;
    done.expect_code(4)?.expect_stderr_line(&format!("mq-recv: {name}: timed out"))?;
    ensure(queue_exists(&name), || {
        done.fail(format!("after a time-out, `--unlink` removed {name}"))
            .expected("the queue still exists: --unlink removes it only when mq-recv succeeds (exit 0)")
            .note("unlink only after every message was received, on the way to exit 0")
    })?;
    Ok(())
}

/// A missing queue: `No such file or directory`, status 1, and no queue created.
pub(super) fn recv_missing_queue(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("missing");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let done = ctx.program("mq-recv").arg(&name).timeout(PROMPT).run();
    let created = queue_exists(&name);
    ensure(!created, || {
        Fail::new(format!("mq-recv created the missing queue {name}"))
            .note("open with O_RDONLY only: mq-recv never creates a queue (no O_CREAT)")
    })?;
    done?.expect_code(1)?.expect_stderr_line(&format!("mq-recv: {name}: No such file or directory"))?;
    Ok(())
}

/// `--unlink` removes the queue after receiving its message.
pub(super) fn recv_unlink(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("unlink");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    Queue::create(ctx, &name, 10, 1024)?.send(ctx, 0, b"bye")?;
    let done = ctx.program("mq-recv").args(["--unlink", &name]).timeout(PROMPT).run()?;
    done.expect_code(0)?.expect_stdout(b"0 bye\n")?;
    ensure(!queue_exists(&name), || {
        done.fail(format!("the queue {name} still exists after `mq-recv --unlink`"))
            .note("call mq_unlink(NAME) after receiving")
    })
}

/// `--all` prints every message (highest priority first) and exits 0 without
/// waiting; on an empty queue it prints nothing and exits 0.
pub(super) fn recv_all(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("all");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let queue = Queue::create(ctx, &name, 10, 1024)?;
    for (p, m) in [(0, "a"), (4, "b"), (0, "c"), (9, "d")] {
        queue.send(ctx, p, m.as_bytes())?;
    }
    let expected = [msg(9, "d"), msg(4, "b"), msg(0, "a"), msg(0, "c")];
    let done = ctx.program("mq-recv").args(["--all", &name]).timeout(PROMPT).run()?;
    done.expect_code(0)?.expect_stdout(&printed(&expected))?;
    let done = ctx.program("mq-recv").args([&name, "--all"]).timeout(PROMPT).run()?;
    done.expect_code(0)?.expect_stdout(b"")?;
    Ok(())
}

/// No NAME, two NAMEs, an invalid name, a bad number, `--count` with
/// `--all`, or an unknown option: usage error.
pub(super) fn recv_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("usage");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    drop(Queue::create(ctx, &name, 10, 1024)?);
    let no_slash = name[1..].to_string();
    let two_slashes = format!("{name}/x");
    let cases: [&[&str]; 8] = [
        &[],
        &[&name, &name],
        &[&no_slash],
        &[&two_slashes],
        &["--count", "two", &name],
        &["--count", "2", "--all", &name],
        &["--timeout", "soon", &name],
        &["--no-such-option", &name],
    ];
    for args in cases {
        ctx.program("mq-recv").args(args).timeout(PROMPT).run()?.expect_usage_error()?;
    }
    Ok(())
}
