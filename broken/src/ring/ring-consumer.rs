//! `ring-consumer` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("ring-consumer-broken: not written yet");
    ExitCode::from(1)
}
