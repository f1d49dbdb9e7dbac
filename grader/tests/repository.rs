//! Invariants of the repository around the grader: handouts in step with
//! the rubric, and every hint pointing at a section that exists.

use ipc_grader::build::workspace_root;
use ipc_grader::handouts;
use ipc_grader::labs::LABS;
use ipc_grader::rubric::Rubric;

/// The handouts' "Checks and points" tables match the rubric.
#[test]
fn handout_tables_are_current() {
    let rubric = Rubric::builtin(LABS).unwrap();
    let stale = handouts::sync(&workspace_root(), &rubric, false).unwrap();
    assert!(stale.is_empty(), "stale checks tables in {stale:?}: run `cargo grade --update-handouts` and commit");
}

/// Every rubric `section` is a heading's anchor in the lab's handout.
#[test]
fn every_hint_points_at_a_handout_section() {
    let rubric = Rubric::builtin(LABS).unwrap();
    let mut missing = Vec::new();
    for lab in rubric.labs.values().filter(|l| !l.checks.is_empty()) {
        let text = std::fs::read_to_string(workspace_root().join(&lab.handout)).unwrap();
        let anchors = handouts::anchors(&text);
        for check in &lab.checks {
            if let Some(section) = &check.section {
                if !anchors.contains(section) {
                    missing.push(format!("{}::{} -> {}#{section}", lab.lab, check.name, lab.handout));
                }
            }
        }
    }
    assert!(missing.is_empty(), "rubric sections with no such heading in the handout: {missing:#?}");
}

/// Every hint is actionable text, not a placeholder.
#[test]
fn every_check_has_a_hint_and_a_description() {
    let rubric = Rubric::builtin(LABS).unwrap();
    for lab in rubric.labs.values() {
        for c in &lab.checks {
            assert!(c.hint.split_whitespace().count() >= 6, "{}::{}: the hint is too short to help", lab.lab, c.name);
            assert!(!c.tests.trim().is_empty(), "{}::{}: `tests` is empty", lab.lab, c.name);
            assert!(c.points > 0, "{}::{}: a check worth 0 points", lab.lab, c.name);
        }
    }
}
