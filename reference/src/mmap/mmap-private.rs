//! `mmap-private FILE TEXT`: writes TEXT into a private (copy-on-write)
//! mapping of FILE and shows that the file itself did not change.

// This lab's shared code (src/mmap/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod mmap;

use std::ffi::OsString;
use std::io::Write;
use std::num::NonZeroUsize;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ipc_common::{Context, Error, fault};
use mmap::{Mapping, file_size, open_file};
use nix::fcntl::OFlag;
use nix::sys::mman::MapFlags;
use nix::sys::uio::pread;

const PROGRAM: &str = "mmap-private";
const USAGE: &str = "mmap-private FILE TEXT";

#[derive(Parser)]
struct Args {
    file: PathBuf,
    text: OsString,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, write_privately(args.file, args.text))
}

/// The lab: write TEXT into a private mapping; the file stays unchanged.
fn write_privately(file: PathBuf, text: OsString) -> ipc_common::Result<()> {
    let name = file.display();
    let text = text.as_bytes();
    // A private mapping may be written even if the file is open read-only:
    // the writes go to private copies of the pages, never to the file.
    let fd = open_file(&file, if fault!("map-shared") { OFlag::O_RDWR } else { OFlag::O_RDONLY }).context(&name)?;
    match file_size(&fd) {
        Ok(size) if size < text.len() as u64 && !fault!("no-length-check") => {
            return Err(Error::new(&name, "file shorter than text"));
        }
        Ok(_) => {}
        Err(e) => return Err(Error::new("fstat", e.desc())),
    }
    let mut mapped = Vec::new();
    if let Some(len) = NonZeroUsize::new(text.len()) {
        let flags = if fault!("map-shared") { MapFlags::MAP_SHARED } else { MapFlags::MAP_PRIVATE };
        let mut mapping = match Mapping::new(&fd, 0, len, true, flags) {
            Ok(mapping) => mapping,
            Err(e) => return Err(Error::new("mmap", e.desc())),
        };
        mapping.bytes_mut().copy_from_slice(text);
        mapped.extend_from_slice(mapping.bytes());
    }
    // Read the same bytes from the file itself, past the mapping.
    let mut from_file = vec![0u8; text.len()];
    let mut got = 0;
    while got < from_file.len() {
        match pread(&fd, &mut from_file[got..], got as i64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(Error::new("pread", e.desc())),
        }
    }
    from_file.truncate(got);
    // `file-from-mapping`: the mapping is not the file; this shows the private copy twice.
    fault!("file-from-mapping" => from_file.clone_from(&mapped));
    let mut out = std::io::stdout().lock();
    let printed = out
        .write_all(b"mapping: ")
        .and_then(|()| out.write_all(&mapped))
        .and_then(|()| out.write_all(b"\nfile: "))
        .and_then(|()| out.write_all(&from_file))
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    printed.context("stdout")
}
