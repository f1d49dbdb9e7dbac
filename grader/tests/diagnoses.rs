//! Failures that name the bug (issue 23): for each bug a student planted,
//! switched on as a fault of broken/, the report's first lines under "What
//! went wrong" are the diagnosis that explains the failing checks together,
//! and every explained check's JSON output starts with it; and `--repeat`
//! says how many repetitions a check passed when it fails only sometimes.

use std::path::Path;
use std::time::Duration;

use ipc_engine::build::{self, Crate};
use ipc_engine::proc::{self, Collected, Exit, Spec};
use ipc_grader::labs::LABS;
use ipc_grader::rubric::Rubric;
use serde_json::Value;

mod common;
use common::{bin_dir_with_fault, built};

/// Runs the grader (human report, no colour) with `args`.
fn grader(args: &[&str]) -> Collected {
    let mut spec = Spec::new(env!("CARGO_BIN_EXE_ipc-grader"), args.iter().copied(), build::workspace_root());
    spec.env = vec![("NO_COLOR".into(), "1".into()), ("IPC_FAULT".into(), "".into())];
    proc::output(spec, Duration::from_secs(600)).expect("the grader runs")
}

/// The lines after `What went wrong`, blank ones left out.
fn what_went_wrong(report: &str) -> Vec<&str> {
    report.lines().skip_while(|l| *l != "What went wrong").skip(1).filter(|l| !l.trim().is_empty()).collect()
}

/// Grades `lab` with `fault` switched on in `program` and checks that the
/// report leads with the diagnosis `name`, which explains at least the
/// checks the fault is known to break.
fn leads_with(lab: &str, program: &str, fault: &str, name: &str, breaks: &[&str]) {
    let rubric = Rubric::builtin(LABS).unwrap();
    let diagnosis = rubric.labs[lab].diagnoses.iter().find(|d| d.name == name).expect("the rubric has it");
    let dir = tempfile::tempdir().unwrap();
    bin_dir_with_fault(dir.path(), program, fault);
    let bin_dir = dir.path().to_str().unwrap();

    let out = grader(&["--bin-dir", bin_dir, lab]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.exit, Some(Exit::Code(1)), "{report}");
    // The report's first lines name it, before the table (after its notes
    // on the machine, such as a crowded machine's state).
    let second = report.lines().filter(|l| !l.starts_with("NOTE: ")).nth(1).unwrap_or_default();
    assert!(
        second.starts_with("Likely bug") && second.contains(diagnosis.says.trim()),
        "{lab} with {program}/{fault}: the report does not start with `{name}`:\n{report}"
    );
    let lines = what_went_wrong(&report);
    let head = lines.iter().take(3).copied().collect::<Vec<_>>().join("\n");
    assert!(
        lines.first().is_some_and(|l| l.starts_with("Likely cause of ")) && head.contains(diagnosis.says.trim()),
        "{lab} with {program}/{fault}: the report does not lead with `{name}`:\n{report}"
    );
    let explains = lines.iter().find_map(|l| l.trim().strip_prefix("explains: ")).expect("an explains: line");
    for check in breaks {
        assert!(explains.split(", ").any(|c| c == *check), "`{name}` does not explain {check}: {explains}");
    }

    // The same in every machine-readable format (they share the text).
    let out = grader(&["--bin-dir", bin_dir, "--format", "json", lab]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    for check in breaks {
        let t = json["tests"].as_array().unwrap().iter().find(|t| t["name"] == format!("{lab}::{check}")).unwrap();
        let output = t["output"].as_str().unwrap();
        assert!(output.starts_with("likely cause ("), "{check}: {output}");
        assert!(output.contains(diagnosis.hint.trim()), "{check}: the diagnosis's hint is not its hint:\n{output}");
    }
}

#[test]
fn head_published_before_the_copy_is_named() {
    let breaks = ["random-10mib", "capacity-7", "producer-with-grader-consumer"];
    leads_with("ring", "ring-producer", "head-before-copy", "head-before-copy", &breaks);
    leads_with("ring", "ring-fork", "head-before-copy", "head-before-copy", &["fork-10mib", "fork-capacity-7"]);
}

#[test]
fn one_waitpid_per_sigchld_is_named() {
    leads_with("signals", "sig-reaper", "one-wait-per-signal", "one-wait-per-sigchld", &["reaper-500"]);
}

#[test]
fn a_client_that_writes_everything_before_reading_is_named() {
    // tcp-pair-echo too, when the pair's buffers fill (see broken/faults/sockets.toml).
    let breaks = ["tcp-client-echo-20mib"];
    leads_with("sockets", "tcp-client", "write-then-read", "client-writes-before-reading", &breaks);
}

/// A correct program is never diagnosed: the reference's report has no
/// "What went wrong" at all (the proof shows it passes), and a bug the
/// diagnoses do not know gets its check's own hint.
#[test]
fn a_bug_no_diagnosis_knows_keeps_the_checks_hint() {
    let dir = tempfile::tempdir().unwrap();
    bin_dir_with_fault(dir.path(), "sig-reaper", "raw-status");
    let out = grader(&["--bin-dir", dir.path().to_str().unwrap(), "signals::reaper-fifty"]);
    let report = String::from_utf8_lossy(&out.stdout);
    let lines = what_went_wrong(&report);
    assert!(lines.first().is_some_and(|l| l.starts_with("✘ signals::reaper-fifty")), "{report}");
    assert!(!report.contains("Likely cause"), "{report}");
    assert!(report.contains("hint: Print the exit code from WaitStatus::Exited"), "{report}");
}

/// A folder whose `sig-reaper` is the reference, except on its 2nd, 5th,
/// ... run, when it is the broken twin with `raw-status` (wrong statuses):
/// a program that fails one time in three. It counts its runs in a file
/// beside it, which only a grader without the sandbox lets it write (see
/// [`unconfined_grader`]).
fn fails_one_time_in_three(dir: &Path) {
    let reference = built(Crate::Reference);
    let broken = built(Crate::Broken);
    for (name, exe) in reference.iter() {
        if name != "sig-reaper" {
            std::os::unix::fs::symlink(exe, dir.join(name)).unwrap();
        }
    }
    let counter = dir.join("runs");
    let script = format!(
        "#!/bin/sh\nn=$(cat '{c}' 2>/dev/null || echo 0)\necho $((n + 1)) > '{c}'\nif [ $((n % 3)) = 1 ]; then \
         IPC_FAULT=raw-status exec '{b}' \"$@\"; fi\nexec '{r}' \"$@\"\n",
        c = counter.display(),
        b = broken.path("sig-reaper").display(),
        r = reference.path("sig-reaper").display()
    );
    let target = dir.join("sig-reaper");
    std::fs::write(&target, script).unwrap();
    let mut perms = std::fs::metadata(&target).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&target, perms).unwrap();
}

/// The grader without separate users, Landlock and private namespaces (as
/// on a machine without them): for a test of `--repeat` whose program
/// keeps a count across its runs, which the sandbox rightly forbids.
fn unconfined_grader(args: &[&str]) -> Collected {
    let mut spec = Spec::new(env!("CARGO_BIN_EXE_ipc-grader"), args.iter().copied(), build::workspace_root());
    spec.env = vec![
        ("NO_COLOR".into(), "1".into()),
        ("IPC_FAULT".into(), "".into()),
        (ipc_engine::sandbox::WITHOUT_VAR.into(), "users,landlock,namespaces".into()),
    ];
    proc::output(spec, Duration::from_secs(600)).expect("the grader runs")
}

#[test]
fn repeat_says_a_check_failed_one_time_in_three() {
    let dir = tempfile::tempdir().unwrap();
    fails_one_time_in_three(dir.path());
    let bin_dir = dir.path().to_str().unwrap();
    // One job: the repetitions run in order, so the second is the bad one.
    let out = unconfined_grader(&["--bin-dir", bin_dir, "--repeat", "3", "--jobs", "1", "signals::reaper-fifty"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.exit, Some(Exit::Code(1)), "{report}");
    let row = report.lines().find(|l| l.contains("reaper-fifty") && l.contains("0/2")).expect("the check's row");
    assert!(row.trim_end().ends_with("passed 2 of 3"), "{report}");
    assert!(report.contains("passed 2 of 3 repetitions (✔✘✔); what repetition 2 saw is shown above"), "{report}");
    assert!(report.contains("the statuses are not those of the children"), "the failing run's details:\n{report}");

    std::fs::remove_file(dir.path().join("runs")).unwrap();
    let out = unconfined_grader(&[
        "--bin-dir",
        bin_dir,
        "--repeat",
        "3",
        "--jobs",
        "1",
        "--format",
        "json",
        "signals::reaper-fifty",
    ]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let output = json["tests"][0]["output"].as_str().unwrap();
    assert!(output.contains("passed 2 of 3 repetitions (✔✘✔)"), "{output}");
}
