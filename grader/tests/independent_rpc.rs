//! Lab `rpc` checks the contract, not the reference: an implementation
//! written from shared/CONTRACT.md alone, in C with libc only
//! (`tests/independent/rpc/PROGRAM.c`), gets full marks.

use std::path::Path;
use std::time::Duration;

use ipc_engine::build::workspace_root;
use ipc_engine::proc::{self, Collected, Exit, Spec};
use serde_json::Value;

/// Runs a program to the end through the grader's own reaper (this test
/// process spawns through `ipc_engine::proc`, so std's `Command::output`
/// would race it for exit statuses).
fn run(program: &str, args: &[&str], cwd: &Path) -> Collected {
    let mut spec = Spec::new(program, args.iter().copied(), cwd);
    spec.env = vec![("NO_COLOR".into(), "1".into())];
    proc::output(spec, Duration::from_secs(300)).unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// `cc` (or $CC) compiles `PROGRAM.c` into `bin/PROGRAM`.
fn compile(source: &Path, exe: &Path) {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let (src, out) = (source.to_str().unwrap(), exe.to_str().unwrap());
    let done = run(&cc, &["-std=gnu11", "-O2", "-Wall", "-pthread", "-o", out, src], &workspace_root());
    assert_eq!(
        done.exit,
        Some(Exit::Code(0)),
        "{cc} could not compile {src}:\n{}",
        String::from_utf8_lossy(&done.stderr)
    );
}

/// The C implementation of `rpc-server` and `rpc-client` scores full marks
/// on every check of lab `rpc`.
#[test]
fn c_implementation_from_the_contract_scores_full_marks() {
    let sources = workspace_root().join("grader/tests/independent/rpc");
    let bin = tempfile::tempdir().unwrap();
    for program in ipc_grader::labs::rpc::PROGRAMS {
        compile(&sources.join(format!("{program}.c")), &bin.path().join(program));
    }
    let grader = env!("CARGO_BIN_EXE_ipc-grader");
    let done = run(grader, &["--bin-dir", bin.path().to_str().unwrap(), "rpc", "--format", "json"], &workspace_root());
    let report: Value = serde_json::from_slice(&done.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stderr:\n{}", String::from_utf8_lossy(&done.stderr)));
    let failed: Vec<String> = report["tests"]
        .as_array()
        .expect("tests[] in the report")
        .iter()
        .filter(|t| t["status"] != "passed")
        .map(|t| format!("{}: {}", t["name"], t["output"].as_str().unwrap_or_default()))
        .collect();
    assert!(failed.is_empty(), "the C implementation fails checks:\n{}", failed.join("\n\n"));
    assert_eq!(report["score"], report["max_score"]);
    assert_eq!(done.exit, Some(Exit::Code(0)));
}
