//! `sig-counter`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("sig-counter: not written yet");
    ExitCode::from(1)
}
