//! Lab `signals` against programs that are not the reference: `sig-counter`
//! and `sig-reaper` written in C from the contract alone
//! (`tests/independent/signals/*.c`), which wait in other ways than the
//! reference (a signalfd; sigwaitinfo), get full marks on every check of
//! theirs, the waiting checks included; and the naive versions of issue 23
//! (`naive/*.c`: handlers that print, a pause() loop, nothing blocked) lose
//! the waiting checks' points, with a message that names the race.

use std::path::Path;
use std::time::Duration;

use ipc_engine::build::workspace_root;
use ipc_engine::proc::{self, Collected, Exit, Spec};
use ipc_grader::labs::LABS;
use serde_json::Value;

const PROGRAMS: &[&str] = &["sig-counter", "sig-reaper"];

fn run(program: &str, args: &[&str], cwd: &Path) -> Collected {
    let mut spec = Spec::new(program, args.iter().copied(), cwd);
    spec.env = vec![("NO_COLOR".into(), "1".into())];
    // Through the grader's own spawn: only one party may reap children.
    proc::output(spec, Duration::from_secs(600)).expect("runs")
}

/// Compiles `dir/PROGRAM.c` for both programs into a new folder.
fn compile(dir: &Path) -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    for program in PROGRAMS {
        let source = dir.join(format!("{program}.c"));
        let exe = bin.path().join(program);
        let args = ["-O2", "-Wall", "-Wextra", "-Werror", "-o", exe.to_str().unwrap(), source.to_str().unwrap()];
        let out = run("cc", &args, bin.path());
        assert_eq!(out.exit, Some(Exit::Code(0)), "cc {program}.c: {}", String::from_utf8_lossy(&out.stderr));
    }
    bin
}

/// Every check of the lab that runs only `sig-counter` or `sig-reaper`.
fn their_checks() -> Vec<String> {
    let lab = LABS.iter().find(|lab| lab.name == "signals").expect("the lab exists");
    (lab.checks)()
        .into_iter()
        .filter(|c| c.name.starts_with("counter-") || c.name.starts_with("reaper-"))
        .map(|c| format!("signals::{}", c.name))
        .collect()
}

/// Grades `bin_dir` on `checks`; returns the exit status and the JSON report.
fn grade(bin_dir: &Path, checks: &[String]) -> (Option<Exit>, Value) {
    let grader = env!("CARGO_BIN_EXE_ipc-grader");
    let mut args = vec!["--bin-dir", bin_dir.to_str().unwrap(), "--format", "json"];
    args.extend(checks.iter().map(String::as_str));
    let out = run(grader, &args, &workspace_root());
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("no JSON report ({e}); {:?}\nstderr:\n{}", out.exit, String::from_utf8_lossy(&out.stderr))
    });
    (out.exit, report)
}

fn tests(report: &Value) -> &Vec<Value> {
    report["tests"].as_array().expect("tests[]")
}

#[test]
fn c_implementation_waiting_otherwise_scores_full_marks() {
    let bin = compile(&workspace_root().join("grader/tests/independent/signals"));
    let checks = their_checks();
    assert!(checks.iter().any(|c| c.ends_with("-waits-atomically")), "{checks:?}");
    let (exit, report) = grade(bin.path(), &checks);
    let failed: Vec<String> = tests(&report)
        .iter()
        .filter(|t| t["status"] != "passed")
        .map(|t| format!("{}: {}", t["name"], t["output"].as_str().unwrap_or_default()))
        .collect();
    assert!(failed.is_empty(), "the C implementation fails checks:\n{}", failed.join("\n\n"));
    assert_eq!(tests(&report).len(), checks.len());
    assert_eq!(report["score"], report["max_score"]);
    assert_eq!(exit, Some(Exit::Code(0)));
}

#[test]
fn naive_programs_lose_the_waiting_checks_with_the_race_named() {
    let bin = compile(&workspace_root().join("grader/tests/independent/signals/naive"));
    let checks = ["signals::counter-waits-atomically".to_string(), "signals::reaper-waits-atomically".to_string()];
    let (exit, report) = grade(bin.path(), &checks);
    for t in tests(&report) {
        let output = t["output"].as_str().unwrap_or_default();
        assert_eq!(t["status"], "failed", "{}: the naive program passed", t["name"]);
        assert_eq!(t["score"], 0);
        assert!(
            // pause() on x86-64; glibc makes it ppoll() on machines without a pause system call.
            output.contains("unblocked: a signal that comes after it last looked for work")
                && output.contains("The lost wake-up"),
            "{}: the message does not name the race:\n{output}",
            t["name"]
        );
    }
    assert_eq!(tests(&report).len(), 2);
    assert_eq!(exit, Some(Exit::Code(1)));
}
