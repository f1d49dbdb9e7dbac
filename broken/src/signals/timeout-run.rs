//! `timeout-run` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("timeout-run-broken: not written yet");
    ExitCode::from(1)
}
