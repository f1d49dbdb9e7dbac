//! Lab `mq`: the checks of `mq-send`, checked by the grader's own
//! receiving side.

use ipc_engine::check::{Fail, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::leaks::queue_exists;

use ipc_peers::mq::{Attr, Message, Queue, show};

use super::harness::*;

/// `mq-send NAME hello` creates the queue (mode 0600, 10 messages of 1024
/// bytes) and leaves one message `hello` of priority 0 in it.
pub(super) fn send_creates_queue(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn send_keeps_boundaries(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn send_priority(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn send_attributes_on_create(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn send_attributes_existing_queue(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn send_nonblock_full(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn send_waits_when_full(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn send_message_too_long(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn send_usage(ctx: &mut Ctx) -> Result<(), Fail> {
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
