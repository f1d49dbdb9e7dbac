//! `udp-server` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("udp-server-broken: not written yet");
    ExitCode::from(1)
}
