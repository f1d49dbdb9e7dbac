//! `ring-consumer [--wait MS] NAME`: waits for the ring NAME, copies its
//! stream to stdout, and removes NAME at the end.

// This lab's shared code (src/ring/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod ring;

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Parser;
use ipc_common::{Context, Error, fault};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::{Mode, fstat};
use ring::{DATA_OFFSET, MAGIC, MAGIC_OFFSET, Ring};

/// Used in error messages: `ring-consumer: CONTEXT: REASON`.
const PROGRAM: &str = "ring-consumer";
const USAGE: &str = "ring-consumer [--wait MS] NAME";

/// How often to look for the producer's ring while waiting for it.
const RETRY: Duration = Duration::from_millis(5);

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// How long to wait for the producer, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10000)]
    wait: u64,
    /// The shared-memory object, e.g. `/ring`.
    name: String,
}

/// What looking for the ring found.
enum Found {
    Ready(Ring),
    /// Not there yet, or not initialised yet: look again later.
    NotYet,
    NotARing,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return if fault!("usage-status-1") { ExitCode::FAILURE } else { code },
    };
    // An invalid IPC name is a usage error too.
    if !ipc_common::is_valid_ipc_name(&args.name) {
        return ipc_common::usage(USAGE);
    }
    ipc_common::finish(PROGRAM, consume(&args.name, args.wait))
}

/// The lab's consumer side: wait for the ring, copy it to stdout, unlink it.
fn consume(name: &str, wait_ms: u64) -> ipc_common::Result<()> {
    let wait_ms = if fault!("ignore-wait") { 10000 } else { wait_ms };
    let deadline = Instant::now() + Duration::from_millis(wait_ms);
    let ring = loop {
        match look_for(name).context(name)? {
            Found::Ready(ring) => break ring,
            Found::NotARing => return Err(Error::new(name, "not a ring buffer")),
            Found::NotYet => {}
        }
        fault!("no-retry" => return Err(ring::faults::gave_up(name)));
        let now = Instant::now();
        if now >= deadline {
            return Err(Error::new(name, "timed out waiting for producer"));
        }
        if !fault!("busy-retry") {
            std::thread::sleep(RETRY.min(deadline - now));
        }
    };
    ipc_common::raw_stdout().and_then(|mut out| ring.consume(&mut out)).context("stdout")?;
    // The producer has finished and every byte is out: nobody needs NAME now.
    fault!("no-unlink" => return Ok(()));
    shm_unlink(name).context(name)
}

/// Opens and maps NAME if it exists and its producer has stored the magic.
fn look_for(name: &str) -> nix::Result<Found> {
    let fd = match shm_open(name, OFlag::O_RDWR, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(Found::NotYet),
        Err(e) => return Err(e),
    };
    let size = usize::try_from(fstat(&fd)?.st_size).unwrap_or(0);
    // The producer creates the object empty, then sizes it: wait for that.
    if size < DATA_OFFSET {
        return Ok(Found::NotYet);
    }
    let ring = Ring::map_shared(&fd, size)?;
    match ring.field(MAGIC_OFFSET).load(Ordering::Acquire) {
        0 => Ok(Found::NotYet),
        _ if fault!("no-magic-check") => Ok(Found::Ready(ring)),
        MAGIC if ring.capacity_fits() => Ok(Found::Ready(ring)),
        _ => Ok(Found::NotARing),
    }
}
