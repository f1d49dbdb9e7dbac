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
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // Given: NAME must also be a valid IPC name (`/` and 1 to 254 bytes
    // without another `/`), which clap cannot know: a usage error too.
    if !ipc_common::is_valid_ipc_name(&args.name) {
        return ipc_common::usage(USAGE);
    }
    ipc_common::finish(PROGRAM, receive(args))
}

/// The lab: open the existing queue NAME for reading (never creating it),
/// receive the messages asked for and print each as `PRIORITY MESSAGE`.
///
/// Pitfalls:
/// - A receive buffer smaller than the queue's message size fails, even
///   for a short message: size it from the queue, not from a guess.
/// - The kernel hands out the highest priority first, the oldest first
///   within a priority.
/// - Whoever reads your output waits for each line before sending the
///   next message: print each one at once.
/// - `--all` and `--nonblock` must never wait; an empty queue is the end
///   of `--all`, but `queue empty` (exit 3) for `--nonblock`.
/// - `--timeout MS` bounds each receive, not all of them together, and the
///   timed receive takes an absolute time on CLOCK_REALTIME. It returns as
///   soon as a message arrives: never sleep first.
/// - `--unlink` removes the queue only on the way to exit 0: after
///   `queue empty` or `timed out` the queue stays.
///
/// Read: mq_overview(7), mq_open(3), mq_getattr(3), mq_receive(3)
/// (mq_timedreceive), clock_gettime(2), mq_unlink(3); handouts/mq.md.
/// Stuck? `cargo grade --hint mq-recv` shows one hint at a time.
fn receive(args: Args) -> ipc_common::Result<()> {
    let _ = args;
    todo!("open the queue and receive the messages")
}
