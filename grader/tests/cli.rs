//! The grader's command line and its robustness, black-box.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{CLASSROOM_BOUND, Classroom, assert_gradescope_keys};

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
/// killed with everything it started. (It says its pid on stderr: the
/// sandbox lets it write nowhere but its check's folder.)
#[test]
fn a_hung_program_is_stopped_at_the_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    script(dir.path(), "pipe-message", "echo \"pid $$\" >&2\nexec sleep 1000");
    let out = grader()
        .args(["--bin-dir", dir.path().to_str().unwrap(), "pipe::message-default", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out.stdout);
    let test = &report["tests"][0];
    assert_eq!(test["status"], "failed");
    let output = test["output"].as_str().unwrap();
    assert!(output.contains("did not finish"), "{test}");
    let took = test["execution_time"].as_f64().unwrap();
    assert!(took < 5.0 + 1.5, "the check took {took}s for a limit of 5s");
    let pid = number_after(output, "pid ");
    assert!(!alive(pid), "the hung program (pid {pid}) is still running");
}

/// A process that escapes with setsid is found, killed, and reported (with
/// its pid).
#[test]
fn an_escaped_process_is_killed_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let body =
        "setsid sleep 1000 &\nsleep 0.2\necho 'parent received: message for parent'\necho 'child exited with status 0'";
    script(dir.path(), "pipe-message", body);
    let out = grader()
        .args(["--bin-dir", dir.path().to_str().unwrap(), "pipe::message-default", "--format", "json"])
        .output()
        .unwrap();
    let report = json(&out.stdout);
    let output = report["tests"][0]["output"].as_str().unwrap().to_string();
    let reported = "1 process(es) still running after the program ended: ";
    assert!(output.contains(reported), "{output}");
    assert_eq!(out.status.code(), Some(1));
    let pid = number_after(&output, reported);
    assert!(!alive(pid), "the escaped process (pid {pid}) is still running");
}

/// The number that follows the first `marker` in `text`.
fn number_after(text: &str, marker: &str) -> i32 {
    let at = text.find(marker).unwrap_or_else(|| panic!("no {marker:?} in {text}")) + marker.len();
    let digits: String = text[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("no number after {marker:?} in {text}"))
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

/// With `--format github`, nothing a program prints becomes a workflow
/// command: the only command lines are the grader's own.
#[test]
fn github_format_cannot_be_injected() {
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "pipe-message",
        r"printf '::error::pwned\n  ::stop-commands::x\n::add-mask::y\n'; printf '::warning::e\n' >&2; exit 1",
    );
    let summary = dir.path().join("summary.md");
    let output = dir.path().join("output");
    let out = grader()
        .args(["--bin-dir", dir.path().to_str().unwrap(), "pipe::message-default", "--format", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8(out.stdout).unwrap();
    let mut lines = log.lines();
    let token = lines.next().unwrap().strip_prefix("::stop-commands::").expect("commands stopped first").to_string();
    let resume = format!("::{token}::");
    let after: Vec<&str> = lines.skip_while(|l| *l != resume).skip(1).collect();
    assert!(!after.is_empty(), "commands resumed after the report:\n{log}");
    for line in &after {
        let ours =
            line.starts_with("::error title=pipe%3A%3Amessage-default") || line.starts_with("::notice title=Score::");
        assert!(ours || !line.trim_start().starts_with("::"), "a workflow command from program output: {line}");
        assert!(!line.contains("::error::pwned") && !line.contains("::warning::e"), "{line}");
    }
    let classroom = Classroom::from_github_output(&output);
    let json = &classroom.json;
    assert_eq!(json["status"], "fail");
    let message = json["tests"][0]["message"].as_str().unwrap();
    assert!(message.lines().all(|l| !l.trim_start().starts_with("::")), "{message}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("0 / 2 points"), "{md}");
}

/// `--format gradescope` writes Gradescope's results.json to --output and
/// keeps the human report on stdout.
#[test]
fn gradescope_format_has_gradescope_fields() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    grader()
        .args(["--bin-dir", dir.path().to_str().unwrap(), "pipe", "--format", "gradescope", "-o"])
        .arg(&results)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("Score: 0/"));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    assert_gradescope_keys(&json);
    for key in ["score", "execution_time", "output", "visibility", "stdout_visibility", "tests"] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    let test = &json["tests"][0];
    for key in ["name", "score", "max_score", "status", "output", "tags", "visibility"] {
        assert!(test.get(key).is_some(), "missing tests[].{key}");
    }
    assert_eq!(test["status"], "failed");
    assert_eq!(test["tags"][0], "pipe");
}

/// Every program floods both streams (3 MB each, long lines, and a huge
/// argument check among them): the Classroom result stays valid and small,
/// scores 0, and GitHub gets at most ten annotations.
#[test]
fn classroom_result_stays_small_when_every_program_floods() {
    let dir = tempfile::tempdir().unwrap();
    for lab in ipc_grader::labs::LABS {
        for program in lab.programs {
            script(
                dir.path(),
                program,
                "head -c 3000000 /dev/zero | tr '\\0' 'x'; head -c 3000000 /dev/zero | tr '\\0' 'y' >&2; exit 0",
            );
        }
    }
    let output = dir.path().join("output");
    let summary = dir.path().join("summary.md");
    let out = grader()
        .args(["--bin-dir", dir.path().to_str().unwrap(), "--format", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output)
        .timeout(Duration::from_secs(600))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let classroom = Classroom::from_github_output(&output);
    assert!(classroom.encoded_len < CLASSROOM_BOUND, "result of {} bytes", classroom.encoded_len);
    assert_eq!(classroom.points, 0);
    let log = String::from_utf8_lossy(&out.stdout);
    let errors = log.lines().filter(|l| l.starts_with("::error ")).count();
    let notices = log.lines().filter(|l| l.starts_with("::notice ")).count();
    assert!(errors + notices <= 10 && notices == 1, "{errors} errors and {notices} notices");
    assert!(errors >= ipc_grader::labs::LABS.len().min(9), "the first failure of each lab: {errors}");
}

/// The huge argument of `pipe::message-large-text` is shown as the shell
/// command that makes it, never dumped, in every command, the human
/// report's included.
#[test]
fn huge_arguments_are_shown_by_the_command_that_makes_them() {
    let dir = tempfile::tempdir().unwrap();
    script(dir.path(), "pipe-message", "exit 3");
    grader()
        .args(["--bin-dir", dir.path().to_str().unwrap(), "pipe::message-large-text", "--verbose"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("pipe-message \"$(seq -s ' ' "))
        .stdout(predicate::str::contains(" | head -c 102400)\" < /dev/null | wc -c"))
        .stdout(predicate::function(|out: &str| out.lines().all(|l| l.len() < 1000)));
}

/// Wrappers around the grader's own ring peers, by every path (its `--peer`
/// option, a link named after the peer, a copy of the peers executable, a
/// forged token), and programs that do nothing otherwise, score 0 in
/// `ring`, with a message that names the rule (or, for `--peer` under
/// Landlock, says that the grader could not even be run).
#[test]
fn wrappers_around_the_graders_peers_earn_nothing() {
    let grader_exe = assert_cmd::cargo::cargo_bin("ipc-grader");
    let peers_exe = assert_cmd::cargo::cargo_bin("ipc-grader-peers");
    let g = grader_exe.display();
    for (how, producer, consumer) in [
        (
            "--peer",
            format!("exec {g} --peer ipc-ring-producer \"$@\""),
            format!("exec {g} --peer ipc-ring-consumer \"$@\""),
        ),
        (
            "link",
            "exec \"$(dirname \"$0\")/x/ipc-ring-producer\" \"$@\"".into(),
            "exec \"$(dirname \"$0\")/x/ipc-ring-consumer\" \"$@\"".into(),
        ),
        (
            "copy",
            "exec \"$(dirname \"$0\")/y/ipc-ring-producer\" \"$@\"".into(),
            "exec \"$(dirname \"$0\")/y/ipc-ring-consumer\" \"$@\"".into(),
        ),
        (
            "forged token",
            "IPC_GRADER_PEER='x y' exec \"$(dirname \"$0\")/x/ipc-ring-producer\" \"$@\"".into(),
            "IPC_GRADER_PEER='x y' exec \"$(dirname \"$0\")/x/ipc-ring-consumer\" \"$@\"".into(),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["x", "y"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        for peer in ["ipc-ring-producer", "ipc-ring-consumer"] {
            std::os::unix::fs::symlink(&peers_exe, dir.path().join("x").join(peer)).unwrap();
            std::fs::copy(&peers_exe, dir.path().join("y").join(peer)).unwrap();
        }
        script(dir.path(), "ring-producer", &producer);
        script(dir.path(), "ring-consumer", &consumer);
        script(dir.path(), "ring-fork", "exit 0");
        let out =
            grader().args(["--bin-dir", dir.path().to_str().unwrap(), "ring", "--format", "json"]).output().unwrap();
        let report = json(&out.stdout);
        assert_eq!(report["score"], 0, "{how}: wrappers around the grader's peers earned points");
        let outputs: String =
            report["tests"].as_array().unwrap().iter().map(|t| t["output"].as_str().unwrap()).collect();
        // Under Landlock, a program under test cannot even run the grader's
        // own executable (`--peer` goes through it); the peers executable
        // it may run, and there the peer refuses, naming the rule.
        let sandboxed = how == "--peer" && ipc_engine::sandbox::support().landlock.is_some();
        if sandboxed {
            assert!(outputs.contains("ipc-grader: Permission denied"), "{how}: the grader ran:\n{outputs}");
        } else {
            assert!(
                outputs.contains("a program does its lab's work itself"),
                "{how}: the rule is not named:\n{outputs}"
            );
        }
    }
}
