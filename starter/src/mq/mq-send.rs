//! `mq-send [--priority P] [--nonblock] [--maxmsg N] [--msgsize S] NAME MESSAGE...`
//!
//! Opens the POSIX message queue NAME for writing, creating it (mode 0600,
//! N messages of S bytes, default 10 x 1024) if it does not exist, and sends
//! each MESSAGE as one message of priority P (default 0). Prints nothing.
//! Queue full with `--nonblock`: `mq-send: NAME: queue full`, status 3.
//! MESSAGE too long for the queue: `mq-send: NAME: message too long`, status 1.
//! Read handouts/mq.md first; `cargo grade mq` checks it.

// This lab's shared code (src/mq/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mq;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `mq-send: NAME: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "mq-send";
const USAGE: &str = "mq-send [--priority P] [--nonblock] [--maxmsg N] [--msgsize S] NAME MESSAGE...";

/// The command line, parsed by clap (done for you: clap rejects a priority
/// above 32767 and sizes below 1).
#[derive(Parser)]
struct Args {
    /// Priority of every message (0 = lowest, at most 32767).
    #[arg(long, value_name = "P", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=32767))]
    priority: u32,
    /// Fail with status 3 instead of waiting when the queue is full.
    #[arg(long)]
    nonblock: bool,
    /// Capacity in messages of a queue this program creates.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(i64).range(1..))]
    maxmsg: i64,
    /// Largest message, in bytes, of a queue this program creates.
    #[arg(long, value_name = "S", default_value_t = 1024, value_parser = clap::value_parser!(i64).range(1..))]
    msgsize: i64,
    /// The queue's name, e.g. `/jobs`.
    name: String,
    /// The messages, sent in order.
    #[arg(required = true)]
    messages: Vec<OsString>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        // A usage error prints ONE line on stderr and exits with status 2:
        // `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    // NAME must also be a valid IPC name (`ipc_common::is_valid_ipc_name`),
    // which clap cannot know: a name it parsed comes here, past the `match`,
    // not into the `Err` arm above. An invalid NAME is a usage error too;
    // check it here, before anything touches the system.
    if !ipc_common::is_valid_ipc_name(&args.name) {
        todo!("an invalid NAME is a usage error too: `usage: {USAGE}`, status 2")
    }
    ipc_common::finish(PROGRAM, send(args))
}

/// The lab. The steps, each with its man page (`man 7 mq_overview` first):
///
/// 1. Open the queue with `nix::mqueue::mq_open(name, flags, mode, attr)`
///    (mq_open(3)). Flags: `MQ_OFlag::O_WRONLY | MQ_OFlag::O_CREAT`, plus
///    `O_NONBLOCK` for `--nonblock`. Not `O_EXCL`: an existing queue is fine.
///    Mode: `Mode::from_bits_truncate(0o600)`. Attributes:
///    `Some(&MqAttr::new(0, maxmsg, msgsize, 0))`; the kernel uses them only
///    when this call creates the queue, and an existing queue keeps its own.
///    Never `None` here: with `None` nix calls the two-argument C `mq_open`,
///    and your mode is silently dropped too (handouts/mq.md#queue-attributes).
/// 2. For each MESSAGE: `mq_send(&queue, bytes, priority)` (mq_send(3)).
///    One call is one message: the receiver gets exactly these bytes, so send
///    `OsStrExt::as_bytes` of the argument, nothing added.
/// 3. The errors the contract names:
///    - `Errno::EAGAIN` (only with O_NONBLOCK): the queue is full. Print
///      `queue full` and exit 3: `ipc_common::fail_with(3, PROGRAM, name, "queue full")`.
///      What was already sent stays in the queue.
///    - `Errno::EMSGSIZE`: longer than the queue's `mq_msgsize`. Print
///      `message too long`, exit 1. Never cut the message short.
///    - Anything else: `ipc_common::fail(PROGRAM, name, errno.desc())`.
///      (`desc()` is the bare OS text; nix's `Display` adds `ENOENT: ` in front.)
///
/// Do not unlink the queue: it must outlive mq-send for mq-recv to find it.
fn send(args: Args) -> ipc_common::Result<()> {
    let _ = args;
    todo!("open (or create) the queue and send each MESSAGE (the steps above)")
}
