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
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // Given: an empty stage ("" or "   ") is a usage error too.
    let stages: Vec<Vec<CString>> = args.stages.iter().map(split_stage).collect();
    if stages.iter().any(Vec::is_empty) {
        return ipc_common::usage(USAGE);
    }
    ipc_common::finish(PROGRAM, run_pipeline(stages))
}

/// Splits one stage on runs of ASCII whitespace (spaces, tabs) into the
/// `argv` that execvp takes; an empty or blank stage gives an empty `Vec`.
///
/// Read: `std::os::unix::ffi::OsStrExt`, `CString`.
fn split_stage(stage: &OsString) -> Vec<CString> {
    let _ = stage;
    todo!("split the stage into words")
}

/// The lab: the stages run like the shell's `s1 | s2 | ...`; the exit
/// status is the last stage's (128+N if signal N killed it).
///
/// Pitfalls:
/// - A reader sees end of file only when every copy of the write end is
///   closed, in every process: pipeline's own, and those its children
///   inherited. One forgotten copy and a stage waits forever.
/// - Each stage must start with only descriptors 0, 1 and 2, and with
///   every signal at its default and none blocked. Rust ignores SIGPIPE,
///   and an ignored signal stays ignored across exec.
/// - exec returns only when it failed; the child is then a copy of pipeline
///   halfway through its loop, and must end at once (127 for "not found").
/// - Between fork and exec the child may only call async-signal-safe
///   functions: prepare what it needs (argv, messages) before the fork.
/// - Start every stage before waiting for any, and wait for every stage.
///
/// Read: pipe(2), pipe2(2), fork(2), dup2(2), execvp(3), signal(7),
/// sigprocmask(2), waitpid(2); handouts/pipe.md.
/// Stuck? `cargo grade --hint pipeline` shows one hint at a time.
fn run_pipeline(stages: Vec<Vec<CString>>) -> ipc_common::Result<ExitCode> {
    let _ = stages;
    todo!("run the stages connected by pipes")
}
