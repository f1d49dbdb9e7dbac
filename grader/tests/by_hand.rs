//! The commands `--verbose` prints to reproduce a failure run as printed,
//! by hand, in an empty directory, and show the failure the grader saw;
//! and the hint that comes with a failure fits its kind.
//!
//! Each case grades one check on the reference's programs with one of
//! them broken (a fault of `broken/faults/`), takes the printed commands
//! from the human report, runs them with bash in a new empty directory with
//! a bare `PATH` (so nothing is found that the commands do not provide),
//! and compares what they print with what the grader's report says it got.

use std::path::Path;
use std::time::Duration;

use ipc_engine::build::{self, Crate};
use ipc_engine::proc::{self, Exit, Spec};
use ipc_grader::labs::LABS;
use ipc_grader::rubric::Rubric;
use serde_json::Value;

mod common;
use common::built;

/// A folder of the reference's programs with `program` broken by `fault`.
fn bin_dir_with_fault(program: &str, fault: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::bin_dir_with_fault(dir.path(), program, fault);
    dir
}

/// What the grader said about one failing check.
struct Graded {
    /// The commands under "to reproduce by hand", as printed.
    commands: Vec<String>,
    /// The check's entry in the JSON report.
    test: Value,
}

/// Grades `check` in `dir` with `--verbose`, the human report on stdout and
/// the JSON report in a file.
fn grade(dir: &Path, check: &str) -> Graded {
    let json = dir.join("report.json");
    let args =
        ["--bin-dir", dir.to_str().unwrap(), "--verbose", "--format", "json", "-o", json.to_str().unwrap(), check];
    let mut spec = Spec::new(env!("CARGO_BIN_EXE_ipc-grader"), args, build::workspace_root());
    spec.env = vec![("NO_COLOR".into(), "1".into()), ("IPC_FAULT".into(), "".into())];
    let out = proc::output(spec, Duration::from_secs(300)).expect("the grader runs");
    let human = String::from_utf8_lossy(&out.stdout).into_owned();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let test = report["tests"][0].clone();
    assert_eq!(test["status"], "failed", "{check} should fail here:\n{human}");
    let commands: Vec<String> = human
        .lines()
        .skip_while(|l| !l.contains("to reproduce by hand"))
        .skip(1)
        .map_while(|l| l.strip_prefix("      $ "))
        .map(str::to_string)
        .collect();
    assert!(!commands.is_empty(), "no commands printed for {check}:\n{human}");
    Graded { commands, test }
}

/// What the printed commands did when run by hand.
struct ByHand {
    status: Option<Exit>,
    stdout: String,
    stderr: String,
    script: String,
}

/// Runs `commands` one after the other in one bash, in a new empty
/// directory, with only the system's own folders on `PATH`.
fn run_by_hand(commands: &[String]) -> ByHand {
    let empty = tempfile::tempdir().unwrap();
    let script = commands.join("\n");
    let mut spec = Spec::new("/bin/bash", ["-c", &script], empty.path());
    spec.env = vec![("PATH".into(), "/usr/bin:/bin".into())];
    let out = proc::output(spec, Duration::from_secs(60)).expect("bash runs");
    ByHand {
        status: out.exit,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        script,
    }
}

fn output(test: &Value) -> &str {
    test["output"].as_str().unwrap()
}

/// The value of a field of the grader's explanation (`got: ...`).
fn field<'a>(test: &'a Value, label: &str) -> &'a str {
    output(test).lines().find_map(|l| l.strip_prefix(label)).unwrap_or_else(|| panic!("no `{label}` in {test}"))
}

/// `pipeline 'ipc-probe stderr ...' cat`: the probe is on the printed
/// PATH, and the stage's line is missing on stderr by hand as it was for
/// the grader.
#[test]
fn a_pipeline_with_the_graders_probe_reproduces() {
    let dir = bin_dir_with_fault("pipeline", "stderr-to-null");
    let graded = grade(dir.path(), "pipe::pipeline-stderr-inherited");
    assert_eq!(field(&graded.test, "got: "), "(nothing)");
    assert!(output(&graded.test).contains("(exit status 0)"));
    assert!(graded.commands[0].starts_with("export PATH="), "{:?}", graded.commands);
    let hand = run_by_hand(&graded.commands);
    assert_eq!(hand.status, Some(Exit::Code(0)), "{}\n{}", hand.script, hand.stderr);
    assert_eq!(hand.stderr, "", "by hand, as for the grader, nothing on stderr:\n{}", hand.script);
    // The same commands with a correct pipeline do show the probe's line:
    // the probe was found and ran.
    let good = graded
        .commands
        .iter()
        .map(|c| {
            c.replace(
                &format!("{}/pipeline", dir.path().display()),
                built(Crate::Reference).path("pipeline").to_str().unwrap(),
            )
        })
        .collect::<Vec<_>>();
    let hand = run_by_hand(&good);
    assert_eq!(hand.stderr, "from-the-first-stage\n", "{}", hand.script);
}

/// The signals each stage started with, read by the printed `cat`, are the
/// ones the grader reports.
#[test]
fn a_stages_signals_reproduce() {
    let dir = bin_dir_with_fault("pipeline", "shell-like-parent");
    let graded = grade(dir.path(), "pipe::pipeline-signals-default");
    assert_eq!(field(&graded.test, "got: "), "ignored: SIGINT; blocked: SIGCHLD");
    let hand = run_by_hand(&graded.commands);
    assert_eq!(hand.stdout, "ignored SIGINT SIGPIPE\nblocked SIGCHLD\n", "{}\n{}", hand.script, hand.stderr);
}

/// mq-recv with a fixed buffer on the queue of 8192-byte messages the
/// printed commands create: the same error and status by hand.
#[test]
fn a_queue_made_with_its_attributes_reproduces() {
    let dir = bin_dir_with_fault("mq-recv", "fixed-buffer");
    let graded = grade(dir.path(), "mq::recv-large-message");
    assert!(
        graded.commands.iter().any(|c| c.contains("create") && c.contains("--msgsize 8192")),
        "{:?}",
        graded.commands
    );
    let stderr = field(&graded.test, "stderr: ");
    assert!(stderr.ends_with("Message too long"), "{stderr}");
    let hand = run_by_hand(&graded.commands);
    assert_eq!(hand.stderr.trim_end(), stderr, "{}", hand.script);
    assert_eq!(hand.status, Some(Exit::Code(0)), "the last command, the clean-up, succeeds:\n{}", hand.script);
    // And the clean-up left no queue: running it all again gives the same.
    assert_eq!(run_by_hand(&graded.commands).stderr, hand.stderr);
}

/// What the queue holds after mq-send, drained by hand as the check did.
#[test]
fn a_queues_contents_reproduce() {
    let dir = bin_dir_with_fault("mq-send", "join-messages");
    let graded = grade(dir.path(), "mq::send-keeps-boundaries");
    let hand = run_by_hand(&graded.commands);
    assert_eq!(hand.stdout.trim_end(), field(&graded.test, "got: "), "{}\n{}", hand.script, hand.stderr);
}

/// The mode of the queue mq-send created, looked at by hand.
#[test]
fn a_queues_mode_reproduces() {
    let dir = bin_dir_with_fault("mq-send", "mode-0644");
    let graded = grade(dir.path(), "mq::send-creates-queue");
    let got = field(&graded.test, "got: ");
    assert!(got.starts_with("mode 0644"), "{got}");
    let hand = run_by_hand(&graded.commands);
    assert!(hand.stdout.starts_with("mode 0644, mq_maxmsg 10, mq_msgsize 1024"), "{}\n{}", hand.script, hand.stdout);
}

/// A check that waits for a program in the background: by hand the
/// always-non-blocking mq-recv gives up at once, as the grader saw.
#[test]
fn a_program_that_should_wait_reproduces() {
    let dir = bin_dir_with_fault("mq-recv", "always-nonblock");
    let graded = grade(dir.path(), "mq::recv-waits-for-message");
    assert!(output(&graded.test).contains("exited instead of waiting for a message"), "{}", output(&graded.test));
    let hand = run_by_hand(&graded.commands);
    assert!(hand.stderr.contains(": queue empty"), "{}\n{}", hand.script, hand.stderr);
}

/// A hang gets the check's hint for a time-out, which names why a pipeline
/// hangs; a wrong output gets the check's general hint.
#[test]
fn the_hint_fits_the_kind_of_failure() {
    let rubric = Rubric::builtin(LABS).unwrap();
    let entry = rubric.entry("pipe", "pipeline-stderr-inherited").unwrap();
    let timeout_hint = entry.hints.get("timeout").expect("a time-out hint").trim().to_string();
    assert!(timeout_hint.contains("write end"), "{timeout_hint}");
    let hung = grade(bin_dir_with_fault("pipeline", "no-close-parent").path(), "pipe::pipeline-stderr-inherited");
    assert!(output(&hung.test).contains(&format!("hint: {timeout_hint}")), "{}", output(&hung.test));
    let wrong = grade(bin_dir_with_fault("pipeline", "stderr-to-null").path(), "pipe::pipeline-stderr-inherited");
    assert!(output(&wrong.test).contains(&format!("hint: {}", entry.hint.trim())), "{}", output(&wrong.test));
}

/// Every check of the labs `pipe` and `mq` has a hint for a time-out.
#[test]
fn every_check_says_why_it_may_hang() {
    let rubric = Rubric::builtin(LABS).unwrap();
    for lab in LABS.iter().map(|l| l.name) {
        for entry in &rubric.labs[lab].checks {
            assert!(entry.hints.contains_key("timeout"), "{lab}::{} has no `hints.timeout`", entry.name);
        }
    }
}

/// A check that signals the program as it runs says its commands are
/// partial, naming the program; one that only runs a program to its end
/// does not.
#[test]
fn what_no_command_shows_is_said() {
    let dir = bin_dir_with_fault("sig-counter", "no-bye");
    let graded = grade(dir.path(), "signals::counter-int-term");
    let last = graded.commands.last().unwrap();
    assert!(
        last.starts_with("# partial: while `sig-counter` ran, the grader also acted on it"),
        "{:?}",
        graded.commands
    );

    let dir = bin_dir_with_fault("pipeline", "stderr-to-null");
    let graded = grade(dir.path(), "pipe::pipeline-stderr-inherited");
    assert!(!graded.commands.iter().any(|c| c.contains("partial")), "{:?}", graded.commands);
}
