//! The grader against hostile and broken submissions (tests/hostile/).
//!
//! Each hostile program poses as `pipe-message` beside the reference's other
//! programs. Grading the `pipe` lab must finish within the stated bound,
//! score the `message-*` checks 0 and every `pipeline-*` check in full, leave
//! no process and no IPC object behind, and print a complete, readable report.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ipc_engine::build::{self, Crate, Programs, workspace_root};
use ipc_engine::proc::{self, Exit, Spec};
use ipc_grader::labs::LABS;
use ipc_grader::rubric::Rubric;
use serde_json::Value;

const JOBS: usize = 4;

fn reference() -> &'static Programs {
    static BUILT: OnceLock<Programs> = OnceLock::new();
    BUILT.get_or_init(|| {
        build::build(Crate::Reference, &workspace_root(), None, Duration::from_secs(900))
            .unwrap_or_else(|e| panic!("cannot build the reference: {e:?}"))
            .programs
    })
}

/// The grader's bound for the `pipe` lab if every program hung: each check
/// takes at most its limit plus one second (watchdog, leak check, clean-up),
/// and JOBS workers share them (list scheduling: sum / jobs + longest).
fn pipe_bound() -> Duration {
    let rubric = Rubric::builtin(LABS).unwrap();
    let costs: Vec<f64> = rubric.labs["pipe"].checks.iter().map(|c| c.time_limit + 1.0).collect();
    let sum: f64 = costs.iter().sum();
    let longest = costs.iter().copied().fold(0.0, f64::max);
    Duration::from_secs_f64(sum / JOBS as f64 + longest)
}

/// Every long-lived process a hostile program starts carries a number
/// unique to its test (`sleep NUMBER`, from `HOSTILE_MARKER`), so tests
/// running at once do not see each other's processes.
fn marker(name: &str) -> String {
    let n = name.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!("9{:06}", n % 1_000_000)
}

/// Processes whose command line carries the marker and are not zombies.
fn survivors(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let zombie = matches!(proc::state(nix::unistd::Pid::from_raw(pid)), Some('Z') | Some('X') | None);
        if cmdline.contains(marker) && !zombie {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}

/// The reference's programs, and as `pipe-message` the hostile script with
/// this test's marker written in (programs under test get no variable of
/// the grader's environment).
fn bin_dir(hostile: &Path, marker: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, exe) in reference().iter() {
        std::os::unix::fs::symlink(exe, dir.path().join(name)).unwrap();
    }
    std::fs::remove_file(dir.path().join("pipe-message")).unwrap();
    let script = std::fs::read_to_string(hostile).unwrap().replace("${HOSTILE_MARKER:-987654}", marker);
    let copy = dir.path().join("pipe-message");
    std::fs::write(&copy, script).unwrap();
    std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    dir
}

/// Grades the `pipe` lab with `hostile` as pipe-message and checks everything
/// the module documentation promises. Returns the human report.
fn grade_hostile(name: &str) -> String {
    grade_hostile_with(name, &[])
}

/// As [`grade_hostile`], with more environment for the grader.
fn grade_hostile_with(name: &str, env: &[(&str, &Path)]) -> String {
    let hostile: PathBuf = workspace_root().join("grader/tests/hostile").join(name);
    let marker = marker(name);
    let dir = bin_dir(&hostile, &marker);
    let json_path = dir.path().join("report.json");
    // No reruns: the bound below is `--list`'s worst case, which counts
    // none, and a test machine busy with other tests would rerun hangs.
    let args =
        ["--bin-dir", dir.path().to_str().unwrap(), "--jobs", "4", "--reruns", "0", "pipe", "--format", "json", "-o"];
    let mut spec = Spec::new(env!("CARGO_BIN_EXE_ipc-grader"), args, workspace_root());
    spec.args.push(json_path.clone().into());
    spec.env = vec![("NO_COLOR".into(), "1".into())];
    spec.env.extend(env.iter().map(|(k, v)| (k.into(), v.into())));
    let started = Instant::now();
    let out = proc::output(spec, pipe_bound() + Duration::from_secs(60)).expect("the grader runs");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.exit, Some(Exit::Code(1)), "{name}: grader status; stderr:\n{stderr}");
    assert!(took <= pipe_bound(), "{name}: grading took {took:?}, over the bound of {:?}", pipe_bound());

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    for t in report["tests"].as_array().unwrap() {
        let check = t["name"].as_str().unwrap();
        let expected = if check.starts_with("pipe::message-") { "failed" } else { "passed" };
        assert_eq!(t["status"], expected, "{name}: {check}: {}", t["output"]);
    }
    let left = survivors(&marker);
    assert!(left.is_empty(), "{name}: processes survived grading: {left:#?}");
    let shm: Vec<String> = std::fs::read_dir("/dev/shm")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(&marker))
        .collect();
    assert!(shm.is_empty(), "{name}: shared-memory objects left: {shm:?}");

    // The human report: complete, and only printable text.
    let human = String::from_utf8(out.stdout).unwrap_or_else(|_| panic!("{name}: the report is not UTF-8"));
    assert!(human.contains("Score: "), "{name}: no score line:\n{human}");
    for check in report["tests"].as_array().unwrap() {
        let short = check["name"].as_str().unwrap().trim_start_matches("pipe::");
        assert!(human.contains(short), "{name}: {short} missing from the report");
    }
    let bad: Vec<char> = human.chars().filter(|c| c.is_control() && *c != '\n' && *c != '\t').collect();
    assert!(bad.is_empty(), "{name}: control characters in the report: {bad:?}");
    human
}

#[test]
fn a_program_that_hangs() {
    grade_hostile("hang");
}

#[test]
fn a_program_that_spins() {
    grade_hostile("spin");
}

#[test]
fn a_program_that_aborts() {
    let report = grade_hostile("abort");
    assert!(report.contains("killed by signal 6 (SIGABRT)"), "{report}");
}

#[test]
fn a_program_that_dies_of_sigsegv() {
    let report = grade_hostile("segv");
    assert!(report.contains("killed by signal 11 (SIGSEGV)"), "{report}");
}

#[test]
fn a_program_that_floods_a_gigabyte() {
    let report = grade_hostile("flood");
    assert!(report.contains("bytes in all"), "the report should say how much came: {report}");
}

#[test]
fn a_program_that_prints_garbage_and_workflow_commands() {
    let report = grade_hostile("garbage");
    assert!(report.contains(r"\xff\xfe\0\e[2J"), "{report}");
    assert!(report.lines().all(|l| !l.trim_start().starts_with("::")), "{report}");
}

#[test]
fn a_program_that_forks_200_children() {
    let report = grade_hostile("forkstorm");
    assert!(report.contains("still running after the program ended"), "{report}");
}

#[test]
fn a_program_that_double_forks_an_escapee() {
    grade_hostile("escapee");
}

/// An escapee without the environment tag is not found by its check's
/// sweep; it is killed at the end of the run as an orphan of the grader.
#[test]
fn a_program_that_double_forks_an_escapee_without_environment() {
    grade_hostile("escapee-no-env");
}

/// The same escapee, creating a shared-memory object under its check's
/// prefix after that check's leak scan: the end of the run removes it.
#[test]
fn a_program_whose_escapee_creates_an_object_after_its_check() {
    grade_hostile("late-object");
}

#[test]
fn a_program_that_ignores_sigterm() {
    grade_hostile("ignore-term");
}

#[test]
fn a_program_that_closes_stdout_and_runs_on() {
    grade_hostile("close-stdout");
}

#[test]
fn a_program_that_leaves_objects_behind() {
    let report = grade_hostile("leaves-objects");
    // In a private namespace every object is the check's; elsewhere only
    // those under its prefix (the script takes it from its tag) are known.
    let object = match ipc_engine::sandbox::support().namespaces {
        true => "the shared-memory object /",
        false => "the shared-memory object /ipcl.",
    };
    assert!(report.contains(object), "{report}");
}

/// A chain of folders 30,000 deep left in a check's folder is removed
/// (std's recursive remove_dir_all overflowed its stack on it, and the
/// whole grader aborted): grading completes and reports.
#[test]
fn a_program_that_leaves_a_chain_of_folders_30000_deep() {
    // The checks' folders in memory where there is some: 30,000 folders
    // take a few seconds to make on a disk of a loaded machine, more than
    // a check's time, and a third of a second in memory.
    let shm = Path::new("/dev/shm");
    let env: &[(&str, &Path)] = if shm.is_dir() { &[("TMPDIR", shm)] } else { &[] };
    let report = grade_hostile_with("deep-chain", env);
    assert!(!report.contains("could not be removed"), "{report}");
}

#[test]
fn a_program_that_moves_to_another_process_group() {
    grade_hostile("new-group");
}

/// `kill(-1, SIGKILL)` from a program under test reaches nobody. The guard
/// is checked first, by the same route the hostile program takes; only then
/// does the hostile program run (and it checks again itself).
#[test]
fn a_program_that_calls_kill_minus_one() {
    let probe = Spec::new("sh", ["-c", "kill -0 -1"], workspace_root());
    let out = proc::output(probe, Duration::from_secs(10)).unwrap();
    assert_ne!(
        out.exit,
        Some(Exit::Code(0)),
        "kill(-1, 0) succeeds in a program the grader starts: the seccomp guard is not in force here, so \
         the kill-all program is not run"
    );
    let report = grade_hostile("kill-all");
    assert!(!report.contains("not isolated"), "{report}");
}

/// Grades `checks` with the reference's programs, each of `replaced`
/// (contract name, file in tests/hostile/) standing in for one, and
/// returns the checks that paid anything.
fn paid_with(replaced: &[(&str, &str)], checks: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    for (name, exe) in reference().iter() {
        std::os::unix::fs::symlink(exe, dir.path().join(name)).unwrap();
    }
    for (program, file) in replaced {
        std::fs::remove_file(dir.path().join(program)).unwrap();
        let hostile = workspace_root().join("grader/tests/hostile").join(file);
        std::os::unix::fs::symlink(hostile, dir.path().join(program)).unwrap();
    }
    let json_path = dir.path().join("report.json");
    let mut args =
        vec!["--bin-dir", dir.path().to_str().unwrap(), "--format", "json", "-o", json_path.to_str().unwrap()];
    args.extend(checks);
    let spec = Spec::new(env!("CARGO_BIN_EXE_ipc-grader"), args, workspace_root());
    let out = proc::output(spec, Duration::from_secs(300)).expect("the grader runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.exit, Some(Exit::Code(1)), "grader status; stderr:\n{stderr}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let tests = report["tests"].as_array().unwrap();
    assert_eq!(tests.len(), checks.len());
    tests
        .iter()
        .filter(|t| t["status"] != "failed" || t["score"] != 0)
        .map(|t| format!("{}: {}", t["name"], t["output"]))
        .collect()
}

/// A `pipeline` that runs no stage and writes the files the grader's
/// probe would write (only descriptors 0 1 2, no signal ignored or
/// blocked, the first stage done) earns nothing: the checks that use the
/// probe observe its stages themselves, in /proc.
#[test]
fn a_pipeline_that_writes_the_probes_reports_itself_earns_nothing() {
    let checks =
        ["pipe::pipeline-only-std-fds", "pipe::pipeline-signals-default", "pipe::pipeline-waits-for-every-stage"];
    let paid = paid_with(&[("pipeline", "forge-pipeline")], &checks);
    assert!(paid.is_empty(), "a pipeline that forges the probe's reports earned points: {paid:#?}");
}

/// Clients that never touch the network earn nothing: a `tcp-client` that
/// prints its stdin (what an echo comes back as) and a `udp-client` that
/// prints the replies a server numbering from 1 would send. The grader's
/// servers greet first and number from a number drawn for the run.
#[test]
fn clients_that_make_up_the_servers_replies_earn_nothing() {
    let checks = [
        "sockets::tcp-client-echo",
        "sockets::tcp-client-echo-20mib",
        "sockets::tcp-client-half-close",
        "sockets::udp-client-replies",
        "sockets::udp-client-retransmits",
        "sockets::udp-client-ignores-others",
        "sockets::udp-client-gives-up",
        "sockets::clients-resolve-localhost",
    ];
    let paid = paid_with(&[("tcp-client", "cat-tcp-client"), ("udp-client", "made-up-udp-client")], &checks);
    assert!(paid.is_empty(), "clients that never used the network earned points: {paid:#?}");
}

/// A `sig-reaper` that forks nothing and prints made-up pids with the
/// contract's statuses earns nothing: the grader looks at its children in
/// /proc while it runs. (`sig-reaper 1`, whose one child ends at once, is
/// over before the grader can look: `reaper-one` is left to the program's
/// word.)
#[test]
fn a_reaper_that_makes_up_its_children_earns_nothing() {
    let paid = paid_with(&[("sig-reaper", "made-up-reaper")], &["signals::reaper-fifty", "signals::reaper-500"]);
    assert!(paid.is_empty(), "a sig-reaper that forked nothing earned points: {paid:#?}");
}
