//! Lab `sysv` graded on an implementation written from the contract alone,
//! in C (`tests/independent/sysv/*.c`, one file per program): full marks
//! show that the checks test the contract, not the Rust reference's quirks.

use std::path::Path;
use std::time::Duration;

use ipc_engine::build;
use ipc_engine::proc::{self, Collected, Exit, Spec};
use ipc_grader::labs::LABS;
use serde_json::Value;

/// Runs a program to the end through the grader's own reaper (this test
/// process spawns with `ipc_engine::proc`, so std's `Command::output` may
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

/// Compiles `source` into `exe` with `cc`.
fn cc(source: &Path, exe: &Path) {
    let root = build::workspace_root();
    let args =
        ["-std=c11", "-D_XOPEN_SOURCE=700", "-O2", "-Wall", "-o", exe.to_str().unwrap(), source.to_str().unwrap()];
    let out = run("cc", &args, &root, Duration::from_secs(120));
    assert_eq!(out.exit, Some(Exit::Code(0)), "cc {}: {}", source.display(), show(&out));
}

/// A folder with every program of lab `sysv` compiled from C.
fn c_bin_dir() -> tempfile::TempDir {
    let sources = build::workspace_root().join("grader/tests/independent/sysv");
    let bin = tempfile::tempdir().unwrap();
    for program in sysv().programs {
        cc(&sources.join(format!("{program}.c")), &bin.path().join(program));
    }
    bin
}

fn sysv() -> &'static ipc_grader::labs::Lab {
    LABS.iter().find(|l| l.name == "sysv").expect("lab sysv")
}

/// Segments whose key has the contract's project id `'R'` in its top byte,
/// or whose size is `LEAK_SIZE`: what the programs below can leave.
fn graded_segments() -> Vec<ipc_engine::sysv::Segment> {
    ipc_engine::sysv::segments()
        .into_iter()
        .filter(|s| (s.key as u32) >> 24 == u32::from(b'R') || s.size == LEAK_SIZE)
        .collect()
}

/// The size of the `IPC_PRIVATE` segment the leaky wrapper makes.
const LEAK_SIZE: u64 = 4097;

/// A wrapper around the C sysv-shm (`argv[0]` + `.real`) that leaves two
/// things behind: an `IPC_PRIVATE` segment of 4097 bytes, and an escapee
/// (its environment emptied, so no grader tag; its output closed, so the
/// check does not wait for it) that makes the segment of the check's key
/// again 0.3 s later, after its check's leak scan.
const LEAKY: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "@late") == 0) {
        usleep(300000);
        shmget((key_t)strtol(argv[2], NULL, 10), 1024, IPC_CREAT | 0644);
        return 0;
    }
    shmget(IPC_PRIVATE, 4097, IPC_CREAT | 0600);
    key_t key = argc > 1 ? ftok(argv[argc > 2 ? argc - 2 : 1], 'R') : -1;
    if (key != -1 && fork() == 0) {
        setsid();
        if (fork() == 0) {
            char k[32], *env[] = {NULL};
            snprintf(k, sizeof k, "%d", (int)key);
            close(0); close(1); close(2);
            execle(argv[0], argv[0], "@late", k, (char *)NULL, env);
        }
        _exit(0);
    }
    char real[4096];
    snprintf(real, sizeof real, "%s.real", argv[0]);
    execv(real, argv);
    return 127;
}
"#;

/// Every check of lab `sysv` fails on a program that leaves an
/// `IPC_PRIVATE` segment behind, and after the run no segment the run's
/// programs made is left, not even those an escapee made after its check.
#[test]
#[serial_test::serial]
fn sysv_segments_left_behind_fail_and_are_removed() {
    let bin = c_bin_dir();
    let source = bin.path().join("leaky.c");
    std::fs::write(&source, LEAKY).unwrap();
    std::fs::rename(bin.path().join("sysv-shm"), bin.path().join("sysv-shm.real")).unwrap();
    cc(&source, &bin.path().join("sysv-shm"));
    assert!(graded_segments().is_empty(), "segments left before the test: {:?}", graded_segments());

    let out = run(
        env!("CARGO_BIN_EXE_ipc-grader"),
        &["--bin-dir", bin.path().to_str().unwrap(), "--format", "json", "--repeat", "3", "sysv"],
        &build::workspace_root(),
        Duration::from_secs(300),
    );
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON report ({e}): {}", show(&out)));
    for t in report["tests"].as_array().expect("tests[]") {
        let output = t["output"].as_str().unwrap_or_default();
        assert_eq!(t["status"], "failed", "{}: a leaked segment must fail the check", t["name"]);
        assert!(output.contains("the System V segment of key IPC_PRIVATE"), "{}: {output}", t["name"]);
    }
    let left = graded_segments();
    assert!(left.is_empty(), "segments left after the run: {left:?}");
}

/// Every program of lab `sysv`, compiled from C with `cc`, gets full marks.
#[test]
#[serial_test::serial]
fn c_implementation_of_sysv_scores_full_marks() {
    let root = build::workspace_root();
    let bin = c_bin_dir();
    let lab = sysv();

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
