//! `mmap-counter FILE N`: adds 1 to the little-endian u64 at the start of
//! FILE, N times, each with an atomic read-modify-write on a shared mapping,
//! so that copies running at once lose no increment.

// This lab's shared code (src/mmap/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mmap;

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Parser;
use ipc_common::{Context, Error, fault};
use mmap::{Mapping, file_size, open_file};
use nix::fcntl::OFlag;
use nix::sys::mman::MapFlags;
use nix::unistd::ftruncate;

const PROGRAM: &str = "mmap-counter";
const USAGE: &str = "mmap-counter FILE N";

/// The counter's size in bytes.
const COUNTER: usize = std::mem::size_of::<u64>();

#[derive(Parser)]
struct Args {
    file: PathBuf,
    n: u64,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, count(args.file, args.n))
}

/// The lab: map the counter shared and add 1 to it N times, atomically.
fn count(file: PathBuf, n: u64) -> ipc_common::Result<()> {
    let truncate = if fault!("truncate") { OFlag::O_TRUNC } else { OFlag::empty() };
    let fd = open_file(&file, OFlag::O_RDWR | OFlag::O_CREAT | truncate).context(file.display())?;
    // Grow a new (empty) file to 8 bytes; never truncate: another copy may
    // already be counting in it.
    match file_size(&fd) {
        Ok(size) if size < COUNTER as u64 && !fault!("no-grow") => {
            ftruncate(&fd, COUNTER as i64).context("ftruncate")?;
        }
        Ok(_) => {}
        Err(e) => return Err(Error::new("fstat", e.desc())),
    }
    let mapping =
        Mapping::new(&fd, 0, NonZeroUsize::new(COUNTER).unwrap(), true, MapFlags::MAP_SHARED).context("mmap")?;
    // SAFETY: the mapping starts on a page boundary (aligned for u64), holds
    // at least 8 bytes, and lives until the end of main. Every copy of this
    // program touches the counter only through atomic operations.
    let counter = unsafe { AtomicU64::from_ptr(mapping.as_ptr().cast::<u64>()) };
    // The contract's counter is little-endian; so is an AtomicU64 on the
    // graded (little-endian) machines.
    let mut value = counter.load(Ordering::SeqCst);
    for _ in 0..n {
        // fetch_add is one indivisible read-modify-write (`lock xadd`):
        // a separate load and store would lose other copies' increments.
        // `load-store`: in two steps, another copy's increments between them are lost.
        fault!("load-store" => { value = counter.load(Ordering::Relaxed) + 1; counter.store(value, Ordering::Relaxed); continue });
        value = counter.fetch_add(1, Ordering::SeqCst) + 1;
    }
    mapping.sync().context("msync")?;
    println!("counter at {}", if fault!("print-n") { n } else { value });
    Ok(())
}
