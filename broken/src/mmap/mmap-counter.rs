//! `mmap-counter` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mmap-counter-broken: not written yet");
    ExitCode::from(1)
}
