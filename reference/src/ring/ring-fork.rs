//! `ring-fork [--capacity BYTES]`: the ring in an anonymous shared mapping
//! made before fork; the child consumes to stdout, the parent produces from
//! stdin.

// This lab's shared code (src/ring/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod ring;

use std::process::ExitCode;

use clap::Parser;
use ipc_common::{Context, Error, exit_child, fault};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};
use ring::{DEFAULT_CAPACITY, Ring};

/// Used in error messages: `ring-fork: CONTEXT: REASON`.
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
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return if fault!("usage-status-1") { ExitCode::FAILURE } else { code },
    };
    ipc_common::finish(PROGRAM, run(args.capacity))
}

/// The lab: one ring in an anonymous shared mapping made before fork; the
/// child consumes to stdout, the parent produces from stdin.
fn run(capacity: u64) -> ipc_common::Result<()> {
    // MAP_SHARED: after fork both processes see the same pages.
    let ring = Ring::anonymous(capacity).context("mmap")?;
    ring.init(capacity);

    // SAFETY: this program is single-threaded, so the child inherits no lock
    // held by another thread. The child only duplicates descriptor 1, uses
    // the ring and writes to that descriptor, then _exits.
    match unsafe { fork() }.context("fork")? {
        ForkResult::Child => {
            let status = match ipc_common::raw_stdout().and_then(|mut out| ring.consume(&mut out)) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("{PROGRAM}: stdout: {}", ipc_common::reason(e));
                    1
                }
            };
            exit_child(status)
        }
        ForkResult::Parent { child } => {
            // `produce` stores closed = 1 even when reading fails, so the child ends.
            let produced = ipc_common::raw_stdin().and_then(|mut input| ring.produce(&mut input));
            let status = waitpid(child, None).context("waitpid")?;
            produced.context("stdin")?;
            match status {
                WaitStatus::Exited(_, 0) => Ok(()),
                other => Err(Error::new("consumer", format!("ended with {other:?}"))),
            }
        }
    }
}
