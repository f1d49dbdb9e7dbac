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
    let e = ipc_engine::peer::exec_under_test(&argv);
    eprintln!("{NAME}: {}: {e}", program.to_string_lossy());
    ExitCode::from(127)
}

fn fail(path: &OsString, e: std::io::Error) -> ExitCode {
    eprintln!("{NAME}: {}: {e}", path.to_string_lossy());
    ExitCode::from(1)
}
