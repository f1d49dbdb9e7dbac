//! `sig-counter` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("sig-counter-broken: not written yet");
    ExitCode::from(1)
}
