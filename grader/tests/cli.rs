//! The grader's command line and its robustness, black-box.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn grader() -> Command {
    let mut cmd = Command::cargo_bin("ipc-grader").unwrap();
    cmd.env("NO_COLOR", "1").timeout(Duration::from_secs(120));
    cmd
}

/// Writes an executable shell script `name` into `dir`.
fn script(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out).expect("a JSON report")
}

fn alive(pid: i32) -> bool {
    // A zombie has been killed; only a running process counts.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !matches!(s[s.rfind(')').unwrap() + 2..].chars().next(), Some('Z') | Some('X')))
        .unwrap_or(false)
}

/// An unknown lab or check is a usage error (status 2) that lists the labs.
#[test]
fn unknown_filter_is_a_usage_error() {
    grader()
        .args(["--bin-dir", "/nonexistent", "nosuchlab"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`nosuchlab` names no lab or check").and(predicate::str::contains("pipe")));
}

/// `--list` shows every check with its points and time limit.
#[test]
fn list_shows_checks_with_points() {
    grader()
        .args(["--list", "pipe"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("pipe::message-default").and(predicate::str::contains("checks,")));
}

/// A missing --bin-dir folder is a usage error, said plainly.
#[test]
fn missing_bin_dir_is_an_error() {
    grader()
        .args(["--bin-dir", "/nonexistent/bin"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such folder"));
}

/// In an empty folder every check fails, saying which program is missing.
#[test]
fn missing_programs_fail_with_their_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = grader().args(["--bin-dir", dir.path().to_str().unwrap(), "pipe", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out.stdout);
    for t in report["tests"].as_array().unwrap() {
        assert_eq!(t["status"], "failed");
        assert!(t["output"].as_str().unwrap().contains("not found"), "{t}");
    }
}

/// A program that hangs costs its check's time limit and no more, and is
/// killed with everything it started.
#[test]
fn a_hung_program_is_stopped_at_the_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    script(dir.path(), "pipe-message", &format!("echo $$ > '{}'\nexec sleep 1000", pidfile.display()));
    let out = grader()
        .args(["--bin-dir", dir.path().to_str().unwrap(), "pipe::message-default", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out.stdout);
    let test = &report["tests"][0];
    assert_eq!(test["status"], "failed");
    assert!(test["output"].as_str().unwrap().contains("did not finish"), "{test}");
    let took = test["execution_time"].as_f64().unwrap();
    assert!(took < 5.0 + 1.5, "the check took {took}s for a limit of 5s");
    let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    assert!(!alive(pid), "the hung program (pid {pid}) is still running");
}

/// A process that escapes with setsid is found, killed, and reported.
#[test]
fn an_escaped_process_is_killed_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let body = format!(
        "setsid sh -c 'echo $$ > {}; exec sleep 1000' &\nsleep 0.2\necho 'parent received: message for parent'\necho 'child exited with status 0'",
        pidfile.display()
    );
    script(dir.path(), "pipe-message", &body);
    let out = grader()
        .args(["--bin-dir", dir.path().to_str().unwrap(), "pipe::message-default", "--format", "json"])
        .output()
        .unwrap();
    let report = json(&out.stdout);
    let output = report["tests"][0]["output"].as_str().unwrap().to_string();
    assert!(output.contains("still running after the program ended"), "{output}");
    assert_eq!(out.status.code(), Some(1));
    let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    assert!(!alive(pid), "the escaped process (pid {pid}) is still running");
}

/// Whatever a program prints (escape sequences, invalid UTF-8, NUL) reaches
/// no report raw.
#[test]
fn program_output_is_escaped_in_reports() {
    let dir = tempfile::tempdir().unwrap();
    script(dir.path(), "pipe-message", r"printf '\033[2J\377\000::error::pwned\n' >&2; exit 3");
    let bin = dir.path().to_str().unwrap();
    let out = grader().args(["--bin-dir", bin, "pipe::message-default"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!out.stdout.contains(&0x1b) && !out.stdout.contains(&0), "raw control bytes in the human report");
    let text = String::from_utf8(out.stdout).expect("the report is UTF-8");
    assert!(text.contains(r"\e[2J\xff\0::error::pwned"), "{text}");
    let out = grader().args(["--bin-dir", bin, "pipe::message-default", "--format", "json"]).output().unwrap();
    let report = json(&out.stdout);
    assert!(report["tests"][0]["output"].as_str().unwrap().contains(r"\e[2J\xff\0"));
}
