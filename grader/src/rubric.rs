//! The rubric: points, time limits and hints of every check, one TOML file
//! per lab under `rubric/`, editable without reading Rust.
//!
//! The files are compiled into the grader (so `cargo grade` picks up an edit)
//! and may be replaced at run time with `--rubric DIR`.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use ipc_engine::check::Kind;

use crate::labs::Lab;

/// One lab's rubric file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabRubric {
    /// Must equal the file's lab.
    pub lab: String,
    /// A title for reports.
    pub title: String,
    /// The handout, relative to the repository (e.g. `handouts/pipe.md`).
    pub handout: String,
    /// Hints by kind of failure for every check of the lab that gives none
    /// of that kind itself (`[hints]`, e.g. why the lab's programs hang).
    #[serde(default)]
    pub hints: BTreeMap<String, String>,
    #[serde(default, rename = "check")]
    pub checks: Vec<Entry>,
    /// Bugs that explain several failures together (`[[diagnosis]]`); the
    /// report leads with the ones that match.
    #[serde(default, rename = "diagnosis")]
    pub diagnoses: Vec<Diagnosis>,
}

/// A diagnosis across checks: a predicate over the lab's outcomes (which
/// checks failed, with which kind, clue or text, and which passed) and the
/// sentence that names the bug when it holds.
///
/// It explains each failed check that is in `checks` (any of the lab's if
/// empty) and whose failure matches every condition given (`clue`, `kind`,
/// `text`). It holds when it explains at least `min_failed` checks and none
/// of `passed` failed. A failed check is explained by the first diagnosis
/// of the file that holds and explains it; its hint becomes the diagnosis's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diagnosis {
    /// Short and unique in the lab, e.g. `head-before-copy`.
    pub name: String,
    /// The program the bug is in, if one.
    #[serde(default)]
    pub program: Option<String>,
    /// One sentence naming the bug.
    pub says: String,
    /// What to do about it.
    pub hint: String,
    /// The handout section (a heading's anchor) to read.
    #[serde(default)]
    pub section: Option<String>,
    /// The checks whose failures it may explain (empty: every check of the lab).
    #[serde(default)]
    pub checks: Vec<String>,
    /// A symptom the check recognised (`Fail::clues`).
    #[serde(default)]
    pub clue: Option<String>,
    /// The kind of failure (`timeout`, `output`, ...).
    #[serde(default)]
    pub kind: Option<String>,
    /// Words in the failure's sentence or notes.
    #[serde(default)]
    pub text: Option<String>,
    /// Checks that must not have failed (if they ran): a failure there
    /// points at another bug (e.g. the other program of a pair).
    #[serde(default)]
    pub passed: Vec<String>,
    /// How many failures it must explain to hold.
    #[serde(default = "one")]
    pub min_failed: usize,
}

fn one() -> usize {
    1
}

impl Diagnosis {
    /// Whether it would explain this failure of `check`.
    pub fn explains(&self, check: &str, fail: &ipc_engine::check::Fail) -> bool {
        (self.checks.is_empty() || self.checks.iter().any(|c| c == check))
            && self.clue.as_ref().is_none_or(|c| fail.has_clue(c))
            && self.kind.as_ref().is_none_or(|k| fail.kind.name() == k)
            && self.text.as_ref().is_none_or(|t| fail.what.contains(t) || fail.notes.iter().any(|n| n.contains(t)))
    }
}

/// One check's entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub name: String,
    pub points: u32,
    /// Seconds.
    pub time_limit: f64,
    /// What to look at when the check fails.
    pub hint: String,
    /// Hints for particular kinds of failure, by kind (`timeout`, `output`,
    /// `status`, `leak`, `behaviour`, `missing`): a program that hangs needs
    /// other advice than one that prints the wrong bytes. `hint` is used
    /// for the kinds not listed.
    #[serde(default)]
    pub hints: BTreeMap<String, String>,
    /// The handout section (a heading's anchor) the hint refers to.
    #[serde(default)]
    pub section: Option<String>,
    /// One sentence for the handout's table: what the check does.
    pub tests: String,
    /// Hidden checks run in batch grading only and are left out of the student template.
    #[serde(default)]
    pub hidden: bool,
    /// Checks of the same lab that must pass for this one to count: a
    /// usage check counts once its program does its work (the starter
    /// gives the usage errors, so alone they would earn points for nothing).
    #[serde(default)]
    pub requires: Vec<String>,
}

impl Entry {
    pub fn time_limit(&self) -> Duration {
        Duration::from_secs_f64(self.time_limit)
    }

    /// The hint for a failure of this kind.
    pub fn hint_for(&self, kind: Kind) -> String {
        self.hints.get(kind.name()).unwrap_or(&self.hint).trim().to_string()
    }
}

/// Every lab's rubric, by lab name.
#[derive(Debug, Clone)]
pub struct Rubric {
    pub labs: BTreeMap<String, LabRubric>,
}

impl Rubric {
    /// The rubric compiled into the grader.
    pub fn builtin(labs: &[Lab]) -> Result<Rubric> {
        let mut map = BTreeMap::new();
        for lab in labs {
            let parsed = parse(lab.name, lab.rubric, &format!("rubric/{}.toml", lab.name))?;
            map.insert(lab.name.to_string(), parsed);
        }
        Ok(Rubric { labs: map })
    }

    /// The rubric in `dir` (one `LAB.toml` per lab).
    pub fn load(dir: &Path, labs: &[Lab]) -> Result<Rubric> {
        let mut map = BTreeMap::new();
        for lab in labs {
            let path = dir.join(format!("{}.toml", lab.name));
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read the rubric file {}", path.display()))?;
            map.insert(lab.name.to_string(), parse(lab.name, &text, &path.display().to_string())?);
        }
        Ok(Rubric { labs: map })
    }

    /// The entry of `lab::check`.
    pub fn entry(&self, lab: &str, check: &str) -> Option<&Entry> {
        self.labs.get(lab)?.checks.iter().find(|e| e.name == check)
    }

    /// Fails unless every check in code has exactly one entry and every entry
    /// has a check in code.
    pub fn validate(&self, labs: &[Lab]) -> Result<()> {
        let mut problems = Vec::new();
        for lab in labs {
            let Some(rubric) = self.labs.get(lab.name) else {
                problems.push(format!("lab `{}` has no rubric file", lab.name));
                continue;
            };
            let all = lab.all_checks();
            let in_code: Vec<&str> = all.iter().map(|(c, _)| c.name).collect();
            let mut seen = HashSet::new();
            for entry in &rubric.checks {
                if !seen.insert(entry.name.as_str()) {
                    problems.push(format!("rubric/{}.toml lists `{}` twice", lab.name, entry.name));
                }
                if !in_code.contains(&entry.name.as_str()) {
                    problems.push(format!(
                        "rubric/{}.toml has an entry `{}` but the grader has no such check (remove the entry, or fix its name)",
                        lab.name, entry.name
                    ));
                }
                for kind in entry.hints.keys() {
                    if !Kind::ALL.iter().any(|k| k.name() == kind) {
                        let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                        problems.push(format!(
                            "rubric/{}.toml: `{}` has a hint for `{kind}`, which is no kind of failure (kinds: {})",
                            lab.name,
                            entry.name,
                            kinds.join(", ")
                        ));
                    }
                }
                if let Some((_, hidden)) = all.iter().find(|(c, _)| c.name == entry.name) {
                    if *hidden != entry.hidden {
                        problems.push(if *hidden {
                            format!(
                                "rubric/{}.toml: `{}` is a hidden check (grader/src/hidden/) but its entry lacks `hidden = true`",
                                lab.name, entry.name
                            )
                        } else {
                            format!(
                                "rubric/{}.toml: `{}` has `hidden = true`, but its code is in grader/src/labs/{}/; move it to grader/src/hidden/{}.rs (see that folder's mod.rs) so that the template export can leave it out",
                                lab.name, entry.name, lab.name, lab.name
                            )
                        });
                    }
                }
                for required in &entry.requires {
                    let at = format!("rubric/{}.toml: `{}` requires `{required}`", lab.name, entry.name);
                    match all.iter().find(|(c, _)| c.name == required) {
                        None => problems.push(format!("{at}, which is no check of lab `{}`", lab.name)),
                        Some(_) if *required == entry.name => problems.push(format!("{at}: itself")),
                        Some((_, true)) if !entry.hidden => {
                            problems.push(format!("{at}, a hidden check (the student template has none)"))
                        }
                        Some(_) => {}
                    }
                }
                if !(entry.time_limit > 0.0 && entry.time_limit <= 600.0) {
                    problems.push(format!(
                        "rubric/{}.toml: `{}` has time_limit {} (give seconds, more than 0 and at most 600)",
                        lab.name, entry.name, entry.time_limit
                    ));
                }
            }
            let mut diagnoses = HashSet::new();
            for d in &rubric.diagnoses {
                let at = format!("rubric/{}.toml: the diagnosis `{}`", lab.name, d.name);
                if !diagnoses.insert(d.name.as_str()) {
                    problems.push(format!("{at} is there twice (give each diagnosis its own name)"));
                }
                for check in d.checks.iter().chain(&d.passed) {
                    if !in_code.contains(&check.as_str()) {
                        problems.push(format!("{at} names `{check}`, which is no check of lab `{}`", lab.name));
                    }
                }
                if let Some(kind) = &d.kind {
                    if !Kind::ALL.iter().any(|k| k.name() == kind) {
                        problems.push(format!("{at} has kind = \"{kind}\", which is no kind of failure"));
                    }
                }
                if let Some(program) = &d.program {
                    if !lab.programs.contains(&program.as_str()) {
                        problems.push(format!("{at} names `{program}`, which is no program of lab `{}`", lab.name));
                    }
                }
                if d.checks.is_empty() && d.clue.is_none() && d.kind.is_none() && d.text.is_none() {
                    problems.push(format!(
                        "{at} would explain any failure: give it `checks`, a `clue`, a `kind` or a `text`"
                    ));
                }
                if d.min_failed == 0 || d.says.trim().is_empty() || d.hint.trim().is_empty() {
                    problems.push(format!("{at} needs `says` and `hint`, and `min_failed` of at least 1"));
                }
            }
            for name in &in_code {
                if !seen.contains(name) {
                    problems.push(format!(
                        "the check `{}::{name}` has no entry in rubric/{}.toml (add a [[check]] with name = \"{name}\")",
                        lab.name, lab.name
                    ));
                }
            }
        }
        if !problems.is_empty() {
            bail!("the rubric does not match the checks:\n  - {}", problems.join("\n  - "));
        }
        Ok(())
    }
}

fn parse(lab: &str, text: &str, origin: &str) -> Result<LabRubric> {
    let mut parsed: LabRubric = toml::from_str(text).with_context(|| format!("{origin} is not a valid rubric file"))?;
    if parsed.lab != lab {
        bail!("{origin} says lab = \"{}\" but belongs to lab `{lab}`", parsed.lab);
    }
    // The lab's hints stand in for every kind a check gives no hint of.
    for entry in &mut parsed.checks {
        for (kind, hint) in &parsed.hints {
            entry.hints.entry(kind.clone()).or_insert_with(|| hint.clone());
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::LABS;

    /// A lab's `[hints]` stand in for the kinds a check has no hint of,
    /// and never replace a check's own.
    #[test]
    fn lab_hints_fill_in_only_what_a_check_lacks() {
        let text = "lab = \"fifo\"\ntitle = \"t\"\nhandout = \"h\"\n[hints]\ntimeout = \"lab\"\n\
                    [[check]]\nname = \"a\"\npoints = 1\ntime_limit = 1\nhint = \"a's\"\ntests = \"t\"\n\
                    [[check]]\nname = \"b\"\npoints = 1\ntime_limit = 1\nhint = \"b's\"\ntests = \"t\"\nhints.timeout = \"b hangs\"\n";
        let parsed = parse("fifo", text, "test").unwrap();
        assert_eq!(parsed.checks[0].hint_for(Kind::Timeout), "lab");
        assert_eq!(parsed.checks[0].hint_for(Kind::Output), "a's");
        assert_eq!(parsed.checks[1].hint_for(Kind::Timeout), "b hangs");
    }

    /// Every check in code has a rubric entry and every entry a check.
    #[test]
    fn builtin_rubric_matches_the_checks() {
        let rubric = Rubric::builtin(LABS).unwrap();
        rubric.validate(LABS).unwrap();
    }

    /// A rubric entry without a check is reported with the way to fix it.
    #[test]
    fn an_entry_without_a_check_is_an_error() {
        let mut rubric = Rubric::builtin(LABS).unwrap();
        let pipe = rubric.labs.get_mut("pipe").unwrap();
        let mut extra = pipe.checks[0].clone();
        extra.name = "no-such-check".into();
        pipe.checks.push(extra);
        let err = rubric.validate(LABS).unwrap_err().to_string();
        assert!(err.contains("has an entry `no-such-check` but the grader has no such check"), "{err}");
    }

    /// A check may require only checks of its own lab, other than itself.
    #[test]
    fn a_requirement_must_be_another_check_of_the_lab() {
        let mut rubric = Rubric::builtin(LABS).unwrap();
        let pipe = rubric.labs.get_mut("pipe").unwrap();
        pipe.checks[0].requires = vec!["no-such-check".into(), pipe.checks[0].name.clone()];
        let err = rubric.validate(LABS).unwrap_err().to_string();
        assert!(err.contains("requires `no-such-check`, which is no check of lab `pipe`"), "{err}");
        assert!(err.contains(&format!("requires `{}`: itself", rubric.labs["pipe"].checks[0].name)), "{err}");
    }

    /// A check without a rubric entry is reported with the way to fix it.
    #[test]
    fn a_check_without_an_entry_is_an_error() {
        let mut rubric = Rubric::builtin(LABS).unwrap();
        let removed = rubric.labs.get_mut("pipe").unwrap().checks.remove(0);
        let err = rubric.validate(LABS).unwrap_err().to_string();
        assert!(err.contains(&format!("`pipe::{}` has no entry", removed.name)), "{err}");
    }
}
