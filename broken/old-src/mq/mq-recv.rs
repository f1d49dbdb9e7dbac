//! `mq-recv` with faults (see broken/faults/mq.toml).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ipc_broken::fault;
use ipc_common::{fail, fail_with};
use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, MqdT, mq_getattr, mq_open, mq_receive, mq_timedreceive, mq_unlink};
use nix::sys::stat::Mode;
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};

const PROGRAM: &str = "mq-recv";
const USAGE: &str = "mq-recv [--count N | --all] [--nonblock] [--timeout MS] [--unlink] NAME";

#[derive(Parser)]
struct Args {
    #[arg(long)]
    count: Option<u64>,
    #[arg(long)]
    all: bool,
    #[arg(long)]
    nonblock: bool,
    #[arg(long)]
    timeout: Option<u64>,
    #[arg(long)]
    unlink: bool,
    name: String,
}

enum Stop {
    Empty,
    TimedOut,
    Failed(Errno),
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if !ipc_common::is_valid_ipc_name(&args.name) || (args.count.is_some() && args.all && !fault("count-and-all")) {
        return ipc_common::usage(USAGE);
    }
    let mut flags = MQ_OFlag::O_RDONLY;
    if args.nonblock || (args.all && !fault("all-blocks")) || fault("always-nonblock") {
        flags |= MQ_OFlag::O_NONBLOCK;
    }
    let (mode, attr) = if fault("creates-queue") {
        flags |= MQ_OFlag::O_CREAT;
        (Mode::from_bits_truncate(0o600), Some(MqAttr::new(0, 10, 1024, 0)))
    } else {
        (Mode::empty(), None)
    };
    let queue = match mq_open(args.name.as_str(), flags, mode, attr.as_ref()) {
        Ok(queue) => queue,
        // nix's Display text, `ENOENT: No such file or directory`, whatever ipc_common does.
        Err(e) if fault("errno-name") => {
            eprintln!("{PROGRAM}: {}: {e}", args.name);
            return ExitCode::from(1);
        }
        Err(e) => return fail(PROGRAM, &args.name, e.desc()),
    };
    let msgsize = match mq_getattr(&queue) {
        Ok(attr) => attr.msgsize(),
        Err(e) => return fail(PROGRAM, &args.name, e.desc()),
    };
    let size = if fault("fixed-buffer") { 1024 } else { msgsize as usize };
    let mut buf = vec![0u8; size];
    let count = if fault("ignore-count") { 1 } else { args.count.unwrap_or(1) };
    let mut received = 0u64;
    while args.all || received < count {
        let (len, priority) = match receive(&queue, &mut buf, args.timeout) {
            Ok(got) => got,
            Err(Stop::Empty) if args.all => break,
            Err(Stop::Empty) if fault("empty-status-1") => return fail(PROGRAM, &args.name, "queue empty"),
            Err(Stop::Empty) => return fail_with(3, PROGRAM, &args.name, "queue empty"),
            Err(Stop::TimedOut) => return fail_with(4, PROGRAM, &args.name, "timed out"),
            Err(Stop::Failed(e)) => return fail(PROGRAM, &args.name, e.desc()),
        };
        let priority = if fault("priority-zero") { 0 } else { priority };
        let mut out = std::io::stdout().lock();
        let sep: &[u8] = if fault("colon-format") { b": " } else { b" " };
        let _ = write!(out, "{priority}")
            .and_then(|()| out.write_all(sep))
            .and_then(|()| out.write_all(&buf[..len]))
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        received += 1;
    }
    if args.unlink && !fault("ignore-unlink") {
        if let Err(e) = mq_unlink(args.name.as_str()) {
            return fail(PROGRAM, &args.name, e.desc());
        }
    }
    ExitCode::SUCCESS
}

fn receive(queue: &MqdT, buf: &mut [u8], timeout_ms: Option<u64>) -> Result<(usize, u32), Stop> {
    let mut priority = 0u32;
    let result = match timeout_ms {
        Some(ms) if fault("sleep-then-poll") => {
            std::thread::sleep(Duration::from_millis(ms));
            let _ = nix::mqueue::mq_set_nonblock(queue);
            match mq_receive(queue, buf, &mut priority) {
                Err(Errno::EAGAIN) => Err(Errno::ETIMEDOUT),
                other => other,
            }
        }
        Some(ms) => {
            let wait = TimeSpec::from_duration(Duration::from_millis(ms));
            let deadline = if fault("relative-timeout") {
                wait
            } else {
                clock_gettime(ClockId::CLOCK_REALTIME).map_err(Stop::Failed)? + wait
            };
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
