//! `mmap-private` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mmap-private-broken: not written yet");
    ExitCode::from(1)
}
