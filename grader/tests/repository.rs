//! Invariants of the repository around the grader: handouts in step with
//! the rubric, and every hint pointing at a section that exists.

use ipc_engine::build::workspace_root;
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
        for d in &lab.diagnoses {
            if let Some(section) = d.section.as_ref().filter(|s| !anchors.contains(*s)) {
                missing.push(format!("{} diagnosis {} -> {}#{section}", lab.lab, d.name, lab.handout));
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

/// The `[[bin]]` lists of starter/, reference/ and broken/ are exactly the
/// programs the labs name (`PROGRAMS` in grader/src/labs/LAB/mod.rs), each
/// at its place: the one list of a lab's programs is the grader's.
#[test]
fn bin_lists_match_the_labs_programs() {
    #[derive(serde::Deserialize)]
    struct Manifest {
        #[serde(default)]
        bin: Vec<Bin>,
    }
    #[derive(serde::Deserialize, PartialEq, Eq, PartialOrd, Ord, Clone, Debug)]
    struct Bin {
        name: String,
        path: String,
    }
    let root = workspace_root();
    let mut problems = Vec::new();
    for (krate, suffix, prefix) in
        [("starter", "", "src"), ("reference", "-ref", "src"), ("broken", "-broken", "../reference/src")]
    {
        let manifest_path = root.join(krate).join("Cargo.toml");
        // A student template has the starter only.
        if krate != "starter" && !manifest_path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest_path).unwrap();
        let manifest: Manifest = toml::from_str(&text).unwrap();
        let expected: Vec<Bin> = LABS
            .iter()
            .flat_map(|lab| {
                lab.programs
                    .iter()
                    .map(move |p| Bin { name: format!("{p}{suffix}"), path: format!("{prefix}/{}/{p}.rs", lab.name) })
            })
            .collect();
        for bin in &expected {
            if !manifest.bin.contains(bin) {
                problems.push(format!(
                    "{krate}/Cargo.toml lacks the program `{}`: add\n\n[[bin]]\nname = \"{}\"\npath = \"{}\"\ntest = false\n",
                    bin.name, bin.name, bin.path
                ));
            }
            if !root.join(krate).join(&bin.path).is_file() {
                problems.push(format!("{krate}: {} does not exist (write it, or copy the lab's pattern)", bin.path));
            }
        }
        for bin in &manifest.bin {
            if !expected.contains(bin) {
                problems.push(format!(
                    "{krate}/Cargo.toml lists `{}` at {}, which no lab names: remove it, or add the program to `PROGRAMS` of its lab in grader/src/labs/",
                    bin.name, bin.path
                ));
            }
        }
    }
    assert!(problems.is_empty(), "the [[bin]] lists and the labs disagree:\n{}", problems.join("\n"));
}

/// No lab uses another lab's code: each lab's folder under
/// grader/src/labs/ names no other lab's module (a lab can be removed or
/// hidden on its own; shared code lives in the engine or labs/mod.rs).
#[test]
fn no_lab_uses_another_labs_module() {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut found = Vec::new();
    for lab in LABS {
        let mut sources = Vec::new();
        files(&workspace_root().join("grader/src/labs").join(lab.name), &mut sources);
        assert!(!sources.is_empty(), "grader/src/labs/{}/ has no sources", lab.name);
        for file in sources {
            let text = std::fs::read_to_string(&file).unwrap();
            for other in LABS.iter().filter(|o| o.name != lab.name) {
                for pattern in [
                    format!("labs::{}", other.name),
                    format!("super::super::{}", other.name),
                    format!("../{}/", other.name),
                ] {
                    if text.contains(&pattern) {
                        found.push(format!("{} uses `{pattern}`", file.display()));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "labs using each other's code (move it to the engine or labs/mod.rs):\n{}",
        found.join("\n")
    );
}
