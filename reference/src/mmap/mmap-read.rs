//! `mmap-read FILE OFFSET LEN`: writes bytes OFFSET..OFFSET+LEN of FILE to
//! stdout, read through a read-only mapping.

// This lab's shared code (src/mmap/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mmap;

use std::io::Write;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ipc_common::{fail, fault};
use mmap::{Mapping, file_size, open_file, page_size};
use nix::fcntl::OFlag;
use nix::sys::mman::MapFlags;

const PROGRAM: &str = "mmap-read";
const USAGE: &str = "mmap-read FILE OFFSET LEN";

#[derive(Parser)]
struct Args {
    file: PathBuf,
    offset: u64,
    len: u64,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let name = args.file.display();
    let fd = match open_file(&args.file, OFlag::O_RDONLY) {
        Ok(fd) => fd,
        Err(e) => return fail(PROGRAM, name, e.desc()),
    };
    let size = match file_size(&fd) {
        Ok(size) => size,
        Err(e) => return fail(PROGRAM, "fstat", e.desc()),
    };
    // LEN 0 reads nothing: no mapping (a zero-length mmap is an error).
    let Some(len) = NonZeroUsize::new(args.len as usize) else {
        if fault!("map-zero-length") {
            // What mmap says when asked for zero bytes.
            return fail(PROGRAM, "mmap", nix::errno::Errno::EINVAL.desc());
        }
        return ExitCode::SUCCESS;
    };
    // Touching a mapped page that lies wholly past the end of the file
    // raises SIGBUS: check the range against the size first.
    let past_end = args
        .offset
        .checked_add(args.len)
        .is_none_or(|end| if fault!("end-off-by-one") { end >= size } else { end > size });
    if past_end && !fault!("no-range-check") {
        return fail(PROGRAM, name, "range past end of file");
    }
    let start = if fault!("map-unaligned") { args.offset } else { args.offset - args.offset % page_size() };
    let skip = (args.offset - start) as usize;
    let mapping = match Mapping::new(&fd, start, len.saturating_add(skip), false, MapFlags::MAP_SHARED) {
        Ok(mapping) => mapping,
        Err(e) => return fail(PROGRAM, "mmap", e.desc()),
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(&mapping.bytes()[skip..]).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(PROGRAM, "stdout", ipc_common::os_reason(&e)),
    }
}
