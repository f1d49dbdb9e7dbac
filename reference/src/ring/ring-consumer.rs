//! `ring-consumer [--wait MS] NAME`: waits for the ring NAME, copies its
//! stream to stdout, and removes NAME at the end.

// This lab's shared code (src/ring/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod ring;

use std::ffi::CString;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use ipc_common::{fail, is_valid_ipc_name, os_reason};
use ring::{DATA_OFFSET, MAGIC, Ring};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::{Mode, fstat};

const PROGRAM: &str = "ring-consumer";
const USAGE: &str = "ring-consumer [--wait MS] NAME";

/// How often to look for the producer's ring while waiting for it.
const RETRY: Duration = Duration::from_millis(5);

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
        Err(code) => return code,
    };
    if !is_valid_ipc_name(&args.name) {
        return ipc_common::usage(USAGE);
    }
    let name = CString::new(args.name.as_str()).expect("a valid IPC name holds no NUL byte");

    let deadline = Instant::now() + Duration::from_millis(args.wait);
    let ring = loop {
        match look_for(&name) {
            Ok(Found::Ready(ring)) => break ring,
            Ok(Found::NotARing) => return fail(PROGRAM, &args.name, "not a ring buffer"),
            Ok(Found::NotYet) => {}
            Err(e) => return fail(PROGRAM, &args.name, e.desc()),
        }
        let now = Instant::now();
        if now >= deadline {
            return fail(PROGRAM, &args.name, "timed out waiting for producer");
        }
        std::thread::sleep(RETRY.min(deadline - now));
    };

    let copied = ipc_common::raw_stdout().and_then(|mut out| ring.consume(&mut out));
    // The producer has finished and every byte is out: nobody needs NAME now.
    if let Err(e) = copied {
        return fail(PROGRAM, "stdout", os_reason(&e));
    }
    match shm_unlink(name.as_c_str()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(PROGRAM, &args.name, e.desc()),
    }
}

/// Opens and maps NAME if it exists and its producer has stored the magic.
fn look_for(name: &CString) -> nix::Result<Found> {
    let fd = match shm_open(name.as_c_str(), OFlag::O_RDWR, Mode::empty()) {
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
    match ring.magic() {
        0 => Ok(Found::NotYet),
        MAGIC if ring.capacity_fits() => Ok(Found::Ready(ring)),
        _ => Ok(Found::NotARing),
    }
}
