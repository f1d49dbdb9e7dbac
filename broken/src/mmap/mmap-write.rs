//! `mmap-write` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mmap-write-broken: not written yet");
    ExitCode::from(1)
}
