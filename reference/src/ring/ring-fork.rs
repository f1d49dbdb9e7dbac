//! `ring-fork`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("ring-fork: not written yet");
    ExitCode::from(1)
}
