//! `mmap-copy SRC DST`: copies SRC to DST through two mappings.

use std::ffi::c_void;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::ptr::NonNull;

use clap::Parser;
use ipc_common::fail;
use ipc_reference::mmap::{Mapping, file_size, open_file};
use nix::fcntl::OFlag;
use nix::sys::mman::{MapFlags, MmapAdvise, madvise};
use nix::unistd::ftruncate;

const PROGRAM: &str = "mmap-copy";
const USAGE: &str = "mmap-copy SRC DST";

#[derive(Parser)]
struct Args {
    src: PathBuf,
    dst: PathBuf,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let src = match open_file(&args.src, OFlag::O_RDONLY) {
        Ok(fd) => fd,
        Err(e) => return fail(PROGRAM, args.src.display(), e.desc()),
    };
    let size = match file_size(&src) {
        Ok(size) => size,
        Err(e) => return fail(PROGRAM, "fstat", e.desc()),
    };
    // The destination must be opened for reading too: a shared writable
    // mapping needs O_RDWR. O_TRUNC drops any longer old contents.
    let dst = match open_file(&args.dst, OFlag::O_RDWR | OFlag::O_CREAT | OFlag::O_TRUNC) {
        Ok(fd) => fd,
        Err(e) => return fail(PROGRAM, args.dst.display(), e.desc()),
    };
    // Size DST before mapping it: touching a page past its end raises SIGBUS.
    if let Err(e) = ftruncate(&dst, size as i64) {
        return fail(PROGRAM, "ftruncate", e.desc());
    }
    // An empty SRC leaves DST empty: a zero-length mapping is an error.
    let Some(len) = NonZeroUsize::new(size as usize) else {
        return ExitCode::SUCCESS;
    };
    // MAP_POPULATE: the kernel maps every page of SRC up front, in one pass,
    // instead of taking one page fault per 4 KiB during the copy.
    let from = match Mapping::new(&src, 0, len, false, MapFlags::MAP_SHARED | MapFlags::MAP_POPULATE) {
        Ok(mapping) => mapping,
        Err(e) => return fail(PROGRAM, "mmap", e.desc()),
    };
    let mut to = match Mapping::new(&dst, 0, len, true, MapFlags::MAP_SHARED) {
        Ok(mapping) => mapping,
        Err(e) => return fail(PROGRAM, "mmap", e.desc()),
    };
    copy_in_windows(&from, &mut to);
    match to.sync() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(PROGRAM, "msync", e.desc()),
    }
}

/// Bytes of DST made ready (allocated and zeroed by the kernel) at a time:
/// small enough that they are still in the cache when the copy overwrites
/// them, large enough to take one system call instead of 256 page faults.
const WINDOW: usize = 1 << 20;

/// Copies `from` into `to` window by window, asking the kernel to populate
/// each window of DST for writing first (`MADV_POPULATE_WRITE`, Linux 5.14;
/// where it fails, the copy simply takes the page faults instead).
fn copy_in_windows(from: &Mapping, to: &mut Mapping) {
    let base = to.as_ptr();
    let len = from.bytes().len();
    let mut at = 0;
    while at < len {
        let n = WINDOW.min(len - at);
        if let Some(start) = NonNull::new(base.wrapping_add(at).cast::<c_void>()) {
            // SAFETY: [at, at + n) lies inside the writable mapping `to`
            // (WINDOW is a multiple of the page size, so `start` is
            // page-aligned); populating changes no byte and frees nothing.
            let _ = unsafe { madvise(start, n, MmapAdvise::MADV_POPULATE_WRITE) };
        }
        to.bytes_mut()[at..at + n].copy_from_slice(&from.bytes()[at..at + n]);
        at += n;
    }
}
