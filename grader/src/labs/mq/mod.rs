//! Lab `mq`: POSIX message queues (`mq-send`, `mq-recv`).
//!
//! Each program is tested on its own against the grader's trusted side of
//! the queue (`ipc_peers::mq`: nix called from the check), plus one check
//! of the two together. Queues are named with `ctx.ipc_name`, so the
//! engine's leak check probes them after every check; each check removes
//! its own queue at the end (`UnlinkAtEnd`) and tests explicitly where a
//! program must remove a queue or must not create one.
//!
//! The checks of `mq-send` are in `send.rs`, those of `mq-recv` in
//! `recv.rs`, and the one of both below; `harness.rs` has what they share.

use ipc_engine::check::{Check, Fail, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::leaks::queue_exists;

mod harness;
mod recv;
mod send;

use harness::*;
use recv::*;
use send::*;

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
