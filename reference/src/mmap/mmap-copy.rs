//! `mmap-copy SRC DST`: copies SRC to DST through two mappings.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
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
