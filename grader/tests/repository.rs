//! Invariants of the repository around the grader: handouts in step with
//! the rubric, every hint pointing at a section that exists, a hint ladder
//! for every program, and source files that each hold one concern.

use ipc_engine::build::workspace_root;
use ipc_grader::handouts;
use ipc_grader::hints::Ladders;
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
    let mut found = Vec::new();
    for lab in LABS {
        let mut sources = Vec::new();
        rust_files(&workspace_root().join("grader/src/labs").join(lab.name), &mut sources);
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

/// Every `.rs` file under `dir`, at any depth.
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The most lines a source file of the engine, the peers or the grader
/// may have, its unit tests included.
const MAX_LINES: usize = 600;

/// No source file of engine/, peers/ or grader/ is over 600 lines: a file
/// holds one concern (a lab's harness, its checks, one mode of the
/// command line), and a newcomer finds things by the file's name.
#[test]
fn no_source_file_is_over_600_lines() {
    let root = workspace_root();
    let mut sources = Vec::new();
    for dir in ["engine/src", "peers/src", "grader/src"] {
        rust_files(&root.join(dir), &mut sources);
    }
    assert!(sources.len() > 50, "found only {} source files under {root:?}", sources.len());
    sources.sort();
    let long: Vec<String> = sources
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).unwrap().lines().count();
            let name = path.strip_prefix(&root).unwrap_or(path).display();
            (lines > MAX_LINES).then(|| format!("{name}: {lines} lines"))
        })
        .collect();
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines:\n  {}\nsplit each by concern: a lab module into its harness \
         (helpers, wire formats, peers) and its checks (client and server files where both exist), \
         anything else into a folder of files with one concern each (re-export what callers use); \
         unit tests that push a file over go to FILE/tests.rs (`#[cfg(test)] mod tests;`)",
        long.join("\n  ")
    );
}

/// The peers executable, which programs under test may run (a probe on a
/// pipeline's PATH), holds none of the rubric (hidden checks' entries
/// included): no check's hint is in it, while the grader's executable,
/// which compiles the rubric in, holds every one.
#[test]
fn the_peers_executable_holds_no_rubric() {
    let rubric = Rubric::builtin(LABS).unwrap();
    let hints: std::collections::BTreeSet<&[u8]> = rubric
        .labs
        .values()
        .flat_map(|lab| lab.checks.iter().map(|c| c.hint.trim().as_bytes()))
        .filter(|hint| hint.len() >= PREFIX)
        .map(|hint| &hint[..PREFIX])
        .collect();
    let hints: Vec<&[u8]> = hints.into_iter().collect();
    assert!(hints.len() > 100, "too few hints to test with: {}", hints.len());
    let grader = found(&std::fs::read(env!("CARGO_BIN_EXE_ipc-grader")).unwrap(), &hints);
    let peers = found(&std::fs::read(env!("CARGO_BIN_EXE_ipc-grader-peers")).unwrap(), &hints);
    assert_eq!(grader.len(), hints.len(), "the grader's executable should hold every hint");
    let leaked: Vec<String> = peers.iter().map(|h| String::from_utf8_lossy(h).into_owned()).collect();
    assert!(leaked.is_empty(), "the peers executable holds the rubric's hints {leaked:#?}");
}

/// How many bytes of each hint [`found`] looks for.
const PREFIX: usize = 40;

/// Which of `needles` (each `PREFIX` bytes) occur in `haystack`: one pass
/// with a rolling hash, so that a 20 MiB executable takes well under a
/// second even without optimisation.
fn found<'n>(haystack: &[u8], needles: &[&'n [u8]]) -> std::collections::BTreeSet<&'n [u8]> {
    const BASE: u64 = 257;
    let hash = |bytes: &[u8]| bytes.iter().fold(0u64, |h, &b| h.wrapping_mul(BASE).wrapping_add(u64::from(b)));
    let by_hash: std::collections::HashMap<u64, Vec<&[u8]>> =
        needles.iter().fold(std::collections::HashMap::new(), |mut map, n| {
            map.entry(hash(n)).or_insert_with(Vec::new).push(*n);
            map
        });
    let top = (0..PREFIX - 1).fold(1u64, |p, _| p.wrapping_mul(BASE));
    let mut seen = std::collections::BTreeSet::new();
    if haystack.len() < PREFIX {
        return seen;
    }
    let mut h = hash(&haystack[..PREFIX]);
    for start in 0..=haystack.len() - PREFIX {
        if start > 0 {
            let (out, inn) = (haystack[start - 1], haystack[start + PREFIX - 1]);
            h = h.wrapping_sub(u64::from(out).wrapping_mul(top)).wrapping_mul(BASE).wrapping_add(u64::from(inn));
        }
        if let Some(candidates) = by_hash.get(&h) {
            let window = &haystack[start..start + PREFIX];
            seen.extend(candidates.iter().filter(|c| **c == window));
        }
    }
    seen
}

/// grader/src/labs/EVIDENCE.md says what every check trusts: each visible
/// check has its line there, and each line names a check. (Hidden checks
/// are not listed: the file goes into the student template.)
#[test]
fn every_check_says_what_it_trusts() {
    let rubric = Rubric::builtin(LABS).unwrap();
    let text = std::fs::read_to_string(workspace_root().join("grader/src/labs/EVIDENCE.md")).unwrap();
    let listed: std::collections::BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("- `")?.split_once("`:").map(|(name, _)| name.to_string()))
        .collect();
    let checks: std::collections::BTreeSet<String> = rubric
        .labs
        .values()
        .flat_map(|lab| lab.checks.iter().filter(|c| !c.hidden).map(move |c| format!("{}::{}", lab.lab, c.name)))
        .collect();
    let missing: Vec<&String> = checks.difference(&listed).collect();
    let unknown: Vec<&String> = listed.difference(&checks).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "grader/src/labs/EVIDENCE.md: add a line `- `LAB::CHECK`: what it trusts` for {missing:?}; no such check: {unknown:?}"
    );
}

/// Every program has a hint ladder (`hints/LAB.toml`) of at least three
/// rungs; no ladder names a program or check that does not exist; every
/// visible check leads to a ladder (`cargo grade --hint LAB::CHECK`); and
/// every step-by-step comment documents an item the starter has (the
/// `--guidance steps` export puts it back there).
#[test]
fn every_program_has_a_hint_ladder_of_three_rungs() {
    let root = workspace_root();
    let Some(ladders) = Ladders::load(&root).unwrap() else {
        // A template exported with `--guidance contract` carries none.
        assert!(ipc_grader::tamper::is_template(), "no hints/ folder: every program needs a ladder (hints/README.md)");
        return;
    };
    let rubric = Rubric::builtin(LABS).unwrap();
    let mut problems = Vec::new();
    for (lab_name, file) in &ladders.labs {
        let Some(lab) = LABS.iter().find(|l| l.name == lab_name) else { continue };
        let mut seen = std::collections::BTreeSet::new();
        for ladder in &file.programs {
            let at = format!("hints/{lab_name}.toml: `{}`", ladder.name);
            if !lab.programs.contains(&ladder.name.as_str()) {
                problems.push(format!("{at} is no program of lab `{lab_name}` ({})", lab.programs.join(", ")));
            }
            if !seen.insert(ladder.name.clone()) {
                problems.push(format!("{at} has two ladders"));
            }
            for pattern in &ladder.checks {
                let prefix = pattern.strip_suffix('*');
                let matches = rubric.labs[lab.name].checks.iter().any(|c| match prefix {
                    Some(prefix) => c.name.starts_with(prefix),
                    None => c.name == *pattern,
                });
                if !matches {
                    problems.push(format!("{at} names `{pattern}`, which is no check of lab `{lab_name}`"));
                }
            }
            if ladder.rungs.iter().any(|r| r.title.trim().is_empty() || r.text.trim().is_empty()) {
                problems.push(format!("{at} has a rung without a title or a text"));
            }
            for steps in &ladder.steps {
                let path = root.join(steps.path(lab_name, &ladder.name));
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if ipc_grader::guidance::with_doc_comment(&text, &steps.item, "x").is_err() {
                    problems.push(format!(
                        "{at}: its steps document `{}`, which {} does not have",
                        steps.item,
                        path.display()
                    ));
                }
            }
        }
    }
    for lab in LABS {
        for program in lab.programs {
            match ladders.ladder(program) {
                None => problems
                    .push(format!("`{program}` has no hint ladder: add a [[program]] to hints/{}.toml", lab.name)),
                Some((_, ladder)) if ladder.rungs.len() < 3 => problems.push(format!(
                    "`{program}` has a ladder of {} rungs: give it at least three (idea, system calls, steps)",
                    ladder.rungs.len()
                )),
                Some(_) => {}
            }
        }
        for check in rubric.labs[lab.name].checks.iter().filter(|c| !c.hidden) {
            if ladders.programs_of_check(lab.name, &check.name).is_empty() {
                problems.push(format!(
                    "`{}::{}` leads to no ladder: add it (or a pattern) to a program's `checks` in hints/{}.toml",
                    lab.name, check.name, lab.name
                ));
            }
        }
    }
    assert!(problems.is_empty(), "the hint ladders:\n{}", problems.join("\n"));
}

/// The starter's functions return `ipc_common::Result`: no comment, in the
/// starter or in a step of a ladder, tells students to
/// `return ipc_common::fail(...)` from one.
#[test]
fn no_comment_returns_fail_from_a_result() {
    let root = workspace_root();
    let mut files = Vec::new();
    for lab in LABS {
        for entry in std::fs::read_dir(root.join("starter/src").join(lab.name)).unwrap() {
            files.push(entry.unwrap().path());
        }
        files.push(root.join("hints").join(format!("{}.toml", lab.name)));
    }
    let found: Vec<String> = files
        .iter()
        .filter(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains("return ipc_common::fail(")))
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        found.is_empty(),
        "`return ipc_common::fail(...)` does not fit a function that returns ipc_common::Result (use `.context(...)?` or `Err(ipc_common::Error::new(...))`): {found:?}"
    );
}
