//! `mmap-copy SRC DST`: copies SRC to DST through two mappings.

// This lab's shared code (src/mmap/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mmap;

use std::ffi::c_void;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::ptr::NonNull;

use clap::Parser;
use ipc_common::{Context, fault};
use mmap::{Mapping, file_size, open_file};
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
    ipc_common::finish(PROGRAM, copy(args.src, args.dst))
}

/// The lab: size DST as SRC, map both, copy, msync.
fn copy(src: PathBuf, dst: PathBuf) -> ipc_common::Result<()> {
    let context = if fault!("context-open") { "open".into() } else { src.display().to_string() };
    let src_fd = open_file(&src, OFlag::O_RDONLY).context(context)?;
    let size = file_size(&src_fd).context("fstat")?;
    // The destination must be opened for reading too: a shared writable
    // mapping needs O_RDWR. O_TRUNC drops any longer old contents.
    let truncate = if fault!("no-truncate") { OFlag::empty() } else { OFlag::O_TRUNC };
    let dst_fd = open_file(&dst, OFlag::O_RDWR | OFlag::O_CREAT | truncate).context(dst.display())?;
    // Size DST before mapping it: touching a page past its end raises SIGBUS.
    let new_size = size;
    // `no-truncate` grows only, as mmap-write does, and keeps a longer DST's old tail.
    fault!("no-truncate" => let new_size = size.max(file_size(&dst_fd).unwrap_or(0)));
    if !fault!("no-ftruncate") {
        ftruncate(&dst_fd, new_size as i64).context("ftruncate")?;
    }
    // An empty SRC leaves DST empty: a zero-length mapping is an error.
    let Some(len) = NonZeroUsize::new(size as usize) else {
        fault!("map-empty" => return Err(ipc_common::Error::new("mmap", nix::errno::Errno::EINVAL)));
        return Ok(());
    };
    let from = Mapping::new(&src_fd, 0, len, false, MapFlags::MAP_SHARED).context("mmap")?;
    let mut to = Mapping::new(&dst_fd, 0, len, true, MapFlags::MAP_SHARED).context("mmap")?;
    copy_bytes(from.bytes(), to.bytes_mut());
    to.sync().context("msync")
}

/// Bytes of DST made ready (allocated and zeroed by the kernel) at a time:
/// small enough that they are still in the cache when the copy overwrites
/// them, large enough to take one system call instead of 256 page faults.
const WINDOW: usize = 1 << 20;

/// Below this size one thread copies: starting a second costs more than it saves.
const PARALLEL_FROM: usize = 16 << 20;

/// Copies `from` into `to` (of equal length). Large files are cut into one
/// part per CPU (at most 4), copied side by side: the copy is bound by the
/// CPU, which zeroes each new page of DST and then overwrites it.
fn copy_bytes(from: &[u8], to: &mut [u8]) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    if cpus == 1 || from.len() < PARALLEL_FROM {
        return copy_in_windows(from, to);
    }
    // Parts are whole windows, so that each starts on a page boundary.
    let part = from.len().div_ceil(cpus).next_multiple_of(WINDOW);
    std::thread::scope(|scope| {
        for (from, to) in from.chunks(part).zip(to.chunks_mut(part)) {
            scope.spawn(move || copy_in_windows(from, to));
        }
    });
}

/// Copies `from` into `to` window by window. Before each window is copied,
/// the kernel is asked to map it in one call (`MADV_POPULATE_READ` on SRC,
/// `MADV_POPULATE_WRITE` on DST, Linux 5.14) instead of taking a page fault
/// per 4 KiB during the copy; where that fails, the copy simply takes the
/// faults. Both slices must start on a page boundary.
fn copy_in_windows(from: &[u8], to: &mut [u8]) {
    for (from, to) in from.chunks(WINDOW).zip(to.chunks_mut(WINDOW)) {
        populate(from.as_ptr(), from.len(), MmapAdvise::MADV_POPULATE_READ);
        populate(to.as_ptr(), to.len(), MmapAdvise::MADV_POPULATE_WRITE);
        to.copy_from_slice(from);
    }
}

/// Asks the kernel to map `len` bytes at `start` now; a failure only means
/// the pages will be faulted in one by one.
fn populate(start: *const u8, len: usize, advice: MmapAdvise) {
    if let Some(start) = NonNull::new(start.cast_mut().cast::<c_void>()) {
        // SAFETY: callers pass a page-aligned part of one of our mappings
        // (each window starts at a multiple of WINDOW, itself a multiple of
        // the page size); populating changes no byte and frees nothing.
        let _ = unsafe { madvise(start, len, advice) };
    }
}
