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
    ipc_common::finish(PROGRAM, send(args))
}

/// The lab: open the queue NAME for writing, creating it (mode 0600,
/// `maxmsg` messages of `msgsize` bytes) if it does not exist, and send
/// each MESSAGE as one message of `priority`.
///
/// Pitfalls:
/// - An existing queue is fine, and keeps its own attributes: the ones
///   given are for a queue this call creates.
/// - nix's `mq_open` with no attributes calls the C function without them,
///   and the mode is then dropped too (handouts/mq.md#queue-attributes).
/// - One call is one message: the receiver gets exactly its bytes, nothing
///   added.
/// - A full queue: with `--nonblock`, `mq-send: NAME: queue full`, exit 3
///   (what was sent stays); without, wait. A message longer than the
///   queue's message size: `message too long`, exit 1, never cut short.
/// - nix's `Errno` prints as `EAGAIN: ...`; the contract wants the OS's
///   text alone (`Errno::desc`).
/// - Never remove the queue: mq-recv must find it.
///
/// Read: mq_overview(7), mq_open(3), mq_send(3); handouts/mq.md.
/// Stuck? `cargo grade --hint mq-send` shows one hint at a time.
fn send(args: Args) -> ipc_common::Result<()> {
    let _ = args;
    todo!("open (or create) the queue and send each MESSAGE")
}
