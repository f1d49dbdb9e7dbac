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
use ipc_common::{Context, Error, fault};
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
    ipc_common::finish(PROGRAM, read_range(args.file, args.offset, args.len))
}

/// The lab: map the pages that hold the range read-only and write it out.
fn read_range(file: PathBuf, offset: u64, len: u64) -> ipc_common::Result<()> {
    let name = file.display();
    let fd = open_file(&file, OFlag::O_RDONLY).context(&name)?;
    let size = file_size(&fd).context("fstat")?;
    // LEN 0 reads nothing: no mapping (a zero-length mmap is an error).
    let Some(mapped_len) = NonZeroUsize::new(len as usize) else {
        // `map-zero-length`: what mmap says when asked for zero bytes.
        fault!("map-zero-length" => return Err(Error::new("mmap", nix::errno::Errno::EINVAL)));
        return Ok(());
    };
    // Touching a mapped page that lies wholly past the end of the file
    // raises SIGBUS: check the range against the size first.
    let past_end =
        offset.checked_add(len).is_none_or(|end| if fault!("end-off-by-one") { end >= size } else { end > size });
    if past_end && !fault!("no-range-check") {
        return Err(Error::new(&name, "range past end of file"));
    }
    let start = if fault!("map-unaligned") { offset } else { offset - offset % page_size() };
    let skip = (offset - start) as usize;
    let mapping =
        Mapping::new(&fd, start, mapped_len.saturating_add(skip), false, MapFlags::MAP_SHARED).context("mmap")?;
    let mut out = std::io::stdout().lock();
    out.write_all(&mapping.bytes()[skip..]).and_then(|()| out.flush()).context("stdout")
}
