//! `udp-server`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("udp-server: not written yet");
    ExitCode::from(1)
}
