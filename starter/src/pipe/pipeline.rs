//! `pipeline STAGE [STAGE...]`
//!
//! Runs the stages connected like a shell's `s1 | s2 | ...`. Each STAGE is one
//! argument, split on blanks into a program and its arguments
//! (`"wc -l"` → `wc`, `-l`). Read handouts/pipe.md first; `cargo grade pipe`
//! checks it.

// This lab's shared code (src/pipe/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod pipe;

use std::ffi::{CString, OsString};
use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `pipeline: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "pipeline";
const USAGE: &str = "pipeline STAGE [STAGE...]";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// Each stage: a program and its arguments, separated by blanks.
    #[arg(required = true)]
    stages: Vec<OsString>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        // A usage error prints ONE line on stderr and exits with status 2:
        // `ipc_common::usage(USAGE)`.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    // An empty stage ("" or "   ") is a usage error too.
    let stages: Vec<Vec<CString>> = args.stages.iter().map(split_stage).collect();
    ipc_common::finish(PROGRAM, run_pipeline(stages))
}

/// Splits one stage on ASCII whitespace into the `argv` for execvp.
///
/// Hints: `std::os::unix::ffi::OsStrExt::as_bytes`, `<[u8]>::split` with
/// `u8::is_ascii_whitespace`, skip empty words, `CString::new(word)`.
fn split_stage(stage: &OsString) -> Vec<CString> {
    let _ = stage;
    todo!("split the stage into words")
}

/// The lab. For N stages you need N-1 pipes and N children.
///
/// For stage i:
/// 1. If it is not the last stage, make the pipe to stage i+1 with
///    `nix::unistd::pipe2(OFlag::O_CLOEXEC)` (pipe(2)): with O_CLOEXEC, exec
///    closes every pipe descriptor a stage does not use.
/// 2. fork (fork(2)), with a `// SAFETY:` comment on what the child may call.
/// 3. In the child: `dup2_stdin(previous_read_end)` if there is a previous
///    pipe, `dup2_stdout(next_write_end)` if there is a next one (dup2(2)).
///    Set every signal back to `SigHandler::SigDfl` (signal(7): Rust ignores
///    SIGPIPE, and an ignored signal stays ignored across exec, so `yes | head`
///    would print errors). Then `execvp(&argv[0], &argv)` (execvp(3)). It
///    returns only on failure: with `Errno::ENOENT`, print
///    `pipeline: PROGRAM: command not found` and `ipc_common::exit_child(127)`.
/// 4. In the parent: remember the child's pid, keep the new pipe's read end
///    for the next stage, and drop (close) every other end you hold. A reader
///    sees end of file only when *every* write end is closed, in every process.
///
/// Finally wait for every child (waitpid(2)), in any order, and exit with the
/// last stage's status: its exit code, or 128+N if signal N killed it.
fn run_pipeline(stages: Vec<Vec<CString>>) -> ipc_common::Result<ExitCode> {
    let _ = stages;
    todo!("connect the stages with pipes, fork, dup2 and execvp (the steps above)")
}
