//! `mq-send [--priority P] [--nonblock] [--maxmsg N] [--msgsize S] NAME MESSAGE...`:
//! sends each MESSAGE as one message on the POSIX message queue NAME,
//! creating the queue if it does not exist.
//!
//! The tuned variant (bench/tuned/README.md): the reference's mq-send as it
//! was before issue 31. It starts as a C program does, in `main(argc,
//! argv)`, and sends each message from where the kernel put it (see
//! src/mq/mod.rs, [`mq::c_args`]).
#![no_main]

// This lab's shared code (src/mq/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mq;

use std::ffi::{c_char, c_int};

use ipc_common::{fail, fail_with};
use mq::{Arg, Usage, Word, Words};
use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, mq_open, mq_send};
use nix::sys::stat::Mode;

const PROGRAM: &str = "mq-send";
const USAGE: &str = "mq-send [--priority P] [--nonblock] [--maxmsg N] [--msgsize S] NAME MESSAGE...";

/// Exit status when the queue is full and `--nonblock` was given.
const FULL_STATUS: u8 = 3;

struct Args {
    /// Priority of every message (0 = lowest, at most 32767).
    priority: u32,
    /// Fail with status 3 instead of waiting when the queue is full.
    nonblock: bool,
    /// Capacity in messages of a queue this program creates.
    maxmsg: i64,
    /// Largest message, in bytes, of a queue this program creates.
    msgsize: i64,
    /// The queue's name, e.g. `/jobs`.
    name: &'static str,
    /// The messages, sent in order, where `main` found them.
    messages: Vec<Arg>,
}

/// Reads the command line (see src/mq/mod.rs for why not clap).
fn parse(mut words: Words) -> Result<Args, Usage> {
    let mut args = Args { priority: 0, nonblock: false, maxmsg: 10, msgsize: 1024, name: "", messages: vec![] };
    let mut operands = Vec::new();
    while let Some(word) = words.next_word()? {
        match word {
            Word::Option(option) => match option {
                "--priority" => args.priority = words.number(0..=32767)?,
                "--nonblock" => args.nonblock = true,
                "--maxmsg" => args.maxmsg = words.number(1..)?,
                "--msgsize" => args.msgsize = words.number(1..)?,
                _ => return Err(Usage),
            },
            // A message is a pointer to its bytes, where execve(2) put them.
            Word::Operand(operand) => operands.push(operand),
        }
    }
    let mut operands = operands.into_iter();
    args.name = mq::text(operands.next().ok_or(Usage)?)?;
    args.messages = operands.collect();
    if args.messages.is_empty() {
        return Err(Usage); // at least one MESSAGE
    }
    Ok(args)
}

/// The C entry point: the C library calls it with the command line and
/// exits with the status it returns.
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: argc and argv are main's own, from the C library.
    let words = Words::new(unsafe { mq::c_args(argc, argv) });
    let Ok(args) = parse(words) else {
        return ipc_common::usage(USAGE);
    };
    send(args)
}

/// Sends the messages: the program's exit status.
fn send(args: Args) -> c_int {
    if !ipc_common::is_valid_ipc_name(args.name) {
        return ipc_common::usage(USAGE);
    }
    let mut flags = MQ_OFlag::O_WRONLY | MQ_OFlag::O_CREAT;
    if args.nonblock {
        flags |= MQ_OFlag::O_NONBLOCK;
    }
    // The attributes count only if this call creates the queue.
    let attr = MqAttr::new(0, args.maxmsg, args.msgsize, 0);
    let queue = match mq_open(args.name, flags, Mode::from_bits_truncate(0o600), Some(&attr)) {
        Ok(queue) => queue,
        Err(e) => return fail(PROGRAM, args.name, e.desc()),
    };
    // Each message is measured as it is sent (Arg::bytes), so the kernel's
    // copy finds it in the cache.
    for message in &args.messages {
        match mq_send(&queue, message.bytes(), args.priority) {
            Ok(()) => {}
            Err(Errno::EAGAIN) => return fail_with(FULL_STATUS, PROGRAM, args.name, "queue full"),
            Err(Errno::EMSGSIZE) => return fail(PROGRAM, args.name, "message too long"),
            Err(e) => return fail(PROGRAM, args.name, e.desc()),
        }
    }
    0
}
