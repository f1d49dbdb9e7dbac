//! Lab `mq`'s harness: the queue a check removes at its end, messages as
//! the programs print them, what a queue holds, and a program blocked in
//! a queue.

use std::time::{Duration, Instant};

use ipc_engine::check::{Fail, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::leaks::remove_queue;
use ipc_engine::proc::Proc;

use ipc_peers::mq as queue;
use ipc_peers::mq::{Attr, Message, Queue, show};

/// Removes the check's queue when the check ends, however it ends: the
/// queue is the grader's doing (or one the contract lets mq-send leave), so
/// it must not be reported as the student's leak. Where leaving no queue *is*
/// the behaviour under test (`--unlink`, a missing queue), the check looks
/// for it explicitly before this runs. The reproduction ends with the same
/// clean-up, so that it can be run again.
pub(super) struct UnlinkAtEnd(String, ipc_engine::ctx::Shown);

impl UnlinkAtEnd {
    pub(super) fn new(ctx: &Ctx, name: &str) -> UnlinkAtEnd {
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
pub(super) const PROMPT: Duration = Duration::from_secs(2);

/// Attributes the contract gives a queue mq-send creates without options.
pub(super) const DEFAULT_MAXMSG: i64 = 10;
pub(super) const DEFAULT_MSGSIZE: i64 = 1024;

pub(super) fn msg(priority: u32, text: &str) -> Message {
    (priority, text.as_bytes().to_vec())
}

/// What mq-recv prints for these messages.
pub(super) fn printed(messages: &[Message]) -> Vec<u8> {
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
pub(super) fn expect_queue_holds(
    ctx: &Ctx,
    name: &str,
    who: &str,
    expected: &[Message],
    hint: &str,
) -> Result<(), Fail> {
    let got = Queue::open(name, who)?.drain(ctx)?;
    ensure(got == expected, || {
        Fail::new(format!("after {who}, the queue does not hold the messages the contract says"))
            .expected(show(expected))
            .got(show(&got))
            .note(hint.to_string())
    })
}

/// Expects the queue's maximum size and message size.
pub(super) fn expect_attr(ctx: &Ctx, name: &str, who: &str, maxmsg: i64, msgsize: i64, hint: &str) -> Result<(), Fail> {
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
pub(super) fn wait_blocked(ctx: &Ctx, running: &mut Proc, waiting_for: &str) -> Result<(), Fail> {
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
