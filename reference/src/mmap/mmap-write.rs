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
use ipc_common::{Context, Error, fault};
use mmap::{Mapping, file_size, open_file, page_size};
use nix::errno::Errno;
use nix::fcntl::OFlag;
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
    ipc_common::finish(PROGRAM, write_at(args.file, args.offset, args.text))
}

/// The lab: grow FILE if needed, map the pages that cover the range shared, copy TEXT in, msync.
fn write_at(file: PathBuf, offset: u64, text: OsString) -> ipc_common::Result<()> {
    let name = file.display();
    let text = text.as_bytes();
    let Some(end) = offset.checked_add(text.len() as u64).filter(|&end| end <= i64::MAX as u64) else {
        return Err(Error::new(&name, Errno::EFBIG.desc()));
    };
    let fd = open_file(&file, OFlag::O_RDWR | OFlag::O_CREAT).context(&name)?;
    // Grow only: ftruncate to a smaller size would cut off the file's end.
    match file_size(&fd) {
        Ok(size) if (size < end || fault!("truncate-to-end")) && !fault!("no-grow") => {
            // ftruncate allocates no disk space: a gap before OFFSET stays a hole.
            fault!("grow-with-zeros" => nix::fcntl::posix_fallocate(&fd, size as i64, (end - size) as i64).context("ftruncate")?);
            if !fault!("grow-with-zeros") {
                ftruncate(&fd, end as i64).context("ftruncate")?;
            }
        }
        Ok(_) => {}
        Err(e) => return Err(Error::new("fstat", e.desc())),
    }
    // An empty TEXT needs no mapping (a zero-length mmap is an error).
    if let Some(len) = NonZeroUsize::new(text.len()) {
        // The mapping must start on a page boundary: map from the page that
        // holds OFFSET, and write `skip` bytes into it.
        let start = if fault!("map-unaligned") { offset } else { offset - offset % page_size() };
        let skip = (offset - start) as usize;
        let Some(map_len) = len.checked_add(skip) else {
            return Err(Error::new(&name, Errno::EFBIG.desc()));
        };
        let mut mapping = match Mapping::new(&fd, start, map_len, true, MapFlags::MAP_SHARED) {
            Ok(mapping) => mapping,
            Err(e) => return Err(Error::new("mmap", e.desc())),
        };
        mapping.bytes_mut()[skip..].copy_from_slice(text);
        mapping.sync().context("msync")?;
    }
    let count = if fault!("count-chars") { String::from_utf8_lossy(text).chars().count() } else { text.len() };
    println!("wrote {count} bytes at {}", offset);
    Ok(())
}
