//! `ring-consumer [--wait MS] NAME`
//!
//! Waits (at most MS milliseconds, default 10000) for the producer's ring
//! NAME, copies its stream to stdout, and removes NAME once everything is
//! read. Read handouts/ring.md first; `cargo grade ring` checks it.

// This lab's shared code (src/ring/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod ring;

use std::process::ExitCode;

use clap::Parser;
#[allow(unused_imports)]
use ring::{DATA_OFFSET, MAGIC, Ring};

/// Used in error messages: `ring-consumer: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "ring-consumer";
const USAGE: &str = "ring-consumer [--wait MS] NAME";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// How long to wait for the producer, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10000)]
    wait: u64,
    /// The shared-memory object, e.g. `/ring`.
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
    ipc_common::finish(PROGRAM, consume(&args.name, args.wait))
}

/// The lab's consumer side: wait (at most `wait_ms`) for the producer's
/// ring NAME, copy its stream to stdout, then remove NAME.
///
/// Pitfalls:
/// - Starting first is allowed: NAME may not exist yet, or not be sized
///   yet, or its header may not be written yet. Each means "look again in
///   a few milliseconds" until the deadline, then
///   `ring-consumer: NAME: timed out waiting for producer`, exit 1.
/// - Any other magic than `MAGIC`: `ring-consumer: NAME: not a ring
///   buffer`, exit 1.
/// - The producer never removes NAME: if the consumer does not, it stays
///   in /dev/shm until the machine reboots.
///
/// Read: shm_open(3), fstat(2), mmap(2), shm_unlink(3); handouts/ring.md.
/// Stuck? `cargo grade --hint ring-consumer` shows one hint at a time.
fn consume(name: &str, wait_ms: u64) -> ipc_common::Result<()> {
    let _ = (name, wait_ms);
    todo!("wait for the ring, copy it to stdout, remove it")
}
