//! `sig-segv`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("sig-segv: not written yet");
    ExitCode::from(1)
}
