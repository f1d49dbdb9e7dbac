//! `ring-producer` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("ring-producer-broken: not written yet");
    ExitCode::from(1)
}
