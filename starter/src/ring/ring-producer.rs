//! `ring-producer [--capacity BYTES] NAME`
//!
//! Creates the shared-memory object NAME, lays the ring out in it (see
//! src/ring/mod.rs), copies stdin into the ring until end of file, then marks
//! it closed and exits 0, printing nothing. Read handouts/ring.md first;
//! `cargo grade ring` checks it.

// This lab's shared code (src/ring/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod ring;

use std::process::ExitCode;

use clap::Parser;
#[allow(unused_imports)]
use ring::{DEFAULT_CAPACITY, Ring, object_size};

/// Used in error messages: `ring-producer: CONTEXT: REASON`.
#[allow(dead_code)]
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
    let args = match Args::try_parse() {
        Ok(args) => args,
        // A usage error prints ONE line on stderr and exits with status 2:
        // `ipc_common::usage(USAGE)`.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    // An invalid IPC name is a usage error too: `ipc_common::is_valid_ipc_name`.
    ipc_common::finish(PROGRAM, produce(&args.name, args.capacity))
}

/// The lab's producer side. The steps, each with its man page:
///
/// 1. `nix::sys::mman::shm_open(name, OFlag::O_CREAT | OFlag::O_EXCL |
///    OFlag::O_RDWR, Mode::from_bits_truncate(0o600))` (shm_open(3)). With
///    O_EXCL an existing NAME fails with EEXIST: print
///    `ring-producer: NAME: File exists` (`ipc_common::fail(PROGRAM, name,
///    err.desc())`) and exit 1. Never take over another producer's ring.
/// 2. `nix::unistd::ftruncate(&fd, 256 + capacity)` (ftruncate(2)): a new
///    object is 0 bytes long, and touching a mapping past its end is SIGBUS.
/// 3. `Ring::map_shared(&fd, size)`, then `ring.init(capacity)`.
///    If step 2 or 3 fails, `shm_unlink` NAME: no consumer can have used it.
/// 4. `ring.produce(&mut std::io::stdin().lock())`, exit 0.
///
/// Once the magic is stored, never unlink NAME: the consumer may not even
/// have started yet. Removing it is the consumer's job.
fn produce(name: &str, capacity: u64) -> ipc_common::Result<()> {
    let _ = (name, capacity);
    todo!("create, size, map and initialise the ring, then fill it from stdin (the steps above)")
}
