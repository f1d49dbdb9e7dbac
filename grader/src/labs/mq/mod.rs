//! Lab `mq`: POSIX message queues (`mq-send`, `mq-recv`).
//!
//! Each program is tested on its own against the grader's trusted side of
//! the queue ([`queue`]: nix called from the check), plus one check of the
//! two together. Queues are named with `ctx.ipc_name`, so the engine's leak
//! check probes them after every check; each check removes its own queue at
//! the end ([`UnlinkAtEnd`]) and tests explicitly where a program must
//! remove a queue or must not create one.

use std::time::{Duration, Instant};

use ipc_engine::check::{Check, Fail, Kind, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::leaks::{queue_exists, remove_queue};
use ipc_engine::proc::Proc;

use ipc_peers::mq as queue;
use ipc_peers::mq::{Attr, Message, Queue, show};

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["mq-send", "mq-recv"];

pub fn checks() -> Vec<Check> {
    vec![
        Check::new("send-creates-queue", send_creates_queue),
        Check::new("send-keeps-boundaries", send_keeps_boundaries),
        Check::new("send-priority", send_priority),
        Check::new("send-attributes-on-create", send_attributes_on_create),
        Check::new("send-attributes-existing-queue", send_attributes_existing_queue),
        Check::new("send-nonblock-full", send_nonblock_full),
        Check::new("send-waits-when-full", send_waits_when_full),
        Check::new("send-message-too-long", send_message_too_long),
        Check::new("send-usage", send_usage),
        Check::new("recv-one-message", recv_one_message),
        Check::new("recv-keeps-boundaries", recv_keeps_boundaries),
        Check::new("recv-priority-order", recv_priority_order),
        Check::new("recv-large-message", recv_large_message),
        Check::new("recv-waits-for-message", recv_waits_for_message),
        Check::new("recv-nonblock-empty", recv_nonblock_empty),
        Check::new("recv-timeout", recv_timeout),
        Check::new("recv-timeout-message-in-time", recv_timeout_message_in_time),
        Check::new("recv-timeout-each-receive", recv_timeout_each_receive),
        Check::new("recv-prints-each-at-once", recv_prints_each_at_once),
        Check::new("recv-missing-queue", recv_missing_queue),
        Check::new("recv-unlink", recv_unlink),
        Check::new("recv-unlink-only-on-success", recv_unlink_only_on_success),
        Check::new("recv-all", recv_all),
        Check::new("recv-usage", recv_usage),
        Check::new("send-recv-together", send_recv_together),
    ]
}

/// Removes the check's queue when the check ends, however it ends: the
/// queue is the grader's doing (or one the contract lets mq-send leave), so
/// it must not be reported as the student's leak. Where leaving no queue *is*
/// the behaviour under test (`--unlink`, a missing queue), the check looks
/// for it explicitly before this runs. The reproduction ends with the same
/// clean-up, so that it can be run again.
struct UnlinkAtEnd(String, ipc_engine::ctx::Shown);

impl UnlinkAtEnd {
    fn new(ctx: &Ctx, name: &str) -> UnlinkAtEnd {
        UnlinkAtEnd(name.to_string(), ctx.shown_later())
    }
}

impl Drop for UnlinkAtEnd {
    fn drop(&mut self) {
        remove_queue(&self.0);
        let name = ipc_engine::text::shell_quote(&self.0);
        self.1.peer(queue::NAME, &format!("unlink {name}    # clean up"));
    }
}

/// How long a program that should return at once may take.
const PROMPT: Duration = Duration::from_secs(2);

/// Attributes the contract gives a queue mq-send creates without options.
const DEFAULT_MAXMSG: i64 = 10;
const DEFAULT_MSGSIZE: i64 = 1024;

fn msg(priority: u32, text: &str) -> Message {
    (priority, text.as_bytes().to_vec())
}

/// What mq-recv prints for these messages.
fn printed(messages: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    for (p, m) in messages {
        out.extend_from_slice(format!("{p} ").as_bytes());
        out.extend_from_slice(m);
        out.push(b'\n');
    }
    out
}

/// Drains the queue `name` (which `who` should have left) and expects exactly
/// `expected`, in order.
fn expect_queue_holds(ctx: &Ctx, name: &str, who: &str, expected: &[Message], hint: &str) -> Result<(), Fail> {
    let got = Queue::open(name, who)?.drain(ctx)?;
    ensure(got == expected, || {
        Fail::new(format!("after {who}, the queue does not hold the messages the contract says"))
            .expected(show(expected))
            .got(show(&got))
            .note(hint.to_string())
    })
}

/// Expects the queue's maximum size and message size.
fn expect_attr(ctx: &Ctx, name: &str, who: &str, maxmsg: i64, msgsize: i64, hint: &str) -> Result<(), Fail> {
    let queue = Queue::open(name, who)?;
    queue.show_stat(ctx);
    let Attr { maxmsg: got_max, msgsize: got_size, .. } = queue.attr()?;
    ensure(got_max == maxmsg && got_size == msgsize, || {
        Fail::new(format!("after {who}, the queue has the wrong attributes"))
            .expected(format!("mq_maxmsg = {maxmsg}, mq_msgsize = {msgsize}"))
            .got(format!("mq_maxmsg = {got_max}, mq_msgsize = {got_size}"))
            .note(hint.to_string())
    })
}

/// Waits until `running` is blocked: alive for at least 300 ms and seen
/// sleeping (state S) three times in a row, 20 ms apart (at most 2 s; a
/// program that spins is given the benefit of the doubt after that). Fails if
/// it exits meanwhile. `waiting_for` completes "waiting for ...": `a
/// message`. The reproduction pauses as long (`sleep`).
fn wait_blocked(ctx: &Ctx, running: &mut Proc, waiting_for: &str) -> Result<(), Fail> {
    let start = Instant::now();
    let mut sleeping = 0;
    loop {
        if running.try_exit().is_some() {
            let done = ctx.finish(running)?;
            return Err(done
                .fail(format!("the program exited instead of waiting for {waiting_for}"))
                .expected(format!("still running, waiting for {waiting_for}"))
                .got(format!(
                    "{} after {:.2}s; stdout: {:?}",
                    done.exit,
                    done.elapsed.as_secs_f64(),
                    done.stdout_text()
                )));
        }
        let elapsed = start.elapsed();
        sleeping = if ipc_engine::proc::state(running.pid()) == Some('S') { sleeping + 1 } else { 0 };
        if (elapsed >= Duration::from_millis(300) && sleeping >= 3) || elapsed >= PROMPT {
            ctx.shown(format!("sleep {:.1}    # the grader waits until it blocks", elapsed.as_secs_f64().max(0.5)));
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------
// mq-send, checked by the grader's own receiving side.

/// `mq-send NAME hello` creates the queue (mode 0600, 10 messages of 1024
/// bytes) and leaves one message `hello` of priority 0 in it.
fn send_creates_queue(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("create");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let done = ctx.program("mq-send").args([&name, "hello"]).timeout(PROMPT).run()?;
    done.expect_code(0)?.expect_stdout(b"")?;
    let who = "`mq-send NAME hello`";
    let queue = Queue::open(&name, who)?;
    queue.show_stat(ctx);
    let mode = queue.mode()?;
    let Attr { maxmsg, msgsize, .. } = queue.attr()?;
    ensure(mode == 0o600, || {
        let fail = Fail::new("the queue mq-send created has the wrong permissions")
            .expected("mode 0600")
            .got(format!("mode {mode:04o} (mq_maxmsg {maxmsg}, mq_msgsize {msgsize})"));
        // With `None` for the attributes, nix calls the two-argument C
        // mq_open, which never reads a mode: the mode (and the sizes) are
        // whatever the registers held, and the sizes then differ as well.
        if (maxmsg, msgsize) != (DEFAULT_MAXMSG, DEFAULT_MSGSIZE) {
            fail.note(
                "the sizes are not the contract's 10 x 1024 either: this is what `mq_open(name, flags, mode, None)` does. \
                 With None, nix calls C's mq_open with two arguments (no mode, no attributes), so the mode you passed \
                 is never read and the queue gets whatever mode the registers held. Pass \
                 Some(&MqAttr::new(0, maxmsg, msgsize, 0)) as the attributes, and the mode counts",
            )
        } else {
            fail.note("pass Mode::from_bits_truncate(0o600) (S_IRUSR | S_IWUSR) as mq_open's mode")
        }
    })?;
    expect_attr(
        ctx,
        &name,
        who,
        DEFAULT_MAXMSG,
        DEFAULT_MSGSIZE,
        "without options, create the queue with MqAttr::new(0, 10, 1024, 0)",
    )?;
    expect_queue_holds(
        ctx,
        &name,
        who,
        &[msg(0, "hello")],
        "send MESSAGE's bytes with mq_send, priority 0 by default",
    )?;
    Ok(())
}

/// Each MESSAGE is one message, its bytes exactly (spaces kept, no terminator).
fn send_keeps_boundaries(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("bounds");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let messages = ["hello world", "two  spaces, then the end", "x"];
    ctx.program("mq-send").arg(&name).args(messages).timeout(PROMPT).run()?.expect_code(0)?;
    let expected: Vec<Message> = messages.iter().map(|m| msg(0, m)).collect();
    expect_queue_holds(
        ctx,
        &name,
        "`mq-send NAME` with three MESSAGEs",
        &expected,
        "call mq_send once per MESSAGE with exactly its bytes: no joining, splitting or trailing NUL",
    )?;
    Ok(())
}

/// `--priority P` (before or after NAME) gives every message priority P.
fn send_priority(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("prio");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    ctx.program("mq-send").args(["--priority", "7", &name, "seven"]).timeout(PROMPT).run()?.expect_code(0)?;
    ctx.program("mq-send").args([&name, "max", "--priority", "32767"]).timeout(PROMPT).run()?.expect_code(0)?;
    ctx.program("mq-send").args([&name, "zero"]).timeout(PROMPT).run()?.expect_code(0)?;
    expect_queue_holds(
        ctx,
        &name,
        "sends with --priority 7, --priority 32767 and no priority",
        &[msg(32767, "max"), msg(7, "seven"), msg(0, "zero")],
        "pass --priority's value as mq_send's priority argument (0 when absent)",
    )?;
    Ok(())
}

/// `--maxmsg 3 --msgsize 64` on a new queue gives it those attributes.
fn send_attributes_on_create(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("attrs");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let args = ["--maxmsg", "3", "--msgsize", "64", &name, "sized"];
    ctx.program("mq-send").args(args).timeout(PROMPT).run()?.expect_code(0)?;
    let who = "`mq-send --maxmsg 3 --msgsize 64 NAME sized`";
    expect_attr(ctx, &name, who, 3, 64, "pass Some(&MqAttr::new(0, maxmsg, msgsize, 0)) to mq_open with O_CREAT")?;
    Ok(())
}

/// On an existing queue (5 x 128 bytes, one message in it), `--maxmsg` and
/// `--msgsize` are ignored: the queue and its message stay.
fn send_attributes_existing_queue(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("exists");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    Queue::create(ctx, &name, 5, 128)?.send(ctx, 0, b"already here")?;
    let args = ["--maxmsg", "2", "--msgsize", "32", &name, "added"];
    ctx.program("mq-send").args(args).timeout(PROMPT).run()?.expect_code(0)?;
    let who = "`mq-send --maxmsg 2 --msgsize 32` on a queue of 5 x 128 bytes";
    let hint =
        "open with O_CREAT but without O_EXCL, and never unlink: an existing queue keeps its attributes and messages";
    expect_attr(ctx, &name, who, 5, 128, hint)?;
    expect_queue_holds(ctx, &name, who, &[msg(0, "already here"), msg(0, "added")], hint)?;
    Ok(())
}

/// `--nonblock` on a queue of 2 with three MESSAGEs: exit 3 with `queue
/// full`, the first two stay in the queue.
fn send_nonblock_full(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("full");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    drop(Queue::create(ctx, &name, 2, 64)?);
    let done = ctx.program("mq-send").args(["--nonblock", &name, "one", "two", "three"]).timeout(PROMPT).run()?;
    done.expect_code(3)?.expect_stderr_line(&format!("mq-send: {name}: queue full"))?;
    expect_queue_holds(
        ctx,
        &name,
        "`mq-send --nonblock` on a full queue",
        &[msg(0, "one"), msg(0, "two")],
        "messages sent before the queue filled stay in it",
    )?;
    Ok(())
}

/// Without `--nonblock`, mq-send waits on a full queue (1 message of 1) and
/// finishes once the grader receives that message (within 2 s).
fn send_waits_when_full(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("wait");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let queue = Queue::create(ctx, &name, 1, 64)?;
    queue.send(ctx, 0, b"first")?;
    let mut running = ctx.program("mq-send").args([&name, "second"]).spawn()?;
    wait_blocked(ctx, &mut running, "room in the full queue")?;
    // Exactly one: mq-send may send `second` the moment there is room.
    let first = queue.receive_up_to(ctx, 1)?;
    ensure(first == [msg(0, "first")], || {
        Fail::new("the full queue changed while mq-send should have been waiting")
            .expected(show(&[msg(0, "first")]))
            .got(show(&first))
    })?;
    let done = ctx.finish_within(&mut running, PROMPT, "the grader received a message from the full queue")?;
    done.expect_code(0)?;
    expect_queue_holds(
        ctx,
        &name,
        "mq-send waited for room",
        &[msg(0, "second")],
        "a blocking mq_send finishes once there is room",
    )?;
    Ok(())
}

/// On a queue of 16-byte messages, 16 bytes go through; 17 bytes give
/// `message too long` and status 1.
fn send_message_too_long(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("long");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    drop(Queue::create(ctx, &name, 4, 16)?);
    let fits = "sixteen bytes ok";
    ctx.program("mq-send").args([&name, fits]).timeout(PROMPT).run()?.expect_code(0)?;
    let done = ctx.program("mq-send").args([&name, "seventeen bytes!!"]).timeout(PROMPT).run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("mq-send: {name}: message too long"))?;
    expect_queue_holds(
        ctx,
        &name,
        "sending 16 then 17 bytes to a queue of 16-byte messages",
        &[msg(0, fits)],
        "mq_send fails with EMSGSIZE for a message longer than mq_msgsize: report it, never truncate",
    )?;
    Ok(())
}

/// Missing NAME or MESSAGE, an invalid name, a bad number or an unknown
/// option: usage error, and no queue created.
fn send_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("usage");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    let no_slash = name[1..].to_string();
    let two_slashes = format!("{name}/x");
    let too_long = format!("{name}{}", "x".repeat(256));
    let cases: [&[&str]; 8] = [
        &[],
        &[&name],
        &[&no_slash, "m"],
        &[&two_slashes, "m"],
        &[&too_long, "m"],
        &["--priority", "high", &name, "m"],
        &["--maxmsg", "ten", &name, "m"],
        &["--no-such-option", &name, "m"],
    ];
    for args in cases {
        ctx.program("mq-send").args(args).timeout(PROMPT).run()?.expect_usage_error()?;
    }
    ensure(!queue_exists(&name), || Fail::new(format!("a usage error created the queue {name}")))
}

// ---------------------------------------------------------------------------
// mq-recv, fed by the grader's own sending side.

/// One message `hello world` in the queue: `mq-recv NAME` prints `0 hello world`.
fn recv_one_message(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("one");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    Queue::create(ctx, &name, 10, 1024)?.send(ctx, 0, b"hello world")?;
    let done = ctx.program("mq-recv").arg(&name).timeout(PROMPT).run()?;
    done.expect_code(0)?.expect_stdout(b"0 hello world\n")?;
    Ok(())
}

/// Three messages: `--count 2` prints the first two, each on its own line,
/// and leaves the third in the queue.
fn recv_keeps_boundaries(ctx: &mut Ctx) -> Result<(), Fail> {
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
fn recv_priority_order(ctx: &mut Ctx) -> Result<(), Fail> {
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
fn recv_large_message(ctx: &mut Ctx) -> Result<(), Fail> {
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
fn recv_waits_for_message(ctx: &mut Ctx) -> Result<(), Fail> {
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
fn recv_nonblock_empty(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("empty");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    drop(Queue::create(ctx, &name, 10, 1024)?);
    let done = ctx.program("mq-recv").args(["--nonblock", &name]).timeout(PROMPT).run()?;
    done.expect_code(3)?.expect_stderr_line(&format!("mq-recv: {name}: queue empty"))?.expect_stdout(b"")?;
    Ok(())
}

/// `--timeout 700` on an empty queue: `timed out`, status 4, after at least
/// 700 ms and at most 1700 ms.
fn recv_timeout(ctx: &mut Ctx) -> Result<(), Fail> {
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
fn recv_timeout_message_in_time(ctx: &mut Ctx) -> Result<(), Fail> {
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
fn recv_timeout_each_receive(ctx: &mut Ctx) -> Result<(), Fail> {
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
fn recv_prints_each_at_once(ctx: &mut Ctx) -> Result<(), Fail> {
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
fn recv_unlink_only_on_success(ctx: &mut Ctx) -> Result<(), Fail> {
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
fn recv_missing_queue(ctx: &mut Ctx) -> Result<(), Fail> {
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
fn recv_unlink(ctx: &mut Ctx) -> Result<(), Fail> {
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
fn recv_all(ctx: &mut Ctx) -> Result<(), Fail> {
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
fn recv_usage(ctx: &mut Ctx) -> Result<(), Fail> {
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

// ---------------------------------------------------------------------------
// Both programs together.

/// Three mq-sends with priorities 3, 0 and 9, then `mq-recv --all --unlink`:
/// all three in priority order, and the queue is gone.
fn send_recv_together(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("pair");
    let _unlink = UnlinkAtEnd::new(ctx, &name);
    ctx.program("mq-send").args(["--priority", "3", &name, "a b"]).timeout(PROMPT).run()?.expect_code(0)?;
    ctx.program("mq-send").args([&name, "c"]).timeout(PROMPT).run()?.expect_code(0)?;
    ctx.program("mq-send").args(["--priority", "9", &name, "d"]).timeout(PROMPT).run()?.expect_code(0)?;
    let done = ctx.program("mq-recv").args(["--all", "--unlink", &name]).timeout(PROMPT).run()?;
    done.expect_code(0)?.expect_stdout(b"9 d\n3 a b\n0 c\n")?;
    ensure(!queue_exists(&name), || done.fail(format!("the queue {name} still exists after `mq-recv --all --unlink`")))
}
