//! `mmap-copy`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mmap-copy: not written yet");
    ExitCode::from(1)
}
