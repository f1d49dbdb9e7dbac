//! `mmap-read` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mmap-read-broken: not written yet");
    ExitCode::from(1)
}
