//! `mmap-write`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mmap-write: not written yet");
    ExitCode::from(1)
}
