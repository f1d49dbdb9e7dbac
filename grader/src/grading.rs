//! Grading: the engine's runs of the selected checks, turned into outcomes
//! with points, hints and the handout section to read.

use std::sync::Arc;
use std::time::Duration;

use ipc_engine::build::Programs;
use ipc_engine::check::{Check, Fail};
use ipc_engine::load::Load;
use ipc_engine::runner::{self, Job, Options, Repetition, Rerun, Run};

use crate::rubric::{Diagnosis, Entry};

/// A check chosen to run, with its rubric entry.
#[derive(Clone)]
pub struct Selected {
    pub lab: &'static str,
    pub check: Check,
    pub entry: Entry,
    /// The lab's handout, e.g. `handouts/pipe.md`.
    pub handout: String,
    /// Comes from the hidden checks (`grader/src/hidden/`), not the lab.
    pub hidden: bool,
    /// The lab's diagnoses across checks (its rubric's `[[diagnosis]]`).
    pub diagnoses: Arc<[Diagnosis]>,
    /// The checks that must pass for this one to count (its entry's
    /// `requires`), run with it even when they were not selected.
    pub requires: Vec<Required>,
}

/// A check another one requires: what it takes to run it.
#[derive(Clone)]
pub struct Required {
    pub lab: &'static str,
    pub check: Check,
    pub limit: Duration,
}

impl Required {
    pub fn full_name(&self) -> String {
        format!("{}::{}", self.lab, self.check.name)
    }
}

/// Fills in every check's [`Selected::requires`] from `all` (every check,
/// selected or not).
pub fn link_requirements(all: &mut [Selected]) {
    let found: Vec<Vec<Required>> = all
        .iter()
        .map(|s| {
            s.entry
                .requires
                .iter()
                .filter_map(|name| all.iter().find(|o| o.lab == s.lab && o.check.name == name))
                .map(|o| Required { lab: o.lab, check: o.check, limit: o.entry.time_limit() })
                .collect()
        })
        .collect();
    for (s, requires) in all.iter_mut().zip(found) {
        s.requires = requires;
    }
}

impl Selected {
    pub fn full_name(&self) -> String {
        format!("{}::{}", self.lab, self.check.name)
    }

    /// The engine's job for this check.
    pub fn job(&self) -> Job {
        Job { name: self.full_name(), check: self.check, limit: self.entry.time_limit() }
    }
}

/// The programs the selected checks run (their labs' programs), or `None`
/// when every lab is selected: what grading needs built.
pub fn programs_needed(selected: &[Selected]) -> Option<Vec<&'static str>> {
    let labs: Vec<&crate::labs::Lab> =
        crate::labs::LABS.iter().filter(|lab| selected.iter().any(|s| s.lab == lab.name)).collect();
    if labs.len() == crate::labs::LABS.len() {
        return None;
    }
    Some(labs.iter().flat_map(|lab| lab.programs.iter().copied()).collect())
}

/// The result of one check (over all its repetitions).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub lab: String,
    pub name: String,
    pub points: u32,
    pub max_points: u32,
    pub fail: Option<Fail>,
    /// Time of the slowest repetition.
    pub elapsed: Duration,
    /// Commands the check ran (of the failing repetition, if any).
    pub commands: Vec<String>,
    /// The rubric's hint for this failure (by its kind, if the rubric has one).
    pub hint: String,
    /// `handouts/pipe.md#pipeline`, say.
    pub see: String,
    pub hidden: bool,
    pub repetitions: u32,
    /// Repetitions that failed.
    pub failures: u32,
    /// Each repetition, in order.
    pub each: Vec<Repetition>,
    /// Repetitions run again alone: they failed in a way a crowded machine
    /// can cause while it was overloaded.
    pub reruns: Vec<Rerun>,
    /// The bug that explains this failure together with others, if one of
    /// the lab's diagnoses holds.
    pub diagnosis: Option<Diagnosed>,
}

/// A diagnosis that holds, as the report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosed {
    pub lab: String,
    pub name: String,
    pub program: Option<String>,
    pub says: String,
    /// Full names of the failed checks it explains, in order.
    pub explains: Vec<String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.fail.is_none()
    }

    pub fn full_name(&self) -> String {
        format!("{}::{}", self.lab, self.name)
    }

    /// The outcome of `selected` given what the engine saw.
    pub fn new(selected: &Selected, run: Run) -> Outcome {
        let entry = &selected.entry;
        let hint = match &run.fail {
            Some(fail) => entry.hint_for(fail.kind),
            None => entry.hint.trim().to_string(),
        };
        Outcome {
            lab: selected.lab.to_string(),
            name: selected.check.name.to_string(),
            points: if run.passed() { entry.points } else { 0 },
            max_points: entry.points,
            fail: run.fail,
            elapsed: run.elapsed,
            commands: run.commands,
            hint,
            see: match &entry.section {
                Some(section) => format!("{}#{section}", selected.handout),
                None => selected.handout.clone(),
            },
            hidden: selected.hidden,
            repetitions: run.repetitions,
            failures: run.failures,
            each: run.each,
            reruns: run.reruns,
            diagnosis: None,
        }
    }

    /// The number (from 1) of the repetition whose failure is shown.
    pub fn shown_repetition(&self) -> Option<usize> {
        self.each.iter().position(|r| r.failed.is_some()).map(|i| i + 1)
    }

    /// A check that could not run at all (the code did not build), scored 0.
    pub fn not_run(selected: &Selected, fail: Fail, hint: &str) -> Outcome {
        let run = Run::single(Some(fail), Duration::ZERO, Vec::new());
        let mut outcome = Outcome::new(selected, run);
        outcome.hint = hint.to_string();
        outcome
    }
}

/// Runs the selected checks and returns their outcomes, in order, and the
/// machine's state over the run.
/// `progress` is called as each check finishes. The checks they require
/// and that were not selected run too, unreported: a check whose
/// requirement failed scores 0 (see [`apply_requirements`]).
pub fn run(
    selected: &[Selected],
    programs: &Programs,
    options: &Options,
    progress: &(dyn Fn(&Outcome) + Sync),
) -> (Vec<Outcome>, Load) {
    let mut jobs: Vec<Job> = selected.iter().map(Selected::job).collect();
    let mut extra: Vec<String> = Vec::new();
    for r in selected.iter().flat_map(|s| &s.requires) {
        let name = r.full_name();
        if !selected.iter().any(|s| s.full_name() == name) && !extra.contains(&name) {
            jobs.push(Job { name: name.clone(), check: r.check, limit: r.limit });
            extra.push(name);
        }
    }
    let runner::Runs { runs, machine } = runner::run(&jobs, programs, options, &|i, run| {
        if i < selected.len() {
            progress(&Outcome::new(&selected[i], run.clone()))
        }
    });
    let mut runs = runs.into_iter();
    let mut outcomes: Vec<Outcome> = selected.iter().zip(runs.by_ref()).map(|(s, run)| Outcome::new(s, run)).collect();
    let mut passed: Vec<(String, bool)> = outcomes.iter().map(|o| (o.full_name(), o.passed())).collect();
    passed.extend(extra.into_iter().zip(runs).map(|(name, run)| (name, run.passed())));
    apply_requirements(selected, &mut outcomes, &passed);
    diagnose(selected, &mut outcomes);
    (outcomes, machine)
}

/// The note every report carries on the machine's state over the run, and
/// on the checks run again alone because of it.
pub fn machine_note(machine: &Load, outcomes: &[Outcome]) -> String {
    let mut note = format!("During grading, {}.", machine.sentence());
    let rerun: Vec<&Outcome> = outcomes.iter().filter(|o| !o.reruns.is_empty()).collect();
    if !rerun.is_empty() {
        let passed: Vec<String> =
            rerun.iter().filter(|o| o.reruns.iter().all(Rerun::passed)).map(|o| o.full_name()).collect();
        let stood: Vec<String> =
            rerun.iter().filter(|o| !o.reruns.iter().all(Rerun::passed)).map(|o| o.full_name()).collect();
        let list = |names: &[String]| if names.is_empty() { "none".to_string() } else { names.join(", ") };
        note.push_str(&format!(
            " {} check(s) failed in a way a crowded machine can cause (a time limit, a CPU share) while it was \
             overloaded, and were run again alone: passed alone: {}; failed again (the failure stands): {}.",
            rerun.len(),
            list(&passed),
            list(&stood)
        ));
    } else if machine.overloaded() {
        note.push_str(
            " A failure that a crowded machine can cause (a time limit, a CPU share) is run again alone before it \
             counts; none had to be.",
        );
    }
    note
}

/// A check that passed but whose requirement failed (`passed`: full name,
/// and whether it passed) scores 0, with a failure that says so.
pub fn apply_requirements(selected: &[Selected], outcomes: &mut [Outcome], passed: &[(String, bool)]) {
    for (s, o) in selected.iter().zip(outcomes.iter_mut()) {
        if !o.passed() {
            continue;
        }
        let failed: Vec<String> = s
            .requires
            .iter()
            .map(Required::full_name)
            .filter(|name| passed.iter().any(|(n, ok)| n == name && !ok))
            .collect();
        if failed.is_empty() {
            continue;
        }
        let names = failed.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" and ");
        o.fail = Some(
            Fail::new(format!("this check counts once {names} passes")).kind(ipc_engine::check::Kind::Behaviour).note(
                "what this check looks at is right: it counts once the program also does its work \
                     (the starter gives the usage errors, which alone would earn points for nothing)",
            ),
        );
        o.points = 0;
        o.hint = format!("Make {names} pass first; nothing in this check needs to change.");
    }
}

/// Applies each lab's diagnoses to its outcomes (`selected[i]` gave
/// `outcomes[i]`): a failure explained by a diagnosis that holds gets it,
/// and the diagnosis's hint and handout section replace the check's own.
pub fn diagnose(selected: &[Selected], outcomes: &mut [Outcome]) {
    let mut labs: Vec<&'static str> = selected.iter().map(|s| s.lab).collect();
    labs.dedup();
    for lab in labs {
        let Some(first) = selected.iter().find(|s| s.lab == lab) else { continue };
        let of_lab: Vec<usize> = (0..outcomes.len()).filter(|&i| selected[i].lab == lab).collect();
        for d in first.diagnoses.iter() {
            let ruled_out = of_lab.iter().any(|&i| !outcomes[i].passed() && d.passed.contains(&outcomes[i].name));
            let explained: Vec<usize> = of_lab
                .iter()
                .copied()
                .filter(|&i| outcomes[i].diagnosis.is_none())
                .filter(|&i| outcomes[i].fail.as_ref().is_some_and(|f| d.explains(&outcomes[i].name, f)))
                .collect();
            if ruled_out || explained.is_empty() || explained.len() < d.min_failed {
                continue;
            }
            let diagnosed = Diagnosed {
                lab: lab.to_string(),
                name: d.name.clone(),
                program: d.program.clone(),
                says: d.says.trim().to_string(),
                explains: explained.iter().map(|&i| outcomes[i].full_name()).collect(),
            };
            let see = match &d.section {
                Some(section) => format!("{}#{section}", first.handout),
                None => first.handout.clone(),
            };
            for &i in &explained {
                outcomes[i].diagnosis = Some(diagnosed.clone());
                outcomes[i].hint = d.hint.trim().to_string();
                outcomes[i].see = see.clone();
            }
        }
    }
}
