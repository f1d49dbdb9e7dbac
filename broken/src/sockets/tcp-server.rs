//! `tcp-server` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("tcp-server-broken: not written yet");
    ExitCode::from(1)
}
