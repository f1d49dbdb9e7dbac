//! `mq-send` with faults (see broken/faults/mq.toml).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use clap::Parser;
use ipc_broken::fault;
use ipc_common::{fail, fail_with};
use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, MqdT, mq_getattr, mq_open, mq_send, mq_unlink};
use nix::sys::stat::Mode;

const PROGRAM: &str = "mq-send";
const USAGE: &str = "mq-send [--priority P] [--nonblock] [--maxmsg N] [--msgsize S] NAME MESSAGE...";

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=32767))]
    priority: u32,
    #[arg(long)]
    nonblock: bool,
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(i64).range(1..))]
    maxmsg: i64,
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(i64).range(1..))]
    msgsize: i64,
    name: String,
    #[arg(required = true)]
    messages: Vec<OsString>,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if !fault("no-name-check") && !ipc_common::is_valid_ipc_name(&args.name) {
        return ipc_common::usage(USAGE);
    }
    let queue = match open(&args) {
        Ok(queue) => queue,
        Err(e) => return fail(PROGRAM, &args.name, e.desc()),
    };
    let mut messages: Vec<Vec<u8>> = args.messages.iter().map(|m| m.as_bytes().to_vec()).collect();
    if fault("join-messages") {
        messages = vec![messages.join(&b' ')];
    }
    for mut message in messages {
        if fault("nul-terminator") {
            message.push(0);
        }
        if fault("truncate-long") {
            let size = mq_getattr(&queue).map(|a| a.msgsize()).unwrap_or(1024) as usize;
            message.truncate(size);
        }
        let priority = if fault("ignore-priority") { 0 } else { args.priority };
        match mq_send(&queue, &message, priority) {
            Ok(()) => {}
            Err(Errno::EAGAIN) if fault("full-status-1") => return fail(PROGRAM, &args.name, "queue full"),
            Err(Errno::EAGAIN) => return fail_with(3, PROGRAM, &args.name, "queue full"),
            Err(Errno::EMSGSIZE) => return fail(PROGRAM, &args.name, "message too long"),
            Err(e) => return fail(PROGRAM, &args.name, e.desc()),
        }
    }
    ExitCode::SUCCESS
}

fn open(args: &Args) -> nix::Result<MqdT> {
    let mut flags = MQ_OFlag::O_WRONLY;
    if !fault("no-create") {
        flags |= MQ_OFlag::O_CREAT;
    }
    if (args.nonblock && !fault("ignore-nonblock")) || fault("always-nonblock") {
        flags |= MQ_OFlag::O_NONBLOCK;
    }
    let mode = Mode::from_bits_truncate(if fault("mode-0644") { 0o644 } else { 0o600 });
    let attr = MqAttr::new(0, args.maxmsg, args.msgsize, 0);
    let attr = if fault("ignore-attributes") { None } else { Some(&attr) };
    if fault("recreate-existing") {
        match mq_open(args.name.as_str(), flags | MQ_OFlag::O_EXCL, mode, attr) {
            Err(Errno::EEXIST) => {
                mq_unlink(args.name.as_str())?;
            }
            other => return other,
        }
    }
    mq_open(args.name.as_str(), flags, mode, attr)
}
