//! The grader's own programs by hand: `--peer NAME ARGS...` runs one as
//! `--verbose` shows it, `--peer-path` prints the folder that holds them.

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::{ERROR, PASSED};

/// `--peer NAME ARGS...`: becomes the peers executable with these
/// arguments (it runs the peer by hand, and refuses inside a check).
pub(super) fn run_by_hand(args: &[OsString]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let peers = match ipc_engine::peer::executable() {
        Ok(path) => path,
        Err(e) => {
            eprintln!("cargo grade --peer: cannot find the grader's own executable: {e}");
            return ExitCode::from(ERROR);
        }
    };
    let error = std::process::Command::new(&peers).arg0(ipc_engine::peer::GRADER).args(args).exec();
    eprintln!("cargo grade --peer: cannot run {}: {error} (build it: cargo build -p ipc-grader)", peers.display());
    ExitCode::from(ERROR)
}

/// `--peer-path`: makes the folder of the grader's own programs and prints it.
pub(super) fn print_path() -> Result<u8> {
    let dir = ipc_engine::peer::by_hand_dir(&ipc_engine::peer::by_hand_names(&ipc_peers::all()))
        .context("cannot make the folder of the grader's own programs")?;
    println!("{}", dir.display());
    Ok(PASSED)
}
