//! `mq-recv [--count N | --all] [--nonblock] [--timeout MS] [--unlink] NAME`:
//! receives messages from the existing POSIX message queue NAME, highest
//! priority first, and prints each as `PRIORITY MESSAGE`.

// This lab's shared code (src/mq/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mq;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ipc_common::{Context, Error, fault};
use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqdT, mq_getattr, mq_open, mq_receive, mq_timedreceive, mq_unlink};
use nix::sys::stat::Mode;
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};

/// Used in error messages: `mq-recv: NAME: REASON`.
const PROGRAM: &str = "mq-recv";
const USAGE: &str = "mq-recv [--count N | --all] [--nonblock] [--timeout MS] [--unlink] NAME";

/// Exit status when the queue is empty and `--nonblock` was given.
const EMPTY_STATUS: u8 = 3;
/// Exit status when `--timeout` expired.
const TIMEOUT_STATUS: u8 = 4;

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// How many messages to receive.
    #[arg(long, value_name = "N", default_value_t = 1, conflicts_with = if fault!("count-and-all") { "count" } else { "all" })]
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
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // clap cannot know the contract's IPC names: an invalid NAME is a usage
    // error too, found before anything touches the system.
    if !ipc_common::is_valid_ipc_name(&args.name) {
        return ipc_common::usage(USAGE);
    }
    ipc_common::finish(PROGRAM, receive(args))
}

/// The lab: open the queue, receive and print N messages (or all), unlink.
fn receive(args: Args) -> ipc_common::Result<()> {
    let name = args.name.as_str();
    let count = if fault!("ignore-count") { 1 } else { args.count };
    // No O_CREAT: a missing queue is an error (ENOENT), never a new queue.
    let mut flags = if fault!("creates-queue") { MQ_OFlag::O_RDONLY | MQ_OFlag::O_CREAT } else { MQ_OFlag::O_RDONLY };
    if args.nonblock || (args.all && !fault!("all-blocks")) || fault!("always-nonblock") {
        flags |= MQ_OFlag::O_NONBLOCK;
    }
    let queue = mq_open(name, flags, Mode::empty(), None);
    fault!("errno-name" => let queue = mq::faults::errno_name(queue, name)?);
    let queue = queue.context(name)?;
    // mq_receive fails with EMSGSIZE if the buffer is smaller than the
    // queue's mq_msgsize, so size it from the queue, not from a guess.
    let msgsize = mq_getattr(&queue).context(name)?.msgsize();
    let mut buf = vec![0u8; if fault!("fixed-buffer") { 1024 } else { usize::try_from(msgsize).unwrap_or(0) }];
    let mut line = Vec::with_capacity(buf.len() + 8);

    let mut received = 0;
    while args.all || received < count {
        // `--timeout` bounds each receive, not all of them together.
        let timeout = args.timeout.map(Duration::from_millis);
        fault!("one-deadline" => let timeout = mq::faults::left_of_first_deadline(timeout));
        match receive_one(&queue, &mut buf, timeout) {
            Ok((len, priority)) => print_message(&mut line, priority, &buf[..len]).context("stdout")?,
            Err(Errno::EAGAIN) if args.all => break,
            Err(Errno::EAGAIN) => {
                let status = if fault!("empty-status-1") { 1 } else { EMPTY_STATUS };
                return Err(Error::new(name, "queue empty").status(status));
            }
            Err(Errno::ETIMEDOUT) => {
                fault!("unlink-always" => if args.unlink { let _ = mq_unlink(name); });
                return Err(Error::new(name, "timed out").status(TIMEOUT_STATUS));
            }
            Err(e) => return Err(Error::new(name, e)),
        }
        received += 1;
    }
    fault!("flush-at-exit" => mq::faults::print_held_back());
    if args.unlink && !fault!("ignore-unlink") {
        mq_unlink(name).context(name)?;
    }
    Ok(())
}

/// Receives one message into `buf`, waiting at most `timeout` if given:
/// its length and priority.
fn receive_one(queue: &MqdT, buf: &mut [u8], timeout: Option<Duration>) -> nix::Result<(usize, u32)> {
    let mut priority = 0;
    let len = match timeout {
        // mq_timedreceive wants an absolute CLOCK_REALTIME time, not a duration.
        Some(timeout) => {
            let now =
                if fault!("relative-timeout") { TimeSpec::new(0, 0) } else { clock_gettime(ClockId::CLOCK_REALTIME)? };
            fault!("sleep-then-poll" => std::thread::sleep(timeout));
            mq_timedreceive(queue, buf, &mut priority, &(now + TimeSpec::from_duration(timeout)))?
        }
        None => mq_receive(queue, buf, &mut priority)?,
    };
    Ok((len, if fault!("priority-zero") { 0 } else { priority }))
}

/// Prints `PRIORITY MESSAGE` as one line, flushed at once: whoever reads
/// our output has it before we wait for the next message. The line is made
/// in `line` first, so that it leaves in one write(2).
fn print_message(line: &mut Vec<u8>, priority: u32, message: &[u8]) -> std::io::Result<()> {
    line.clear();
    write!(line, "{priority}{}", if fault!("colon-format") { ": " } else { " " })?;
    line.extend_from_slice(message);
    line.push(b'\n');
    fault!("flush-at-exit" => { mq::faults::hold_back(line); return Ok(()) });
    let mut out = std::io::stdout().lock();
    out.write_all(line)?;
    out.flush()
}
