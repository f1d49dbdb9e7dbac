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
    let args = match Args::try_parse() {
        Ok(args) => args,
        // A usage error prints ONE line on stderr and exits with status 2:
        // `ipc_common::usage(USAGE)`.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, run(args.capacity))
}

/// 1. `Ring::anonymous(capacity)` and `ring.init(capacity)`, BEFORE fork, so
///    that both processes share the same pages.
/// 2. `unsafe { nix::unistd::fork() }` with a `// SAFETY:` comment (this
///    program is single-threaded; the child only uses the ring and stdout).
/// 3. Child: `ring.consume(&mut std::io::stdout().lock())`, then
///    `ipc_common::exit_child(0)` (or 1 on error). Not `return`: the child
///    must not go on to run the parent's code.
/// 4. Parent: `ring.produce(&mut std::io::stdin().lock())`, then
///    `waitpid(child, None)`; exit 0 if the child exited 0.
fn run(capacity: u64) -> ipc_common::Result<()> {
    let _ = capacity;
    todo!("map, fork, produce in the parent and consume in the child (the steps above)")
}
