//! `mq-send [--priority P] [--nonblock] [--maxmsg N] [--msgsize S] NAME MESSAGE...`:
//! sends each MESSAGE as one message on the POSIX message queue NAME,
//! creating the queue if it does not exist.

// This lab's shared code (src/mq/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mq;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use clap::Parser;
use ipc_common::{Context, Error, fault};
use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, mq_open, mq_send};
use nix::sys::stat::Mode;

/// Used in error messages: `mq-send: NAME: REASON`.
const PROGRAM: &str = "mq-send";
const USAGE: &str = "mq-send [--priority P] [--nonblock] [--maxmsg N] [--msgsize S] NAME MESSAGE...";

/// Exit status when the queue is full and `--nonblock` was given.
const FULL_STATUS: u8 = 3;

/// The command line, parsed by clap.
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
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // clap cannot know the contract's IPC names: an invalid NAME is a usage
    // error too, found before anything touches the system.
    if !ipc_common::is_valid_ipc_name(&args.name) && !fault!("no-name-check") {
        return ipc_common::usage(USAGE);
    }
    ipc_common::finish(PROGRAM, send(args))
}

/// The lab: open (or create) the queue, send each MESSAGE as one message.
fn send(args: Args) -> ipc_common::Result<()> {
    let name = args.name.as_str();
    let mut flags = if fault!("no-create") { MQ_OFlag::O_WRONLY } else { MQ_OFlag::O_WRONLY | MQ_OFlag::O_CREAT };
    if (args.nonblock && !fault!("ignore-nonblock")) || fault!("always-nonblock") {
        flags |= MQ_OFlag::O_NONBLOCK;
    }
    fault!("recreate-existing" => let _ = nix::mqueue::mq_unlink(name));
    // The attributes count only if this call creates the queue; an existing
    // queue keeps its own. (mq_flags and mq_curmsgs are ignored by mq_open.)
    let attr = MqAttr::new(0, args.maxmsg, args.msgsize, 0);
    let attr = if fault!("ignore-attributes") { None } else { Some(&attr) };
    let mode = Mode::from_bits_truncate(if fault!("mode-0644") { 0o644 } else { 0o600 });
    let queue = mq_open(name, flags, mode, attr).context(name)?;

    let messages = args.messages;
    fault!("join-messages" => let messages = mq::faults::joined(messages));
    fault!("nul-terminator" => let messages = mq::faults::nul_terminated(messages));
    let priority = if fault!("ignore-priority") { 0 } else { args.priority };
    for message in &messages {
        let message = message.as_bytes();
        fault!("truncate-long" => let message = mq::faults::cut_to_queue_size(&queue, message));
        // One mq_send is one message: the receiver gets exactly these bytes.
        match mq_send(&queue, message, priority) {
            Ok(()) => {}
            Err(Errno::EAGAIN) => {
                let status = if fault!("full-status-1") { 1 } else { FULL_STATUS };
                return Err(Error::new(name, "queue full").status(status));
            }
            Err(Errno::EMSGSIZE) => return Err(Error::new(name, "message too long")),
            Err(e) => return Err(Error::new(name, e)),
        }
    }
    Ok(())
}
