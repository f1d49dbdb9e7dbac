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
use ipc_common::{Context, Error, fault};
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
        Err(code) => {
            return if fault!("usage-status-1") && code == ExitCode::from(2) { ExitCode::FAILURE } else { code };
        }
    };
    ipc_common::finish(PROGRAM, shmdemo(args))
}

/// The lab: attach the segment of KEYFILE's key (creating it), write TEXT
/// into it or print what it holds, detach, and remove it with `--remove`.
fn shmdemo(args: Args) -> ipc_common::Result<()> {
    let limit = if fault!("limit-1024") { SEGMENT_SIZE } else { SEGMENT_SIZE - 1 };
    let too_long = args.text.as_ref().is_some_and(|t| t.len() > limit);
    // The text and its NUL must fit: refuse before any segment is touched.
    if too_long && !fault!("limit-after-attach") {
        return Err(Error::plain("text too long"));
    }
    let name = args.keyfile.display().to_string();
    let proj = if fault!("wrong-proj-id") { 0xaa } else { PROJ };
    let key = sysv::key(&args.keyfile, proj);
    fault!("ftok-unchecked" => let key = Ok(key.unwrap_or(-1)));
    let key = key.context(if fault!("context-ftok") { "ftok" } else { &name })?;
    let size = if fault!("size-4096") { 4096 } else { SEGMENT_SIZE };
    let mode = if fault!("no-mode") { 0 } else { MODE };
    let create = if fault!("no-create") { 0 } else { libc::IPC_CREAT };
    // The mode is taken as given: System V IPC ignores the umask. EINVAL
    // here: a segment of this key exists and is smaller.
    let id = sysv::get(key, size, mode | create);
    fault!("einval-recreate" => let id = sysv::faults::recreate_if_smaller(id, key, size, mode | create));
    let id = id.context(&name)?;
    // The first 1024 bytes, whatever the segment's size.
    let view = SEGMENT_SIZE;
    fault!("whole-segment" => let view = sysv::faults::size(id));
    let mut segment = Attached::new(id, view).context("shmat")?;
    // Reached only by the fault `limit-after-attach` (checked too late).
    if too_long {
        return Err(Error::plain("text too long"));
    }
    let mut out = std::io::stdout().lock();
    match &args.text {
        Some(text) => {
            let text = text.as_bytes();
            let bytes = segment.bytes_mut();
            bytes[..text.len()].copy_from_slice(text);
            // The NUL ends the text: a shorter text after a longer one must
            // not read back with the longer one's tail.
            if !fault!("no-nul") {
                bytes[text.len()] = 0;
            }
            out.write_all(&[b"writing to segment: \"", text, b"\"\n"].concat())
        }
        None => {
            let bytes = segment.bytes();
            let end = bytes.iter().position(|&b| b == 0);
            fault!("read-past-nul" => let end = end.map(|_| bytes.len()));
            fault!("nul-search-unwrap" => let end = Some(end.expect("no NUL byte in the segment")));
            let end = end.unwrap_or(bytes.len());
            out.write_all(&[b"segment contains: \"", &bytes[..end], b"\"\n"].concat())
        }
    }
    .and_then(|()| out.flush())
    .context("stdout")?;
    segment.detach().context("shmdt")?;
    if args.remove {
        if !fault!("no-remove") {
            sysv::remove(id).context(&name)?;
        }
        writeln!(out, "segment removed").and_then(|()| out.flush()).context("stdout")?;
    }
    Ok(())
}
