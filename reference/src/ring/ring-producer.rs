//! `ring-producer [--capacity BYTES] NAME`: creates the shared-memory ring
//! NAME and copies stdin into it until end of file.

// This lab's shared code (src/ring/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod ring;

use std::ffi::CString;
use std::process::ExitCode;

use clap::Parser;
use ipc_common::{fail, is_valid_ipc_name, os_reason};
use ring::{DEFAULT_CAPACITY, Ring, object_size};
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::Mode;
use nix::unistd::ftruncate;

const PROGRAM: &str = "ring-producer";
const USAGE: &str = "ring-producer [--capacity BYTES] NAME";

#[derive(Parser)]
struct Args {
    /// Size of the data area in bytes.
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
    if !is_valid_ipc_name(&args.name) {
        return ipc_common::usage(USAGE);
    }
    let name = CString::new(args.name.as_str()).expect("a valid IPC name holds no NUL byte");
    let Some(size) = object_size(args.capacity) else {
        return fail(PROGRAM, &args.name, "capacity too large");
    };

    // O_EXCL: a second producer must not take over a ring in use.
    let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR;
    let fd = match shm_open(name.as_c_str(), flags, Mode::from_bits_truncate(0o600)) {
        Ok(fd) => fd,
        Err(e) => return fail(PROGRAM, &args.name, e.desc()),
    };
    // Until the magic is stored no consumer can use the object, so on these
    // errors we may (and must) remove it again.
    let ring = match ftruncate(&fd, size as i64).and_then(|()| Ring::map_shared(&fd, size)) {
        Ok(ring) => ring,
        Err(e) => {
            let _ = shm_unlink(name.as_c_str());
            return fail(PROGRAM, &args.name, e.desc());
        }
    };
    drop(fd); // the mapping keeps the object alive
    ring.init(args.capacity);

    // From here on a consumer may be reading: never unlink.
    match ipc_common::raw_stdin().and_then(|mut input| ring.produce(&mut input)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(PROGRAM, "stdin", os_reason(&e)),
    }
}
