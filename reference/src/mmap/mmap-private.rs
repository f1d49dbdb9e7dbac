//! `mmap-private`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mmap-private: not written yet");
    ExitCode::from(1)
}
