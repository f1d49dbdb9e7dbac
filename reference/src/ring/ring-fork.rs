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
use ipc_common::{exit_child, fail, os_reason};
use ring::{DEFAULT_CAPACITY, Ring};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

const PROGRAM: &str = "ring-fork";
const USAGE: &str = "ring-fork [--capacity BYTES]";

#[derive(Parser)]
struct Args {
    /// Size of the data area in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_CAPACITY, value_parser = clap::value_parser!(u64).range(1..))]
    capacity: u64,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // MAP_SHARED: after fork both processes see the same pages. (A private
    // mapping would be copied on write, and the child would never see data.)
    let ring = match Ring::anonymous(args.capacity) {
        Ok(ring) => ring,
        Err(e) => return fail(PROGRAM, "mmap", e.desc()),
    };
    ring.init(args.capacity);

    // SAFETY: this program is single-threaded, so the child inherits no lock
    // held by another thread. The child only duplicates descriptor 1, uses the
    // ring and writes to that descriptor, then _exits.
    match unsafe { fork() } {
        Err(e) => fail(PROGRAM, "fork", e.desc()),
        Ok(ForkResult::Child) => {
            let status = match ipc_common::raw_stdout().and_then(|mut out| ring.consume(&mut out)) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("{PROGRAM}: stdout: {}", os_reason(&e));
                    1
                }
            };
            exit_child(status)
        }
        Ok(ForkResult::Parent { child }) => {
            // `produce` stores closed = 1 even when reading fails, so the child ends.
            let produced = ipc_common::raw_stdin().and_then(|mut input| ring.produce(&mut input));
            let status = waitpid(child, None);
            if let Err(e) = produced {
                return fail(PROGRAM, "stdin", os_reason(&e));
            }
            match status {
                Ok(WaitStatus::Exited(_, 0)) => ExitCode::SUCCESS,
                Ok(other) => fail(PROGRAM, "consumer", format!("ended with {other:?}")),
                Err(e) => fail(PROGRAM, "waitpid", e.desc()),
            }
        }
    }
}
