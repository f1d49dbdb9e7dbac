//! `mmap-copy` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mmap-copy-broken: not written yet");
    ExitCode::from(1)
}
