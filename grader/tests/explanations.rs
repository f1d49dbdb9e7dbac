//! Every explanation is true (issue 32): for each classic student bug of a
//! lab, a fault of broken/ whose entry in `broken/faults/LAB.toml` has
//! `explains = [...]`, the grader is run on the checks the fault breaks and
//!
//! - the FIRST explanation of the report (the first line under "What went
//!   wrong" after its heading: a diagnosis's sentence, or else the first
//!   failing check's `what`) holds every one of those words: it names the
//!   bug, not a symptom further down;
//! - no text shown for it (what, notes, hints, diagnoses) says a statement
//!   the lab's handout rejects (the file's `contradicts = [...]`);
//! - every `read:` section it points at is a heading of the lab's handout.
//!
//! The faults run a few at a time, each graded only on its own checks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ipc_engine::build::{self, Crate};
use ipc_engine::proc::{self, Spec};
use ipc_grader::labs::LABS;
use serde::Deserialize;

mod common;
use common::{bin_dir_with_fault, built};

#[derive(Deserialize)]
struct FaultFile {
    #[serde(default)]
    contradicts: Vec<String>,
    #[serde(default, rename = "fault")]
    faults: Vec<Fault>,
}

#[derive(Deserialize, Clone)]
struct Fault {
    program: String,
    fault: String,
    breaks: Vec<String>,
    #[serde(default)]
    explains: Vec<String>,
}

/// How many classic bugs each lab must explain at least.
const PER_LAB: usize = 6;

/// Every lab's fault file.
fn fault_files() -> Vec<(&'static str, FaultFile)> {
    LABS.iter()
        .map(|lab| {
            let path = build::workspace_root().join(format!("broken/faults/{}.toml", lab.name));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (lab.name, toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        })
        .collect()
}

/// The first explanation of a human report: the line after the first
/// heading under "What went wrong" (`Likely cause of ...:` or `✘ LAB::CHECK`).
fn first_explanation(report: &str) -> Option<&str> {
    let mut lines = report.lines().skip_while(|l| *l != "What went wrong").skip(1).filter(|l| !l.trim().is_empty());
    let heading = lines.next()?;
    (heading.starts_with("Likely cause of ") || heading.starts_with("✘ ")).then_some(())?;
    lines.next().map(str::trim)
}

/// What the report says that contradicts the handout: each statement of
/// `contradicts` found in the failures' explanations (case-insensitive).
fn contradictions(report: &str, contradicts: &[String]) -> Vec<String> {
    let shown = report.lines().skip_while(|l| *l != "What went wrong").collect::<Vec<_>>().join("\n").to_lowercase();
    contradicts.iter().filter(|c| shown.contains(&c.to_lowercase())).cloned().collect()
}

/// Anchors of a handout's headings, as GitHub makes them.
fn anchors(handout: &str) -> Vec<String> {
    handout
        .lines()
        .filter_map(|l| l.strip_prefix('#').map(|l| l.trim_start_matches('#').trim()))
        .map(|h| {
            h.to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

/// `read:` sections of the report that are not headings of their handout.
fn missing_sections(report: &str) -> Vec<String> {
    report
        .lines()
        .filter_map(|l| l.trim().strip_prefix("read: "))
        .filter_map(|r| r.split_once('#'))
        .filter(|(file, anchor)| {
            let text = std::fs::read_to_string(build::workspace_root().join(file)).unwrap_or_default();
            !anchors(&text).iter().any(|a| a == anchor)
        })
        .map(|(file, anchor)| format!("{file}#{anchor}"))
        .collect()
}

/// What is wrong with the report of `fault` (empty: nothing).
fn judge(lab: &str, f: &Fault, report: &str, contradicts: &[String]) -> Vec<String> {
    let at = format!("{lab}: {}/{}", f.program, f.fault);
    let mut problems = Vec::new();
    match first_explanation(report) {
        None => problems.push(format!("{at}: no explanation at all:\n{report}")),
        Some(first) => {
            for word in &f.explains {
                if !first.contains(word.as_str()) {
                    problems.push(format!("{at}: the first explanation does not say `{word}`: {first}"));
                }
            }
        }
    }
    for c in contradictions(report, contradicts) {
        problems.push(format!("{at}: the report says `{c}`, which handouts/{lab}.md rejects:\n{report}"));
    }
    for s in missing_sections(report) {
        problems.push(format!("{at}: the report points at {s}, no heading of the handout"));
    }
    problems
}

#[test]
fn every_lab_names_six_classic_bugs_first_and_truly() {
    let files = fault_files();
    let mut cases: Vec<(&str, Fault, &[String])> = Vec::new();
    for (lab, file) in &files {
        let named: Vec<&Fault> = file.faults.iter().filter(|f| !f.explains.is_empty()).collect();
        assert!(
            named.len() >= PER_LAB,
            "broken/faults/{lab}.toml: {} faults say what their first explanation is (`explains`), at least {PER_LAB} must",
            named.len()
        );
        assert!(!file.contradicts.is_empty(), "broken/faults/{lab}.toml has no `contradicts` list");
        cases.extend(named.into_iter().map(|f| (*lab, f.clone(), file.contradicts.as_slice())));
    }
    // While working on some labs: `IPC_PROOF_LABS=rpc,sysv cargo test ...`.
    if let Ok(labs) = std::env::var("IPC_PROOF_LABS") {
        cases.retain(|(lab, ..)| labs.split(',').any(|l| l == *lab));
    }
    built(Crate::Reference);
    built(Crate::Broken);
    let problems: Mutex<Vec<String>> = Default::default();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                while let Some((lab, f, contradicts)) = cases.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let dir = tempfile::tempdir().unwrap();
                    bin_dir_with_fault(dir.path(), &f.program, &f.fault);
                    let mut args = vec!["--bin-dir".to_string(), dir.path().display().to_string()];
                    args.extend(f.breaks.iter().map(|b| format!("{lab}::{b}")));
                    let mut spec = Spec::new(env!("CARGO_BIN_EXE_ipc-grader"), args.iter(), build::workspace_root());
                    // As on a crowded machine: every time-dependent failure
                    // runs again alone (sandboxed, with its peers), and
                    // must still fail and be explained the same way.
                    spec.env = vec![
                        ("NO_COLOR".into(), "1".into()),
                        ("IPC_FAULT".into(), "".into()),
                        ("IPC_GRADER_PRETEND_OVERLOADED".into(), "1".into()),
                    ];
                    let out = proc::output(spec, Duration::from_secs(600)).expect("the grader runs");
                    let report = String::from_utf8_lossy(&out.stdout);
                    problems.lock().unwrap().extend(judge(lab, f, &report, contradicts));
                }
            });
        }
    });
    let problems = problems.into_inner().unwrap();
    assert!(problems.is_empty(), "explanations that are not true or not first:\n\n{}", problems.join("\n\n"));
}

/// The judge catches a contradiction put back: the sysv report this issue
/// started from (a segment under another project id) told the student to
/// unlink every IPC object, where the handout says the segment must stay;
/// and its first explanation named no bug.
#[test]
fn a_contradicting_text_put_back_is_caught() {
    let files = fault_files();
    let (_, sysv) = files.iter().find(|(lab, _)| *lab == "sysv").unwrap();
    let fault = sysv.faults.iter().find(|f| f.fault == "wrong-proj-id").unwrap();
    let old = "Grading the folder /tmp/x\n\nWhat went wrong\n\n✘ sysv::write-then-read  (0/3)\n    \
               the program left something behind that the contract does not allow\n    left behind: the System V \
               segment of key 0xaa00aed2 (id 0, 1024 bytes, created by pid 858)\n    wait for every child you fork, \
               and unlink every IPC object your program owns\n    hint: ftok(KEYFILE, 'R'), shmget(key, 1024, \
               IPC_CREAT | 0644), shmat, copy or print, shmdt; never IPC_RMID without --remove, so the next run \
               finds the segment.\n    read: handouts/sysv.md#the-segment-outlives-the-program\n";
    let problems = judge("sysv", fault, old, &sysv.contradicts);
    assert!(problems.iter().any(|p| p.contains("which handouts/sysv.md rejects")), "{problems:#?}");
    assert!(problems.iter().any(|p| p.contains("the first explanation does not say")), "{problems:#?}");
    // And the fifo hint this issue found, which the handout contradicts.
    let (_, fifo) = files.iter().find(|(lab, _)| *lab == "fifo").unwrap();
    let old_hint = "\nWhat went wrong\n\n✘ fifo::server-sigterm-counts  (0/2)\n    x\n    hint: install the handler \
                    without SA_RESTART (the blocked call then fails with EINTR and you check the flag)\n";
    assert_eq!(contradictions(old_hint, &fifo.contradicts).len(), 2);
    // A section the handout does not have is caught too.
    assert_eq!(missing_sections("    read: handouts/sysv.md#no-such-section\n").len(), 1);
    assert!(missing_sections("    read: handouts/sysv.md#keys-and-ftok\n").is_empty());
}

/// `fifo::pair` explains the symptom it saw, not one cause for all: graded
/// alone, a server that leaves PATH behind is told so, and one that stops
/// at its first end of file is told why the clients wait.
#[test]
fn fifo_pair_follows_the_symptom() {
    for (fault, says) in [("no-unlink", "left PATH behind"), ("exit-at-eof", "waits in open(2) for a reader")] {
        let dir = tempfile::tempdir().unwrap();
        bin_dir_with_fault(dir.path(), "fifo-server", fault);
        let args = ["--bin-dir", dir.path().to_str().unwrap(), "fifo::pair"];
        let mut spec = Spec::new(env!("CARGO_BIN_EXE_ipc-grader"), args.iter().copied(), build::workspace_root());
        spec.env = vec![("NO_COLOR".into(), "1".into()), ("IPC_FAULT".into(), "".into())];
        let out = proc::output(spec, Duration::from_secs(600)).expect("the grader runs");
        let report = String::from_utf8_lossy(&out.stdout);
        let first = first_explanation(&report).unwrap_or_default();
        assert!(first.contains(says), "fifo-server/{fault}: {first}\n{report}");
        assert!(!report.contains("#atomic-writes"), "fifo-server/{fault} is sent to atomic writes:\n{report}");
    }
}
