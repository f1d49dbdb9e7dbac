//! `pipeline STAGE [STAGE...]`: runs the stages connected like a shell's
//! `s1 | s2 | ...`, built from pipe, fork, dup2 and execvp.

// This lab's shared code (src/pipe/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod pipe;

use std::ffi::{CString, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use clap::Parser;
use ipc_common::{exit_child, fail, fault};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, dup2_stderr, dup2_stdin, dup2_stdout, execvp, fork, pipe2, write};

const PROGRAM: &str = "pipeline";
const USAGE: &str = "pipeline STAGE [STAGE...]";

#[derive(Parser)]
struct Args {
    /// Each stage: a program and its arguments, separated by blanks.
    #[arg(required = true)]
    stages: Vec<OsString>,
}

/// One stage, ready to exec: everything allocated before fork.
struct Stage {
    argv: Vec<CString>,
    not_found: Vec<u8>,
}

fn main() -> ExitCode {
    let mut args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if fault!("empty-stage-ok") {
        // Skipping blank stages hides the mistake instead of reporting it.
        args.stages.retain(|s| !s.as_bytes().iter().all(u8::is_ascii_whitespace));
    }
    let Some(stages) = args.stages.iter().map(|s| parse_stage(s.as_bytes())).collect::<Option<Vec<Stage>>>() else {
        return ipc_common::usage(USAGE);
    };

    if fault!("shell-like-parent") {
        // A shell ignores SIGINT and blocks SIGCHLD while it waits; the
        // mistake is to reset only SIGPIPE in the children (below).
        // SAFETY: SIG_IGN runs no handler code.
        let _ = unsafe { signal(Signal::SIGINT, SigHandler::SigIgn) };
        let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::from(Signal::SIGCHLD)), None);
    }
    let mut children: Vec<Pid> = Vec::new();
    // The read end of the pipe from the previous stage, if any.
    let mut previous: Option<OwnedFd> = None;
    let mut error = None;
    for (i, stage) in stages.iter().enumerate() {
        // Every pipe is O_CLOEXEC: exec closes the copies a stage does not
        // need, so each stage starts with only 0, 1 and 2 (dup2 clears the flag).
        let next = if i + 1 < stages.len() || fault!("one-stage-pipe") {
            match pipe2(if fault!("no-cloexec") { OFlag::empty() } else { OFlag::O_CLOEXEC }) {
                Ok(ends) => Some(ends),
                Err(e) => {
                    error = Some(fail(PROGRAM, "pipe", e));
                    break;
                }
            }
        } else {
            None
        };
        // SAFETY: this program is single-threaded. The child calls only
        // dup2, sigaction, sigprocmask, execvp, write and _exit, and uses
        // only memory prepared before the fork.
        match unsafe { fork() } {
            Err(e) => {
                error = Some(fail(PROGRAM, "fork", e));
                break;
            }
            Ok(ForkResult::Child) => run_stage(stage, previous.as_ref(), next.as_ref().map(|(_, w)| w)),
            Ok(ForkResult::Parent { child }) => {
                children.push(child);
                // Keep only the read end for the next stage; dropping the write
                // end here is what lets that stage see end of file later.
                previous = next.map(|(read, write)| {
                    if fault!("no-close-parent") {
                        std::mem::forget(write);
                    }
                    read
                });
            }
        }
    }
    drop(previous);

    // Wait for every stage, in any order; the status is the last one's.
    let last = if fault!("first-status") { children.first() } else { children.last() }.copied();
    let mut status = 0;
    for child in children {
        if fault!("wait-last-only") && Some(child) != last {
            continue;
        }
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(pid, code)) if Some(pid) == last => status = code,
            Ok(WaitStatus::Signaled(pid, sig, _)) if Some(pid) == last && fault!("signal-as-code") => {
                status = sig as i32
            }
            Ok(WaitStatus::Signaled(pid, sig, _)) if Some(pid) == last => status = 128 + sig as i32,
            Ok(_) => {}
            Err(e) => return fail(PROGRAM, "waitpid", e),
        }
    }
    match error {
        Some(code) => code,
        None => ExitCode::from(status as u8),
    }
}

/// Splits a stage on ASCII whitespace; `None` for an empty stage.
fn parse_stage(stage: &[u8]) -> Option<Stage> {
    let argv: Vec<CString> = stage
        .split(|b| if fault!("split-on-space-only") { *b == b' ' } else { b.is_ascii_whitespace() })
        .filter(|word| !word.is_empty())
        .map(|word| CString::new(word).expect("arguments hold no NUL byte"))
        .collect();
    let program = argv.first()?;
    let mut not_found = format!("{PROGRAM}: ").into_bytes();
    not_found.extend_from_slice(program.as_bytes());
    not_found.extend_from_slice(b": command not found\n");
    Some(Stage { argv, not_found })
}

/// In the child: wire up stdin and stdout, restore signals, exec.
fn run_stage(stage: &Stage, input: Option<&OwnedFd>, output: Option<&OwnedFd>) -> ! {
    if let Some(fd) = input {
        if dup2_stdin(fd).is_err() {
            exit_child(126);
        }
    }
    if let Some(fd) = output {
        if dup2_stdout(fd).is_err() {
            exit_child(126);
        }
    }
    // Rust ignores SIGPIPE, and an ignored signal stays ignored across exec:
    // give every stage the default disposition of every signal, and an empty mask.
    for sig in Signal::iterator().filter(|s| !matches!(s, Signal::SIGKILL | Signal::SIGSTOP)) {
        if (fault!("keep-sigpipe-ignored") && sig == Signal::SIGPIPE)
            || (fault!("shell-like-parent") && sig != Signal::SIGPIPE)
        {
            continue;
        }
        // SAFETY: installing SIG_DFL runs no handler code.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
    if !fault!("shell-like-parent") {
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    }
    if fault!("stderr-to-null") {
        // Silencing the stages loses their error messages.
        if let Ok(null) = std::fs::File::open("/dev/null") {
            let _ = dup2_stderr(&null);
        }
    }

    // execvp returns only if it failed.
    let Err(err) = execvp(&stage.argv[0], &stage.argv);
    let stderr = std::io::stderr();
    if err == Errno::ENOENT && !fault!("wrong-not-found") {
        let _ = write(&stderr, &stage.not_found);
        exit_child(127);
    }
    // Found but not runnable (permission, format): report the OS's reason.
    let _ = write(&stderr, &stage.not_found[..stage.not_found.len() - b"command not found\n".len()]);
    let _ = write(&stderr, err.desc().as_bytes());
    let _ = write(&stderr, b"\n");
    exit_child(126)
}
