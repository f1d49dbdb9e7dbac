//! `mq-send`: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mq-send: not written yet");
    ExitCode::from(1)
}
