//! `sig-reaper` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("sig-reaper-broken: not written yet");
    ExitCode::from(1)
}
