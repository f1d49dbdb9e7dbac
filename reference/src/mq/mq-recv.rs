//! `mq-recv`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mq-recv: not written yet");
    ExitCode::from(1)
}
