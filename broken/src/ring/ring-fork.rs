//! `ring-fork` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("ring-fork-broken: not written yet");
    ExitCode::from(1)
}
