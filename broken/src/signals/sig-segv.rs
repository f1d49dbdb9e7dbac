//! `sig-segv` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("sig-segv-broken: not written yet");
    ExitCode::from(1)
}
