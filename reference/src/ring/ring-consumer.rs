//! `ring-consumer`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("ring-consumer: not written yet");
    ExitCode::from(1)
}
