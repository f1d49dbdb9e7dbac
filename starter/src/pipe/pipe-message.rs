//! `pipe-message [--exit CODE] [TEXT]`
//!
//! A child sends TEXT (default `message for parent`) to its parent through a
//! pipe and exits with status CODE (default 0). The parent prints
//!
//! ```text
//! parent received: TEXT
//! child exited with status CODE
//! ```
//!
//! and exits 0. Read handouts/pipe.md first; `cargo grade pipe` checks it.

// This lab's shared code (src/pipe/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod pipe;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `pipe-message: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "pipe-message";
const USAGE: &str = "pipe-message [--exit CODE] [TEXT]";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// The child's exit status.
    #[arg(long = "exit", value_name = "CODE", default_value_t = 0)]
    exit: u8,
    /// What the child sends.
    #[arg(default_value = "message for parent")]
    text: OsString,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, send_to_parent(args.text, args.exit))
}

/// The lab. The steps, each with its man page (`man 2 pipe`, ...):
///
/// 1. `nix::unistd::pipe()` gives `(read_end, write_end)`, two `OwnedFd`s.
///    Make it *before* fork, so both processes have both ends.
/// 2. `unsafe { nix::unistd::fork() }` (fork(2)). Write a `// SAFETY:` comment
///    saying what the child may do: this program is single-threaded, and the
///    child only writes to the pipe and exits.
/// 3. In the child (`ForkResult::Child`): drop the read end; write all of
///    TEXT (`std::fs::File::from(write_end).write_all(...)`: one write(2) may
///    take only part of it); then end with `ipc_common::exit_child(code)`
///    (_exit(2), not `std::process::exit`).
/// 4. In the parent (`ForkResult::Parent { child }`): drop the write end
///    *first*. Read until end of file: `read_to_end` calls read(2) until it
///    returns 0, which happens only once every write end is closed. One read
///    is not enough: the pipe holds 64 KiB and TEXT may be larger.
/// 5. `nix::sys::wait::waitpid(child, None)` (waitpid(2)) gives
///    `WaitStatus::Exited(pid, code)`. Print the two lines, exit 0.
///
/// On a failed system call: `return ipc_common::fail(PROGRAM, "pipe", err)`.
fn send_to_parent(text: OsString, code: u8) -> ipc_common::Result<()> {
    let _ = (text, code);
    todo!("send TEXT from a child to its parent through a pipe (the steps above)")
}
