//! `mmap-copy` with faults (see broken/faults/mmap.toml).

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ipc_broken::fault;
use ipc_common::fail;
use ipc_reference::mmap::{Mapping, file_size, open_file};
use nix::fcntl::OFlag;
use nix::sys::mman::MapFlags;
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
        Err(e) if fault("context-open") => return fail(PROGRAM, "open", e.desc()),
        Err(e) => return fail(PROGRAM, args.src.display(), e.desc()),
    };
    let size = match file_size(&src) {
        Ok(size) => size,
        Err(e) => return fail(PROGRAM, "fstat", e.desc()),
    };
    // The destination must be opened for reading too: a shared writable
    // mapping needs O_RDWR. O_TRUNC drops any longer old contents.
    let truncate = if fault("no-truncate") { OFlag::empty() } else { OFlag::O_TRUNC };
    let dst = match open_file(&args.dst, OFlag::O_RDWR | OFlag::O_CREAT | truncate) {
        Ok(fd) => fd,
        Err(e) => return fail(PROGRAM, args.dst.display(), e.desc()),
    };
    // Size DST before mapping it: touching a page past its end raises SIGBUS.
    let old = file_size(&dst).unwrap_or(0);
    let skip_ftruncate = fault("no-ftruncate") || (fault("no-truncate") && old >= size);
    if !skip_ftruncate && let Err(e) = ftruncate(&dst, size as i64) {
        return fail(PROGRAM, "ftruncate", e.desc());
    }
    // An empty SRC leaves DST empty: a zero-length mapping is an error.
    let len = match NonZeroUsize::new(size as usize) {
        Some(len) => len,
        None if fault("map-empty") => return fail(PROGRAM, "mmap", nix::errno::Errno::EINVAL.desc()),
        None => return ExitCode::SUCCESS,
    };
    let from = match Mapping::new(&src, 0, len, false, MapFlags::MAP_SHARED) {
        Ok(mapping) => mapping,
        Err(e) => return fail(PROGRAM, "mmap", e.desc()),
    };
    let mut to = match Mapping::new(&dst, 0, len, true, MapFlags::MAP_SHARED) {
        Ok(mapping) => mapping,
        Err(e) => return fail(PROGRAM, "mmap", e.desc()),
    };
    to.bytes_mut().copy_from_slice(from.bytes());
    match to.sync() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(PROGRAM, "msync", e.desc()),
    }
}
