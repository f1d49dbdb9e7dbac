//! `pipeline` with faults (see broken/faults/pipe.toml).

use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use clap::Parser;
use ipc_broken::fault;
use ipc_common::exit_child;
use nix::fcntl::OFlag;
use nix::sys::signal::{SigHandler, Signal, signal};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, dup2_stdin, dup2_stdout, execvp, fork, pipe, pipe2};

const USAGE: &str = "pipeline STAGE [STAGE...]";

#[derive(Parser)]
struct Args {
    #[arg(required = true)]
    stages: Vec<OsString>,
}

fn split(stage: &[u8]) -> Vec<CString> {
    let blank = |b: &u8| if fault("split-on-space-only") { *b == b' ' } else { b.is_ascii_whitespace() };
    stage.split(blank).filter(|w| !w.is_empty()).map(|w| CString::new(w).unwrap()).collect()
}

fn main() -> ExitCode {
    let Ok(args) = Args::try_parse() else { return ipc_common::usage(USAGE) };
    let mut stages: Vec<Vec<CString>> = args.stages.iter().map(|s| split(s.as_bytes())).collect();
    if fault("empty-stage-ok") {
        stages.retain(|s| !s.is_empty());
    }
    if stages.is_empty() || stages.iter().any(Vec::is_empty) {
        return ipc_common::usage(USAGE);
    }
    let mut children: Vec<Pid> = Vec::new();
    let mut held: Vec<OwnedFd> = Vec::new();
    let mut previous: Option<OwnedFd> = None;
    for (i, argv) in stages.iter().enumerate() {
        let last = i + 1 == stages.len();
        let next = if last && !fault("one-stage-pipe") {
            None
        } else if fault("no-cloexec") {
            Some(pipe().unwrap())
        } else {
            Some(pipe2(OFlag::O_CLOEXEC).unwrap())
        };
        // SAFETY: single-threaded; the child only dup2s, execs, writes and _exits.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                if let Some(fd) = &previous {
                    let _ = dup2_stdin(fd);
                }
                if let Some((_, w)) = &next {
                    if !last {
                        let _ = dup2_stdout(w);
                    }
                }
                if last && fault("one-stage-pipe") {
                    let (r, _w) = next.as_ref().unwrap();
                    let _ = dup2_stdin(r);
                }
                if fault("stderr-to-null") {
                    let null = std::fs::File::open("/dev/null").unwrap();
                    // SAFETY: dup2 onto descriptor 2 in the child before exec.
                    unsafe { libc::dup2(null.as_raw_fd(), 2) };
                }
                if !fault("keep-sigpipe-ignored") {
                    // SAFETY: SIG_DFL runs no handler code.
                    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
                }
                let Err(_) = execvp(&argv[0], argv);
                if fault("wrong-not-found") {
                    eprintln!("exec failed");
                    exit_child(1);
                }
                eprintln!("pipeline: {}: command not found", argv[0].to_string_lossy());
                exit_child(127)
            }
            ForkResult::Parent { child } => {
                children.push(child);
                previous = next.map(|(r, w)| {
                    if fault("no-close-parent") {
                        held.push(w);
                    }
                    r
                });
            }
        }
    }
    drop(previous);
    let last = *children.last().unwrap();
    let mut status = 0;
    let waited: Vec<Pid> = if fault("wait-last-only") { vec![last] } else { children.clone() };
    let report = if fault("first-status") { children[0] } else { last };
    for child in waited {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == report => status = code,
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == report => {
                status = if fault("signal-as-code") { sig as i32 } else { 128 + sig as i32 }
            }
            _ => {}
        }
    }
    drop(held);
    ExitCode::from(status as u8)
}
