//! `mmap-read`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mmap-read: not written yet");
    ExitCode::from(1)
}
