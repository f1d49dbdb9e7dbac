//! `mq-send` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mq-send-broken: not written yet");
    ExitCode::from(1)
}
