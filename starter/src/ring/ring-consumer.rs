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
    let args = match Args::try_parse() {
        Ok(args) => args,
        // A usage error prints ONE line on stderr and exits with status 2:
        // `ipc_common::usage(USAGE)`.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    // An invalid IPC name is a usage error too: `ipc_common::is_valid_ipc_name`.
    ipc_common::finish(PROGRAM, consume(&args.name, args.wait))
}

/// The lab's consumer side.
///
/// 1. Wait for the ring, retrying every few milliseconds (at least every 10)
///    until `wait_ms` have passed (`std::time::Instant` for the deadline):
///    - `shm_open(name, OFlag::O_RDWR, Mode::empty())` fails with ENOENT:
///      the producer has not created it yet.
///    - `nix::sys::stat::fstat(&fd)?.st_size` under 256: not sized yet.
///    - mapped, but `ring.field(MAGIC_OFFSET)` loads (Acquire) as 0: the
///      producer has not finished its header yet.
///    - any other magic than `MAGIC`: `ring-consumer: NAME: not a ring
///      buffer`, exit 1.
///
///    At the deadline: `ring-consumer: NAME: timed out waiting for
///    producer`, exit 1.
/// 2. `ring.consume(&mut std::io::stdout().lock())`.
/// 3. `shm_unlink(name)` (shm_unlink(3)): the producer never removes NAME,
///    so the consumer must, or it stays in /dev/shm until reboot.
fn consume(name: &str, wait_ms: u64) -> ipc_common::Result<()> {
    let _ = (name, wait_ms);
    todo!("wait for the ring, copy it to stdout, unlink it (the steps above)")
}
