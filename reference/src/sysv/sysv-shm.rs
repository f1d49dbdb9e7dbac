//! `sysv-shm [--remove] KEYFILE [TEXT]`: the lecture's `shmdemo`. Writes
//! TEXT into the System V segment of key `ftok(KEYFILE, 'R')`, or prints
//! what the segment holds; the segment outlives the program unless
//! `--remove` removes it.

// This lab's shared code (src/sysv/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod sysv;

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ipc_common::{fail, fault, os_reason};
use sysv::Attached;

const PROGRAM: &str = "sysv-shm";
const USAGE: &str = "sysv-shm [--remove] KEYFILE [TEXT]";

/// The segment's size, and the mode of one this program creates.
const SEGMENT_SIZE: usize = 1024;
const MODE: libc::c_int = 0o644;
/// The project id that `ftok` mixes into the key.
const PROJ: u8 = b'R';

#[derive(Parser)]
struct Args {
    /// Remove the segment after using it.
    #[arg(long)]
    remove: bool,
    /// Any existing file: its identity makes the key.
    keyfile: PathBuf,
    /// Text to write (at most 1023 bytes); without it, print the segment.
    text: Option<OsString>,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) if fault!("usage-status-1") && code == ExitCode::from(ipc_common::USAGE_STATUS) => {
            return ExitCode::FAILURE;
        }
        Err(code) => return code,
    };
    let limit = if fault!("limit-1024") { SEGMENT_SIZE } else { SEGMENT_SIZE - 1 };
    let too_long = args.text.as_ref().is_some_and(|t| t.len() > limit);
    // The text and its NUL must fit: refuse before any segment is touched.
    if too_long && !fault!("limit-after-attach") {
        return text_too_long();
    }
    let name = args.keyfile.display();
    let proj = if fault!("wrong-proj-id") { 0xaa } else { PROJ };
    let key = match sysv::key(&args.keyfile, proj) {
        Ok(key) => key,
        Err(_) if fault!("ftok-unchecked") => -1,
        Err(e) if fault!("context-ftok") => return fail(PROGRAM, "ftok", os_reason(&e)),
        Err(e) => return fail(PROGRAM, name, os_reason(&e)),
    };
    let size = if fault!("size-4096") { 4096 } else { SEGMENT_SIZE };
    let mode = if fault!("no-mode") { 0 } else { MODE };
    let create = if fault!("no-create") { 0 } else { libc::IPC_CREAT };
    // The mode is taken as given: System V IPC ignores the umask.
    let id = match sysv::get(key, size, mode | create) {
        Ok(id) => id,
        Err(e) if fault!("einval-recreate") && e.raw_os_error() == Some(libc::EINVAL) => {
            match sysv::get(key, 0, 0).and_then(sysv::remove).and_then(|()| sysv::get(key, size, mode | create)) {
                Ok(id) => id,
                Err(e) => return fail(PROGRAM, name, os_reason(&e)),
            }
        }
        // EINVAL here: a segment of this key exists and is smaller.
        Err(e) => return fail(PROGRAM, name, os_reason(&e)),
    };
    let mut segment = match Attached::new(id, SEGMENT_SIZE) {
        Ok(segment) => segment,
        Err(e) => return fail(PROGRAM, "shmat", os_reason(&e)),
    };
    // Reached only by the fault `limit-after-attach` (checked too late).
    if too_long {
        return text_too_long();
    }
    let mut out = std::io::stdout().lock();
    let printed = match &args.text {
        Some(text) => {
            let text = text.as_bytes();
            let line = [b"writing to segment: \"", text, b"\"\n"].concat();
            let bytes = segment.bytes_mut();
            bytes[..text.len()].copy_from_slice(text);
            // The NUL ends the text: a shorter text after a longer one must
            // not read back with the longer one's tail.
            if !fault!("no-nul") {
                bytes[text.len()] = 0;
            }
            out.write_all(&line)
        }
        None => {
            let bytes = segment.bytes();
            let end = match bytes.iter().position(|&b| b == 0) {
                Some(_) if fault!("read-past-nul") => bytes.len(),
                Some(end) => end,
                None if fault!("nul-search-unwrap") => panic!("no NUL byte in the segment"),
                None => bytes.len(),
            };
            out.write_all(&[b"segment contains: \"", &bytes[..end], b"\"\n"].concat())
        }
    };
    if let Err(e) = printed.and_then(|()| out.flush()) {
        return fail(PROGRAM, "stdout", os_reason(&e));
    }
    if let Err(e) = segment.detach() {
        return fail(PROGRAM, "shmdt", os_reason(&e));
    }
    if args.remove {
        if !fault!("no-remove") {
            if let Err(e) = sysv::remove(id) {
                return fail(PROGRAM, name, os_reason(&e));
            }
        }
        if let Err(e) = writeln!(out, "segment removed").and_then(|()| out.flush()) {
            return fail(PROGRAM, "stdout", os_reason(&e));
        }
    }
    ExitCode::SUCCESS
}

/// `sysv-shm: text too long`, exit 1: TEXT and its NUL do not fit.
fn text_too_long() -> ExitCode {
    eprintln!("{PROGRAM}: text too long");
    ExitCode::from(ipc_common::ERROR_STATUS)
}
