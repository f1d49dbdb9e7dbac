//! The tuned variant (bench/tuned/README.md): the plain reference program
//! with the ring of src/ring/mod.rs, whose waiter sleeps on a futex.
//!
//! `ring-producer [--capacity BYTES] NAME`: creates the shared-memory ring
//! NAME and copies stdin into it until end of file.

// This lab's shared code (src/ring/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod ring;

use std::process::ExitCode;

use clap::Parser;
use ipc_common::{Context, Error};
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::Mode;
use nix::unistd::ftruncate;
use ring::{DEFAULT_CAPACITY, Ring, object_size};

/// Used in error messages: `ring-producer: CONTEXT: REASON`.
const PROGRAM: &str = "ring-producer";
const USAGE: &str = "ring-producer [--capacity BYTES] NAME";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// Size of the data area in bytes (at least 1).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_CAPACITY, value_parser = clap::value_parser!(u64).range(1..))]
    capacity: u64,
    /// The shared-memory object to create, e.g. `/ring`.
    name: String,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // An invalid IPC name is a usage error too.
    if !ipc_common::is_valid_ipc_name(&args.name) {
        return ipc_common::usage(USAGE);
    }
    ipc_common::finish(PROGRAM, produce(&args.name, args.capacity))
}

/// The lab's producer side: create, size, map and initialise the ring, then
/// fill it from stdin. Once the magic is stored, never unlink NAME.
fn produce(name: &str, capacity: u64) -> ipc_common::Result<()> {
    let size = object_size(capacity).ok_or(Error::new(name, "capacity too large"))?;
    // O_EXCL: a second producer must not take over a ring in use.
    let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR;
    let fd = shm_open(name, flags, Mode::from_bits_truncate(0o600)).context(name)?;
    // Until the magic is stored no consumer can use the object, so on these
    // errors we may (and must) remove it again.
    let ring = match ftruncate(&fd, size as i64).and_then(|()| Ring::map_shared(&fd, size)) {
        Ok(ring) => ring,
        Err(e) => {
            let _ = shm_unlink(name);
            return Err(Error::new(name, e));
        }
    };
    drop(fd); // the mapping keeps the object alive
    ring.init(capacity);
    // From here on a consumer may be reading: never unlink.
    ipc_common::raw_stdin().and_then(|mut input| ring.produce(&mut input)).context("stdin")
}
