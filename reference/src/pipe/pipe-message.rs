//! `pipe-message [--exit CODE] [TEXT]`: a child sends TEXT to its parent
//! through a pipe and exits with CODE; the parent prints what it received and
//! how the child ended.

// This lab's shared code (src/pipe/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod pipe;

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use clap::Parser;
use ipc_common::{Context, exit_child, fault};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, pipe};

/// Used in error messages: `pipe-message: CONTEXT: REASON`.
const PROGRAM: &str = "pipe-message";
const USAGE: &str = "pipe-message [--exit CODE] [TEXT]";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// The child's exit status.
    #[arg(long = "exit", value_name = "CODE", default_value_t = 0)]
    exit: u8,
    /// What the child sends.
    #[arg(default_value = if fault!("wrong-default") { "message to parent" } else { "message for parent" })]
    text: OsString,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return if fault!("usage-status-1") { ExitCode::FAILURE } else { code },
    };
    ipc_common::finish(PROGRAM, send_to_parent(args.text, args.exit))
}

/// The lab: the child writes TEXT into a pipe and exits with CODE; the
/// parent reads to end of file, waits for the child and prints both.
fn send_to_parent(text: OsString, code: u8) -> ipc_common::Result<()> {
    fault!("collapse-spaces" => let text = pipe::faults::collapse_spaces(&text));
    let (read_end, write_end) = pipe().context("pipe")?;
    // SAFETY: this program is single-threaded, so the child inherits no lock
    // held by another thread. The child only writes to the pipe and _exits.
    match unsafe { fork() }.context("fork")? {
        ForkResult::Child => {
            drop(read_end);
            // write_all loops: one write may take only part of a large TEXT.
            let status = match File::from(write_end).write_all(text.as_bytes()) {
                Ok(()) if fault!("ignore-exit") => 0,
                Ok(()) => i32::from(code),
                Err(e) => {
                    eprintln!("{PROGRAM}: write: {}", ipc_common::reason(e));
                    1
                }
            };
            exit_child(status)
        }
        ForkResult::Parent { child } => {
            // Close our write end, or read() would never see end of file.
            drop(write_end);
            let mut pipe = File::from(read_end);
            let mut received = Vec::new();
            // read_to_end calls read() until it returns 0 (end of file).
            pipe.read_to_end(&mut received).context("read")?;
            fault!("single-read" => let received = pipe::faults::first_read(received));
            let status = match waitpid(child, None).context("waitpid")? {
                WaitStatus::Exited(_, code) => code,
                WaitStatus::Signaled(_, signal, _) => 128 + signal as i32,
                other => return Err(ipc_common::Error::new("waitpid", format!("unexpected status {other:?}"))),
            };
            let mut out = std::io::stdout().lock();
            out.write_all(b"parent received: ")
                .and_then(|()| out.write_all(&received))
                .and_then(|()| writeln!(out, "\nchild exited with status {status}"))
                .and_then(|()| out.flush())
                .context("stdout")
        }
    }
}
