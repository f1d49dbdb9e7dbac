//! `mmap-write FILE OFFSET TEXT`: writes TEXT into FILE at OFFSET through a
//! shared mapping, growing the file (never shrinking it) as needed.

// This lab's shared code (src/mmap/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mmap;

use std::ffi::OsString;
use std::num::NonZeroUsize;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ipc_common::{fail, fault};
use mmap::{Mapping, file_size, open_file, page_size};
use nix::errno::Errno;
use nix::fcntl::{OFlag, posix_fallocate};
use nix::sys::mman::MapFlags;
use nix::unistd::ftruncate;

const PROGRAM: &str = "mmap-write";
const USAGE: &str = "mmap-write FILE OFFSET TEXT";

#[derive(Parser)]
struct Args {
    file: PathBuf,
    offset: u64,
    text: OsString,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return if fault!("usage-status-1") { ExitCode::FAILURE } else { code },
    };
    let name = args.file.display();
    let text = args.text.as_bytes();
    let Some(end) = args.offset.checked_add(text.len() as u64).filter(|&end| end <= i64::MAX as u64) else {
        return fail(PROGRAM, name, Errno::EFBIG.desc());
    };
    let fd = match open_file(&args.file, OFlag::O_RDWR | OFlag::O_CREAT) {
        Ok(fd) => fd,
        Err(e) => return fail(PROGRAM, name, e.desc()),
    };
    // Grow only: ftruncate to a smaller size would cut off the file's end.
    match file_size(&fd) {
        Ok(size) if (size < end || fault!("truncate-to-end")) && !fault!("no-grow") => {
            // ftruncate allocates no disk space: a gap before OFFSET stays a hole.
            let grown = if fault!("grow-with-zeros") {
                posix_fallocate(&fd, size as i64, (end - size) as i64)
            } else {
                ftruncate(&fd, end as i64)
            };
            if let Err(e) = grown {
                return fail(PROGRAM, "ftruncate", e.desc());
            }
        }
        Ok(_) => {}
        Err(e) => return fail(PROGRAM, "fstat", e.desc()),
    }
    // An empty TEXT needs no mapping (a zero-length mmap is an error).
    if let Some(len) = NonZeroUsize::new(text.len()) {
        // The mapping must start on a page boundary: map from the page that
        // holds OFFSET, and write `skip` bytes into it.
        let start = if fault!("map-unaligned") { args.offset } else { args.offset - args.offset % page_size() };
        let skip = (args.offset - start) as usize;
        let Some(map_len) = len.checked_add(skip) else {
            return fail(PROGRAM, name, Errno::EFBIG.desc());
        };
        let mut mapping = match Mapping::new(&fd, start, map_len, true, MapFlags::MAP_SHARED) {
            Ok(mapping) => mapping,
            Err(e) => return fail(PROGRAM, "mmap", e.desc()),
        };
        mapping.bytes_mut()[skip..].copy_from_slice(text);
        if let Err(e) = mapping.sync() {
            return fail(PROGRAM, "msync", e.desc());
        }
    }
    let count = if fault!("count-chars") { args.text.to_string_lossy().chars().count() } else { text.len() };
    println!("wrote {count} bytes at {}", args.offset);
    ExitCode::SUCCESS
}
