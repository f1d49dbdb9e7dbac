//! `ring-fork [--capacity BYTES]`
//!
//! The same ring, in an anonymous shared mapping made before fork: the child
//! consumes to stdout, the parent produces from stdin, then waits for the
//! child and exits 0 if the child did. Read handouts/ring.md first;
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
use ring::{DEFAULT_CAPACITY, Ring};

/// Used in error messages: `ring-fork: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "ring-fork";
const USAGE: &str = "ring-fork [--capacity BYTES]";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// Size of the data area in bytes (at least 1).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_CAPACITY, value_parser = clap::value_parser!(u64).range(1..))]
    capacity: u64,
}

fn main() -> ExitCode {
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, run(args.capacity))
}

/// The lab: the same ring between a parent and its child. The child
/// consumes to stdout, the parent produces from stdin, waits for the child,
/// and exits 0 if the child did.
///
/// Pitfalls:
/// - Parent and child share only what was mapped, shared, before the fork.
/// - The child must never return into the parent's code: it ends where its
///   work ends, with its own status, without the parent's exit-time
///   clean-up.
/// - nix's `fork` is `unsafe`: a `// SAFETY:` comment says what the child
///   may do.
///
/// Read: mmap(2) (MAP_ANONYMOUS), fork(2), _exit(2), waitpid(2);
/// handouts/ring.md#ring-fork.
/// Stuck? `cargo grade --hint ring-fork` shows one hint at a time.
fn run(capacity: u64) -> ipc_common::Result<()> {
    let _ = capacity;
    todo!("map, fork, produce in the parent and consume in the child")
}
