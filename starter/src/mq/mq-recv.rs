//! `mq-recv [--count N | --all] [--nonblock] [--timeout MS] [--unlink] NAME`
//!
//! Opens the existing POSIX message queue NAME for reading (never creating
//! it) and receives N messages (default 1), printing each as
//! `PRIORITY MESSAGE` on its own line. `--all`: until the queue is empty,
//! without waiting. Empty queue with `--nonblock`: `queue empty`, status 3;
//! with `--timeout MS`: `timed out` after MS milliseconds, status 4.
//! `--unlink` removes the queue once all went well. Read handouts/mq.md first;
//! `cargo grade mq` checks it.

// This lab's shared code (src/mq/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mq;

use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `mq-recv: NAME: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "mq-recv";
const USAGE: &str = "mq-recv [--count N | --all] [--nonblock] [--timeout MS] [--unlink] NAME";

/// The command line, parsed by clap (done for you: `--count` together with
/// `--all` is already rejected).
#[derive(Parser)]
struct Args {
    /// How many messages to receive.
    #[arg(long, value_name = "N", default_value_t = 1, conflicts_with = "all")]
    count: u64,
    /// Receive until the queue is empty, without waiting.
    #[arg(long)]
    all: bool,
    /// Fail with status 3 instead of waiting when the queue is empty.
    #[arg(long)]
    nonblock: bool,
    /// Wait at most MS milliseconds for each message.
    #[arg(long, value_name = "MS")]
    timeout: Option<u64>,
    /// Remove the queue after receiving.
    #[arg(long)]
    unlink: bool,
    /// The queue's name, e.g. `/jobs`.
    name: String,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        // A usage error prints ONE line on stderr and exits with status 2:
        // `ipc_common::usage(USAGE)`.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    // An invalid NAME (`!ipc_common::is_valid_ipc_name`) is a usage error
    // too. clap parsed it as any string, so it comes here, past the
    // `match`: check it here, before anything touches the system.
    if !ipc_common::is_valid_ipc_name(&args.name) {
        todo!("an invalid NAME is a usage error too: `usage: {USAGE}`, status 2")
    }
    ipc_common::finish(PROGRAM, receive(args))
}

/// The lab. The steps, each with its man page (`man 7 mq_overview` first):
///
/// 1. `nix::mqueue::mq_open(name, MQ_OFlag::O_RDONLY, Mode::empty(), None)`:
///    no `O_CREAT`, so a missing queue fails with ENOENT
///    (`mq-recv: NAME: No such file or directory`, exit 1; use `errno.desc()`,
///    the bare text). Add `O_NONBLOCK` for `--nonblock` and for `--all`.
/// 2. Size the buffer from the queue: `mq_getattr(&queue)?.msgsize()`.
///    mq_receive(3) fails with EMSGSIZE if the buffer is smaller than the
///    queue's message size, even for a short message. A fixed 1024 is wrong.
/// 3. Receive: `mq_receive(&queue, &mut buf, &mut priority)` returns the
///    message's length; the kernel hands out the highest priority first, the
///    oldest first within a priority. Print `{priority} `, then `buf[..len]`,
///    then `\n`, and flush stdout at once (`out.flush()`): whoever reads
///    mq-recv's output waits for each line, before the next message comes.
///    - `Errno::EAGAIN` (O_NONBLOCK, empty queue): with `--all` you are done;
///      otherwise `queue empty`, exit 3 (`ipc_common::fail_with`).
///    - `--timeout MS`: `mq_timedreceive(&queue, &mut buf, &mut priority, &deadline)`
///      with an ABSOLUTE deadline on CLOCK_REALTIME:
///      `clock_gettime(ClockId::CLOCK_REALTIME)? + TimeSpec::from_duration(...)`,
///      computed again before EACH receive: MS bounds every receive, not
///      all of them together. `Errno::ETIMEDOUT`: `timed out`, exit 4. It
///      returns as soon as a message arrives: never sleep first.
/// 4. `--unlink`: `mq_unlink(name)` after receiving everything, on the way
///    to exit 0, and only then: after `queue empty` or `timed out` the queue
///    stays. Without `--unlink` the queue stays too, like a file.
fn receive(args: Args) -> ipc_common::Result<()> {
    let _ = args;
    todo!("open the queue and receive the messages (the steps above)")
}
