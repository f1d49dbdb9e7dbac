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
use std::io::{Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::ExitCode;

use clap::Parser;
use ipc_common::{exit_child, fail, fault};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, pipe};

const PROGRAM: &str = "pipe-message";
const USAGE: &str = "pipe-message [--exit CODE] [TEXT]";

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
    let mut args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return if fault!("usage-status-1") { ExitCode::FAILURE } else { code },
    };
    if fault!("collapse-spaces") {
        // Splitting TEXT into words and joining them again loses runs of spaces.
        let words: Vec<&[u8]> = args.text.as_bytes().split(|b| *b == b' ').filter(|w| !w.is_empty()).collect();
        args.text = OsString::from_vec(words.join(&b' '));
    }
    let (read_end, write_end) = match pipe() {
        Ok(ends) => ends,
        Err(e) => return fail(PROGRAM, "pipe", e),
    };
    // SAFETY: this program is single-threaded, so the child inherits no lock
    // held by another thread. The child only writes to the pipe and _exits.
    match unsafe { fork() } {
        Err(e) => fail(PROGRAM, "fork", e),
        Ok(ForkResult::Child) => {
            drop(read_end);
            let mut pipe = std::fs::File::from(write_end);
            // write_all loops: one write may take only part of a large TEXT.
            let status = match pipe.write_all(args.text.as_bytes()) {
                Ok(()) if fault!("ignore-exit") => 0,
                Ok(()) => i32::from(args.exit),
                Err(e) => {
                    eprintln!("{PROGRAM}: write: {}", ipc_common::os_reason(&e));
                    1
                }
            };
            exit_child(status)
        }
        Ok(ForkResult::Parent { child }) => {
            // Close our write end, or read() would never see end of file.
            drop(write_end);
            let mut received = Vec::new();
            // read_to_end calls read() until it returns 0 (end of file).
            let read = if fault!("single-read") {
                // One read() returns only what the pipe holds at that moment.
                received.resize(1 << 16, 0);
                std::fs::File::from(read_end).read(&mut received).map(|n| received.truncate(n))
            } else {
                std::fs::File::from(read_end).read_to_end(&mut received).map(|_| ())
            };
            if let Err(e) = read {
                return fail(PROGRAM, "read", e);
            }
            let status = match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => code,
                Ok(WaitStatus::Signaled(_, sig, _)) => 128 + sig as i32,
                Ok(other) => return fail(PROGRAM, "waitpid", format!("unexpected status {other:?}")),
                Err(e) => return fail(PROGRAM, "waitpid", e),
            };
            let mut out = std::io::stdout().lock();
            let printed = out
                .write_all(b"parent received: ")
                .and_then(|()| out.write_all(&received))
                .and_then(|()| writeln!(out, "\nchild exited with status {status}"))
                .and_then(|()| out.flush());
            match printed {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(PROGRAM, "stdout", e),
            }
        }
    }
}
