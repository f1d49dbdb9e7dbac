//! `pipe-message` with faults (see broken/faults/pipe.toml).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use clap::Parser;
use ipc_broken::fault;
use ipc_common::{exit_child, fail};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, pipe};

const PROGRAM: &str = "pipe-message";
const USAGE: &str = "pipe-message [--exit CODE] [TEXT]";

#[derive(Parser)]
struct Args {
    #[arg(long = "exit", default_value_t = 0)]
    exit: u8,
    text: Option<OsString>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(_) if fault("usage-status-1") => return ipc_common::fail(PROGRAM, "arguments", "bad"),
        Err(_) => return ipc_common::usage(USAGE),
    };
    let default = if fault("wrong-default") { "message to parent" } else { "message for parent" };
    let mut text = args.text.unwrap_or_else(|| default.into()).as_bytes().to_vec();
    if fault("collapse-spaces") {
        let words: Vec<&[u8]> = text.split(|b| *b == b' ').filter(|w| !w.is_empty()).collect();
        text = words.join(&b' ');
    }
    let (read_end, write_end) = match pipe() {
        Ok(ends) => ends,
        Err(e) => return fail(PROGRAM, "pipe", e),
    };
    // SAFETY: single-threaded; the child only writes to the pipe and _exits.
    match unsafe { fork() } {
        Err(e) => fail(PROGRAM, "fork", e),
        Ok(ForkResult::Child) => {
            drop(read_end);
            let _ = std::fs::File::from(write_end).write_all(&text);
            exit_child(if fault("ignore-exit") { 0 } else { i32::from(args.exit) })
        }
        Ok(ForkResult::Parent { child }) => {
            drop(write_end);
            let mut pipe = std::fs::File::from(read_end);
            let mut received = Vec::new();
            if fault("single-read") {
                let mut buf = vec![0u8; 65536];
                let n = pipe.read(&mut buf).unwrap_or(0);
                received.extend_from_slice(&buf[..n]);
                drop(pipe);
            } else {
                let _ = pipe.read_to_end(&mut received);
            }
            let status = match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => code,
                _ => -1,
            };
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(b"parent received: ");
            let _ = out.write_all(&received);
            let _ = writeln!(out, "\nchild exited with status {status}");
            ExitCode::SUCCESS
        }
    }
}
