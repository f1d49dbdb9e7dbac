//! Lab `sysv` graded on an implementation written from the contract alone,
//! in C (`tests/independent/sysv/*.c`, one file per program): full marks
//! show that the checks test the contract, not the Rust reference's quirks.

use std::path::Path;
use std::time::Duration;

use ipc_grader::build;
use ipc_grader::labs::LABS;
use ipc_grader::proc::{self, Collected, Exit, Spec};
use serde_json::Value;

/// Runs a program to the end through the grader's own reaper (this test
/// process spawns with `ipc_grader::proc`, so std's `Command::output` may
/// not wait for children here).
fn run(program: &str, args: &[&str], cwd: &Path, limit: Duration) -> Collected {
    let mut spec = Spec::new(program, args.iter().copied(), cwd);
    spec.env = vec![("NO_COLOR".into(), "1".into())];
    proc::output(spec, limit).unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

fn show(out: &Collected) -> String {
    format!(
        "{:?}\nstdout:\n{}\nstderr:\n{}",
        out.exit,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every program of lab `sysv`, compiled from C with `cc`, gets full marks.
#[test]
fn c_implementation_of_sysv_scores_full_marks() {
    let root = build::workspace_root();
    let sources = root.join("grader/tests/independent/sysv");
    let bin = tempfile::tempdir().unwrap();
    let lab = LABS.iter().find(|l| l.name == "sysv").expect("lab sysv");
    for program in lab.programs {
        let source = sources.join(format!("{program}.c"));
        let exe = bin.path().join(program);
        let out = run(
            "cc",
            &["-std=c11", "-D_XOPEN_SOURCE=700", "-O2", "-Wall", "-o", exe.to_str().unwrap(), source.to_str().unwrap()],
            &root,
            Duration::from_secs(120),
        );
        assert_eq!(out.exit, Some(Exit::Code(0)), "cc {}: {}", source.display(), show(&out));
    }

    let out = run(
        env!("CARGO_BIN_EXE_ipc-grader"),
        &["--bin-dir", bin.path().to_str().unwrap(), "--format", "json", "sysv"],
        &root,
        Duration::from_secs(300),
    );
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON report ({e}): {}", show(&out)));
    let failed: Vec<String> = report["tests"]
        .as_array()
        .expect("tests[]")
        .iter()
        .filter(|t| t["status"] != "passed")
        .map(|t| format!("{}: {}", t["name"], t["output"].as_str().unwrap_or_default()))
        .collect();
    assert!(failed.is_empty(), "the C implementation fails checks:\n{}", failed.join("\n\n"));
    assert_eq!(report["score"], report["max_score"]);
    assert_eq!(report["tests"].as_array().unwrap().len(), (lab.checks)().len(), "every check of the lab ran");
    assert_eq!(out.exit, Some(Exit::Code(0)), "{}", show(&out));
}
