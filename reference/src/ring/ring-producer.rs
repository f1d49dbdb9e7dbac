//! `ring-producer`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("ring-producer: not written yet");
    ExitCode::from(1)
}
