//! `tcp-client`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("tcp-client: not written yet");
    ExitCode::from(1)
}
