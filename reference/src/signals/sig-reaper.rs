//! `sig-reaper`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("sig-reaper: not written yet");
    ExitCode::from(1)
}
