//! A crowded machine costs a correct program no points: a failure that time
//! or CPU share could cause, seen while the machine was overloaded, is run
//! again alone before it counts, and the reports say so. Not timing-flaky:
//! the machine's state is pretended (`IPC_GRADER_PRETEND_OVERLOADED`), and
//! the program is slow by design (a hang the first time, told by a state
//! file), not by luck.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

/// The grader, with the machine pretended overloaded (`"1"`) or not
/// (`"0"`), and without the sandbox (the test's programs keep a state file
/// outside their check's folder, which the sandbox would not let them write).
fn grader(overloaded: &str) -> Command {
    let mut cmd = Command::cargo_bin("ipc-grader").unwrap();
    cmd.env("NO_COLOR", "1")
        .env("IPC_GRADER_PRETEND_OVERLOADED", overloaded)
        .env("IPC_GRADER_WITHOUT", "users,landlock,namespaces")
        .timeout(Duration::from_secs(120));
    cmd
}

/// `pipe-message` in `dir`: hangs on its first `hangs` runs (counted in
/// `dir/runs`), then prints what the contract asks; or prints `output`.
fn pipe_message(dir: &Path, hangs: u32, output: &str) {
    use std::os::unix::fs::PermissionsExt;
    let runs = dir.join("runs");
    let body = format!(
        "#!/bin/sh\necho run >> '{runs}'\nif [ \"$(wc -l < '{runs}')\" -le {hangs} ]; then exec sleep 1000; fi\n\
         printf '{output}'\n",
        runs = runs.display()
    );
    let path = dir.join("pipe-message");
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

const RIGHT: &str = "parent received: message for parent\\nchild exited with status 0\\n";

/// Grades `pipe::message-default` with `args`, writing the `--format`
/// report to a file; returns the exit status, the human report and the
/// machine report's text.
fn grade(dir: &Path, overloaded: &str, args: &[&str]) -> (i32, String, String) {
    let report = dir.join("report");
    let out = grader(overloaded)
        .args(["--bin-dir", dir.to_str().unwrap(), "pipe::message-default", "-o", report.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout).into_owned();
    let machine = std::fs::read_to_string(&report).unwrap_or_default();
    (out.status.code().unwrap_or(-1), human, machine)
}

fn runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("runs")).unwrap_or_default().lines().count()
}

/// Slow the first time on a machine measured overloaded: run again alone,
/// it passes, with full points; every report says it was run again and why.
#[test]
fn a_time_out_while_overloaded_is_run_again_alone_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    pipe_message(dir.path(), 1, RIGHT);
    let (status, human, json) = grade(dir.path(), "1", &["--format", "json"]);
    assert_eq!(status, 0, "{human}");
    assert_eq!(runs(dir.path()), 2, "one run, then one alone");
    assert!(human.contains("passed when run again alone"), "{human}");
    assert!(human.contains("Run again alone"), "{human}");
    assert!(human.contains("It failed at first (timeout: did not finish within the check's time limit"), "{human}");
    assert!(human.contains("a failure that rests on a time limit, while the machine was overloaded"), "{human}");
    assert!(human.contains("it passed: the first failure does not count"), "{human}");
    assert!(human.contains("[overloaded pretended by IPC_GRADER_PRETEND_OVERLOADED=1]"), "{human}");
    let report: Value = serde_json::from_str(&json).unwrap();
    let test = &report["tests"][0];
    assert_eq!((test["status"].as_str(), test["score"].as_u64()), (Some("passed"), Some(2)), "{test}");
    assert!(test["output"].as_str().unwrap().contains("Run again alone after the other checks, it passed"), "{test}");
    let notes = report["notes"].to_string();
    assert!(notes.contains("During grading, the machine was overloaded"), "{notes}");
    assert!(notes.contains("passed alone: pipe::message-default; failed again (the failure stands): none"), "{notes}");
}

/// A program that hangs every time still fails on an overloaded machine:
/// run again alone (here once, `--reruns 1`), it fails again, and the
/// failure stands, saying how long the grader waited and in what state
/// the machine was.
#[test]
fn a_time_out_that_repeats_alone_stands() {
    let dir = tempfile::tempdir().unwrap();
    pipe_message(dir.path(), 100, RIGHT);
    let (status, human, results) = grade(dir.path(), "1", &["--format", "gradescope", "--reruns", "1"]);
    assert_eq!(status, 1, "{human}");
    assert_eq!(runs(dir.path()), 2, "one run, then one alone");
    assert!(human.contains("(failed again alone)"), "{human}");
    assert!(human.contains("(waited 5.0 s)"), "{human}");
    assert!(human.contains("while the check ran (5."), "{human}");
    assert!(human.contains("Run again alone after the other checks (once), it failed again: the failure stands"));
    let report: Value = serde_json::from_str(&results).unwrap();
    let test = &report["tests"][0];
    assert_eq!((test["status"].as_str(), test["score"].as_u64()), (Some("failed"), Some(0)), "{test}");
    assert!(test["output"].as_str().unwrap().contains("the failure stands"), "{test}");
    let output = report["output"].as_str().unwrap();
    assert!(output.contains("failed again (the failure stands): pipe::message-default"), "{output}");
}

/// Wrong bytes are no machine's doing: never run again, however loaded.
#[test]
fn wrong_output_is_never_run_again() {
    let dir = tempfile::tempdir().unwrap();
    pipe_message(dir.path(), 0, "parent received: something else\\nchild exited with status 0\\n");
    let (status, human, _) = grade(dir.path(), "1", &["--format", "json"]);
    assert_eq!(status, 1, "{human}");
    assert_eq!(runs(dir.path()), 1, "never run again");
    assert!(!human.contains("It failed at first"), "{human}");
    assert!(human.contains("is run again alone before it counts; none had to be"), "{human}");
    assert!(human.contains("the default TEXT is `message for parent`"), "{human}");
}

/// On a machine that is not overloaded, a time-out stands at once, and says
/// so: a student can tell a hang from a slow machine.
#[test]
fn a_time_out_on_a_quiet_machine_is_not_run_again() {
    let dir = tempfile::tempdir().unwrap();
    pipe_message(dir.path(), 1, RIGHT);
    let (status, human, _) = grade(dir.path(), "0", &["--format", "json"]);
    assert_eq!(status, 1, "{human}");
    assert_eq!(runs(dir.path()), 1, "not run again");
    assert!(!human.contains("alone"), "{human}");
    assert!(human.contains("(waited 5.0 s)"), "{human}");
    assert!(human.contains("the machine was not overloaded ("), "{human}");
    assert!(human.contains("[not overloaded pretended by IPC_GRADER_PRETEND_OVERLOADED=0]"), "{human}");
}
