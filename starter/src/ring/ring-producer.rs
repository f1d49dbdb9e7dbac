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
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // Given: NAME must also be a valid IPC name (`/` and 1 to 254 bytes
    // without another `/`), which clap cannot know: a usage error too.
    if !ipc_common::is_valid_ipc_name(&args.name) {
        return ipc_common::usage(USAGE);
    }
    ipc_common::finish(PROGRAM, produce(&args.name, args.capacity))
}

/// The lab's producer side: create the shared-memory object NAME (mode
/// 0600), size it, map it, lay the ring out in it, then fill it from stdin.
///
/// Pitfalls:
/// - NAME that already exists is another producer's ring: never take it
///   over (`ring-producer: NAME: File exists`, exit 1).
/// - A new object is 0 bytes long, and touching a mapping past the end of
///   its object raises SIGBUS.
/// - If sizing or mapping fails, nobody can have used NAME yet: remove it.
///   Once the magic is stored, never: the consumer may not even have
///   started, and removing NAME is its job.
///
/// Read: shm_overview(7), shm_open(3), ftruncate(2), mmap(2),
/// shm_unlink(3); handouts/ring.md.
/// Stuck? `cargo grade --hint ring-producer` shows one hint at a time.
fn produce(name: &str, capacity: u64) -> ipc_common::Result<()> {
    let _ = (name, capacity);
    todo!("create, size, map and initialise the ring, then fill it from stdin")
}
