//! `tcp-client` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("tcp-client-broken: not written yet");
    ExitCode::from(1)
}
