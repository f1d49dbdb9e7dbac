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
use ipc_common::{Context, exit_child, fault};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, dup2_stdin, dup2_stdout, execvp, fork, pipe2, write};

/// Used in error messages: `pipeline: CONTEXT: REASON`.
const PROGRAM: &str = "pipeline";
const USAGE: &str = "pipeline STAGE [STAGE...]";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// Each stage: a program and its arguments, separated by blanks.
    #[arg(required = true)]
    stages: Vec<OsString>,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // An empty stage ("" or "   ") is a usage error too.
    let stages: Vec<Vec<CString>> = args.stages.iter().map(split_stage).collect();
    fault!("empty-stage-ok" => let stages = pipe::faults::without_empty_stages(stages));
    if stages.iter().any(Vec::is_empty) {
        return ipc_common::usage(USAGE);
    }
    ipc_common::finish(PROGRAM, run_pipeline(stages))
}

/// Splits one stage on ASCII whitespace into the `argv` for execvp.
fn split_stage(stage: &OsString) -> Vec<CString> {
    stage
        .as_bytes()
        .split(|b| if fault!("split-on-space-only") { *b == b' ' } else { b.is_ascii_whitespace() })
        .filter(|word| !word.is_empty())
        .map(|word| CString::new(word).expect("a command-line argument holds no NUL byte"))
        .collect()
}

/// The lab: N stages, N-1 pipes, N children; the status is the last stage's.
fn run_pipeline(stages: Vec<Vec<CString>>) -> ipc_common::Result<ExitCode> {
    fault!("shell-like-parent" => pipe::faults::act_like_a_shell());
    let mut children: Vec<Pid> = Vec::new();
    // The read end of the pipe from the previous stage, if any.
    let mut previous: Option<OwnedFd> = None;
    let mut failed = None;
    for (i, argv) in stages.iter().enumerate() {
        // The child may not allocate: its error message is made here.
        let not_found = [PROGRAM.as_bytes(), b": ", argv[0].as_bytes(), b": command not found\n"].concat();
        // Every pipe is O_CLOEXEC: exec closes the copies a stage does not
        // need, so each stage starts with only 0, 1 and 2 (dup2 clears the flag).
        let next = if i + 1 < stages.len() || fault!("one-stage-pipe") {
            match pipe2(if fault!("no-cloexec") { OFlag::empty() } else { OFlag::O_CLOEXEC }).context("pipe") {
                Ok(ends) => Some(ends),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        } else {
            None
        };
        // SAFETY: this program is single-threaded. The child calls only
        // dup2, sigaction, sigprocmask, execvp, write and _exit, and uses
        // only memory prepared before the fork.
        match unsafe { fork() }.context("fork") {
            Err(e) => {
                failed = Some(e);
                break;
            }
            Ok(ForkResult::Child) => exec_stage(argv, &not_found, previous.as_ref(), next.as_ref().map(|(_, w)| w)),
            Ok(ForkResult::Parent { child }) => {
                children.push(child);
                previous = next.map(|(read, write)| {
                    fault!("no-close-parent" => std::mem::forget(write.try_clone()));
                    // The next stage sees end of file only once every copy
                    // of this write end is closed, ours too.
                    drop(write);
                    read
                });
            }
        }
    }
    drop(previous);

    // Wait for every stage, in any order; the status is the last one's.
    let last = children.last().copied();
    fault!("first-status" => let last = children.first().copied());
    let mut status = 0;
    for child in children {
        fault!("wait-last-only" => if Some(child) != last { continue });
        let code = match waitpid(child, None).context("waitpid")? {
            WaitStatus::Exited(_, code) => code,
            WaitStatus::Signaled(_, signal, _) if fault!("signal-as-code") => signal as i32,
            WaitStatus::Signaled(_, signal, _) => 128 + signal as i32,
            _ => continue,
        };
        if Some(child) == last {
            status = code;
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(ExitCode::from(status as u8)),
    }
}

/// In the child: wire up stdin and stdout, restore signals, exec. Calls only
/// async-signal-safe functions (dup2, sigaction, sigprocmask, execvp, write,
/// _exit) on memory made before the fork.
fn exec_stage(argv: &[CString], not_found: &[u8], input: Option<&OwnedFd>, output: Option<&OwnedFd>) -> ! {
    if input.is_some_and(|fd| dup2_stdin(fd).is_err()) || output.is_some_and(|fd| dup2_stdout(fd).is_err()) {
        exit_child(126);
    }
    // Rust ignores SIGPIPE, and an ignored signal stays ignored across exec:
    // give every stage the default disposition of every signal, and an empty mask.
    for sig in Signal::iterator().filter(|s| !matches!(s, Signal::SIGKILL | Signal::SIGSTOP)) {
        if (fault!("keep-sigpipe-ignored") && sig == Signal::SIGPIPE) || fault!("shell-like-parent") {
            continue;
        }
        // SAFETY: installing SIG_DFL runs no handler code.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    fault!("shell-like-parent" => pipe::faults::default_sigpipe_only());
    fault!("stderr-to-null" => pipe::faults::stderr_to_null());

    // execvp returns only if it failed.
    let Err(err) = execvp(&argv[0], argv);
    let stderr = std::io::stderr();
    if err == Errno::ENOENT && !fault!("wrong-not-found") {
        let _ = write(&stderr, not_found);
        exit_child(127);
    }
    // Found but not runnable (permission, format): the OS's reason.
    let _ = write(&stderr, &not_found[..not_found.len() - b"command not found\n".len()]);
    let _ = write(&stderr, err.desc().as_bytes());
    let _ = write(&stderr, b"\n");
    exit_child(126)
}
