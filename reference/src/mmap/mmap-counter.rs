//! `mmap-counter`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mmap-counter: not written yet");
    ExitCode::from(1)
}
