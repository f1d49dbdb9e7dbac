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
use ipc_common::{fail, fail_with};
use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, mq_open, mq_send};
use nix::sys::stat::Mode;

const PROGRAM: &str = "mq-send";
const USAGE: &str = "mq-send [--priority P] [--nonblock] [--maxmsg N] [--msgsize S] NAME MESSAGE...";

/// Exit status when the queue is full and `--nonblock` was given.
const FULL_STATUS: u8 = 3;

#[derive(Parser)]
struct Args {
    /// Priority of every message (0 = lowest).
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
    if !ipc_common::is_valid_ipc_name(&args.name) {
        return ipc_common::usage(USAGE);
    }
    let mut flags = MQ_OFlag::O_WRONLY | MQ_OFlag::O_CREAT;
    if args.nonblock {
        flags |= MQ_OFlag::O_NONBLOCK;
    }
    // The attributes count only if this call creates the queue; an existing
    // queue keeps its own. (mq_flags and mq_curmsgs are ignored by mq_open.)
    let attr = MqAttr::new(0, args.maxmsg, args.msgsize, 0);
    let queue = match mq_open(args.name.as_str(), flags, Mode::from_bits_truncate(0o600), Some(&attr)) {
        Ok(queue) => queue,
        // desc() is the bare OS text; nix's Display would prefix `ENOENT: `.
        Err(e) => return fail(PROGRAM, &args.name, e.desc()),
    };
    for message in &args.messages {
        // One mq_send is one message: the receiver gets exactly these bytes.
        match mq_send(&queue, message.as_bytes(), args.priority) {
            Ok(()) => {}
            Err(Errno::EAGAIN) => return fail_with(FULL_STATUS, PROGRAM, &args.name, "queue full"),
            Err(Errno::EMSGSIZE) => return fail(PROGRAM, &args.name, "message too long"),
            Err(e) => return fail(PROGRAM, &args.name, e.desc()),
        }
    }
    ExitCode::SUCCESS
}
