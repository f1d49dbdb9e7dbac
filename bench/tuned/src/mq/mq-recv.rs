//! `mq-recv [--count N | --all] [--nonblock] [--timeout MS] [--unlink] NAME`:
//! receives messages from the existing POSIX message queue NAME, highest
//! priority first, and prints each as `PRIORITY MESSAGE`.
//!
//! The tuned variant (bench/tuned/README.md): the reference's mq-recv as it
//! was before issue 31. It starts as a C program does, in `main(argc, argv)` (see src/mq/mod.rs,
//! [`mq::c_args`]), so nothing flushes standard output at exit: every line
//! goes out with its own write(2).
#![no_main]

// This lab's shared code (src/mq/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mq;

use std::ffi::{c_char, c_int};
use std::fs::File;
use std::io::Write;
use std::time::Duration;

use ipc_common::{fail, fail_with};
use mq::{Usage, Word, Words};
use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqdT, mq_getattr, mq_open, mq_receive, mq_timedreceive, mq_unlink};
use nix::sys::stat::Mode;
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};

const PROGRAM: &str = "mq-recv";
const USAGE: &str = "mq-recv [--count N | --all] [--nonblock] [--timeout MS] [--unlink] NAME";

/// Exit status when the queue is empty and `--nonblock` was given.
const EMPTY_STATUS: u8 = 3;
/// Exit status when `--timeout` expired.
const TIMEOUT_STATUS: u8 = 4;

struct Args {
    /// How many messages to receive.
    count: u64,
    /// Receive until the queue is empty, without waiting.
    all: bool,
    /// Fail with status 3 instead of waiting when the queue is empty.
    nonblock: bool,
    /// Wait at most MS milliseconds for each message.
    timeout: Option<u64>,
    /// Remove the queue after receiving.
    unlink: bool,
    /// The queue's name, e.g. `/jobs`.
    name: &'static str,
}

/// Reads the command line (see src/mq/mod.rs for why not clap).
fn parse(mut words: Words) -> Result<Args, Usage> {
    let mut args = Args { count: 1, all: false, nonblock: false, timeout: None, unlink: false, name: "" };
    let (mut count_given, mut name) = (false, None);
    while let Some(word) = words.next_word()? {
        match word {
            Word::Option(option) => match option {
                "--count" => (args.count, count_given) = (words.number(..)?, true),
                "--all" => args.all = true,
                "--nonblock" => args.nonblock = true,
                "--timeout" => args.timeout = Some(words.number(..)?),
                "--unlink" => args.unlink = true,
                _ => return Err(Usage),
            },
            Word::Operand(_) if name.is_some() => return Err(Usage), // one NAME only
            Word::Operand(operand) => name = Some(mq::text(operand)?),
        }
    }
    // `--count N` and `--all` contradict each other.
    if count_given && args.all {
        return Err(Usage);
    }
    args.name = name.ok_or(Usage)?;
    Ok(args)
}

/// Why receiving stopped early.
enum Stop {
    Empty,
    TimedOut,
    Failed(Errno),
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
    receive_all(args)
}

/// Receives and prints the messages: the program's exit status.
fn receive_all(args: Args) -> c_int {
    if !ipc_common::is_valid_ipc_name(args.name) {
        return ipc_common::usage(USAGE);
    }
    // No O_CREAT: a missing queue is an error (ENOENT), never a new queue.
    let mut flags = MQ_OFlag::O_RDONLY;
    if args.nonblock || args.all {
        flags |= MQ_OFlag::O_NONBLOCK;
    }
    let queue = match mq_open(args.name, flags, Mode::empty(), None) {
        Ok(queue) => queue,
        Err(e) => return fail(PROGRAM, args.name, e.desc()),
    };
    let msgsize = match mq_getattr(&queue) {
        Ok(attr) => attr.msgsize(),
        Err(e) => return fail(PROGRAM, args.name, e.desc()),
    };
    let mut buf = vec![0u8; usize::try_from(msgsize).unwrap_or(0)];
    // Each line is built here, then written with one write(2) straight to
    // descriptor 1: printed and flushed at once, in one system call.
    let mut line = Vec::with_capacity(buf.len() + 8);
    let mut out = match ipc_common::raw_stdout() {
        Ok(out) => out,
        Err(e) => return fail(PROGRAM, "stdout", ipc_common::os_reason(&e)),
    };
    let mut received = 0u64;
    while args.all || received < args.count {
        let (len, priority) = match receive(&queue, &mut buf, args.timeout) {
            Ok(got) => got,
            Err(Stop::Empty) if args.all => break,
            Err(Stop::Empty) => return fail_with(EMPTY_STATUS, PROGRAM, args.name, "queue empty"),
            Err(Stop::TimedOut) => return fail_with(TIMEOUT_STATUS, PROGRAM, args.name, "timed out"),
            Err(Stop::Failed(e)) => return fail(PROGRAM, args.name, e.desc()),
        };
        if let Err(e) = print_message(&mut out, &mut line, priority, &buf[..len]) {
            return fail(PROGRAM, "stdout", ipc_common::os_reason(&e));
        }
        received += 1;
    }
    if args.unlink {
        if let Err(e) = mq_unlink(args.name) {
            return fail(PROGRAM, args.name, e.desc());
        }
    }
    0
}

/// Receives one message into `buf`: its length and priority.
fn receive(queue: &MqdT, buf: &mut [u8], timeout_ms: Option<u64>) -> Result<(usize, u32), Stop> {
    let mut priority = 0u32;
    let result = match timeout_ms {
        // mq_timedreceive wants an absolute CLOCK_REALTIME time, not a duration.
        Some(ms) => {
            let now = clock_gettime(ClockId::CLOCK_REALTIME).map_err(Stop::Failed)?;
            let deadline = now + TimeSpec::from_duration(Duration::from_millis(ms));
            mq_timedreceive(queue, buf, &mut priority, &deadline)
        }
        None => mq_receive(queue, buf, &mut priority),
    };
    match result {
        Ok(len) => Ok((len, priority)),
        Err(Errno::EAGAIN) => Err(Stop::Empty),
        Err(Errno::ETIMEDOUT) => Err(Stop::TimedOut),
        Err(e) => Err(Stop::Failed(e)),
    }
}

/// Prints `PRIORITY MESSAGE` as one line, built in `line` and written with
/// one write(2).
fn print_message(out: &mut File, line: &mut Vec<u8>, priority: u32, message: &[u8]) -> std::io::Result<()> {
    line.clear();
    write!(line, "{priority} ")?;
    line.extend_from_slice(message);
    line.push(b'\n');
    out.write_all(line)
}
