//! `mq-recv` with faults: not written yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("mq-recv-broken: not written yet");
    ExitCode::from(1)
}
