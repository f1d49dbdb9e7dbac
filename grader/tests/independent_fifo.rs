//! Lab `fifo` against programs that are not the reference: an implementation
//! written in C from the contract alone (`tests/independent/fifo/*.c`) gets
//! full marks, so the checks test the contract and not the reference's ways;
//! and programs that do nothing, print junk, or only fail get nothing.

use std::path::Path;

use ipc_engine::build::workspace_root;
use ipc_engine::proc::Exit;
use ipc_grader::labs::LABS;
use serde_json::Value;

mod common;
use common::{failed_checks, run_to_end};

const LAB: &str = "fifo";

/// Grades `bin_dir` on the lab; returns the exit status and the JSON report.
fn grade(bin_dir: &Path) -> (Option<Exit>, Value) {
    let grader = env!("CARGO_BIN_EXE_ipc-grader");
    let out = run_to_end(grader, &["--bin-dir", bin_dir.to_str().unwrap(), "--format", "json", LAB], &workspace_root());
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("no JSON report ({e}); {:?}\nstderr:\n{}", out.exit, String::from_utf8_lossy(&out.stderr))
    });
    (out.exit, report)
}

fn programs() -> &'static [&'static str] {
    LABS.iter().find(|lab| lab.name == LAB).expect("the lab exists").programs
}

/// The C programs, compiled with `cc` (which every machine that links Rust
/// has), score full marks.
#[test]
fn c_implementation_from_the_contract_scores_full_marks() {
    let sources = workspace_root().join("grader/tests/independent").join(LAB);
    let bin = tempfile::tempdir().unwrap();
    for program in programs() {
        let source = sources.join(format!("{program}.c"));
        let exe = bin.path().join(program);
        let args = ["-O2", "-Wall", "-Wextra", "-Werror", "-o", exe.to_str().unwrap(), source.to_str().unwrap()];
        let out = run_to_end("cc", &args, bin.path());
        assert_eq!(out.exit, Some(Exit::Code(0)), "cc {program}.c: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (exit, report) = grade(bin.path());
    let failed = failed_checks(&report);
    assert!(failed.is_empty(), "the C implementation fails checks:\n{}", failed.join("\n\n"));
    assert_eq!(report["score"], report["max_score"]);
    assert_eq!(exit, Some(Exit::Code(0)));
}
