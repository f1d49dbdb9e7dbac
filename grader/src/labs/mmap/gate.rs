//! `ipc-mmap-gate FIFO READY PROGRAM [ARG...]`: a trusted starting gate, so
//! that several copies of a program start at the same moment.
//!
//! It opens FIFO for reading, creates the file READY (the check waits for
//! every gate's file), reads one byte from FIFO (blocking until the check
//! writes one byte per gate), then restores the default disposition of every
//! signal and `execvp`s PROGRAM with its arguments. The pid stays the same,
//! so the check waits for and kills the program as if it had started it.

use std::ffi::{CString, OsString};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
use nix::unistd::execvp;

pub const NAME: &str = "ipc-mmap-gate";

pub fn main(args: Vec<OsString>) -> ExitCode {
    let [fifo, ready, program, ..] = args.as_slice() else {
        eprintln!("usage: {NAME} FIFO READY PROGRAM [ARG...]");
        return ExitCode::from(2);
    };
    let argv: Option<Vec<CString>> = args[2..].iter().map(|a| CString::new(a.as_bytes()).ok()).collect();
    let Some(argv) = argv else {
        eprintln!("{NAME}: an argument holds a NUL byte");
        return ExitCode::from(2);
    };
    // std opens with O_CLOEXEC: the program does not inherit the FIFO.
    let mut gate = match std::fs::File::open(fifo) {
        Ok(file) => file,
        Err(e) => return fail(fifo, e),
    };
    if let Err(e) = std::fs::write(ready, b"ready\n") {
        return fail(ready, e);
    }
    let mut byte = [0u8; 1];
    match gate.read(&mut byte) {
        Ok(1) => {}
        Ok(_) => {
            eprintln!("{NAME}: the gate closed without opening");
            return ExitCode::from(1);
        }
        Err(e) => return fail(fifo, e),
    }
    drop(gate);
    // This gate is a Rust program, which ignores SIGPIPE; the program under
    // test must start with every signal at its default, as if run directly.
    for sig in Signal::iterator().filter(|s| !matches!(s, Signal::SIGKILL | Signal::SIGSTOP)) {
        // SAFETY: installing SIG_DFL runs no handler code.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    // The program under test must not inherit the token that lets the
    // grader's partners run (ipc_engine::misuse).
    // SAFETY: this peer is single-threaded (it started no thread), so no
    // other thread reads the environment while it changes.
    unsafe { std::env::remove_var(ipc_engine::peer::TOKEN_VAR) };
    let Err(e) = execvp(&argv[0], &argv);
    eprintln!("{NAME}: {}: {e}", program.to_string_lossy());
    ExitCode::from(127)
}

fn fail(path: &OsString, e: std::io::Error) -> ExitCode {
    eprintln!("{NAME}: {}: {e}", path.to_string_lossy());
    ExitCode::from(1)
}
