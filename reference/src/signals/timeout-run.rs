//! `timeout-run`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("timeout-run: not written yet");
    ExitCode::from(1)
}
