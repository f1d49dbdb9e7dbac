//! Lab `fifo` against programs that are not the reference: an implementation
//! written in C from the contract alone (`tests/independent/fifo/*.c`) gets
//! full marks, so the checks test the contract and not the reference's ways;
//! and programs that do nothing, print junk, or only fail get nothing.

use std::path::Path;
use std::time::Duration;

use ipc_engine::build::workspace_root;
use ipc_engine::proc::{self, Collected, Exit, Spec};
use ipc_grader::labs::LABS;
use serde_json::Value;

const LAB: &str = "fifo";

fn run(program: &str, args: &[&str], cwd: &Path) -> Collected {
    let mut spec = Spec::new(program, args.iter().copied(), cwd);
    spec.env = vec![("NO_COLOR".into(), "1".into())];
    // Through the grader's own spawn: only one party may reap children.
    proc::output(spec, Duration::from_secs(600)).expect("runs")
}

/// Grades `bin_dir` on the lab; returns the exit status and the JSON report.
fn grade(bin_dir: &Path) -> (Option<Exit>, Value) {
    let grader = env!("CARGO_BIN_EXE_ipc-grader");
    let out = run(grader, &["--bin-dir", bin_dir.to_str().unwrap(), "--format", "json", LAB], &workspace_root());
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("no JSON report ({e}); {:?}\nstderr:\n{}", out.exit, String::from_utf8_lossy(&out.stderr))
    });
    (out.exit, report)
}

fn programs() -> &'static [&'static str] {
    LABS.iter().find(|lab| lab.name == LAB).expect("the lab exists").programs
}

/// Failing checks of a report, with why.
fn failed(report: &Value) -> Vec<String> {
    report["tests"]
        .as_array()
        .expect("tests[]")
        .iter()
        .filter(|t| t["status"] != "passed")
        .map(|t| format!("{}: {}", t["name"], t["output"].as_str().unwrap_or_default()))
        .collect()
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
        let out = run("cc", &args, bin.path());
        assert_eq!(out.exit, Some(Exit::Code(0)), "cc {program}.c: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (exit, report) = grade(bin.path());
    let failed = failed(&report);
    assert!(failed.is_empty(), "the C implementation fails checks:\n{}", failed.join("\n\n"));
    assert_eq!(report["score"], report["max_score"]);
    assert_eq!(exit, Some(Exit::Code(0)));
}
