//! `udp-client` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("udp-client-broken: not written yet");
    ExitCode::from(1)
}
