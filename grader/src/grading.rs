//! Grading: the engine's runs of the selected checks, turned into outcomes
//! with points, hints and the handout section to read.

use std::time::Duration;

use ipc_engine::build::Programs;
use ipc_engine::check::{Check, Fail};
use ipc_engine::runner::{self, Job, Options, Run};

use crate::rubric::Entry;

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
        }
    }

    /// A check that could not run at all (the code did not build), scored 0.
    pub fn not_run(selected: &Selected, fail: Fail, hint: &str) -> Outcome {
        let run = Run { fail: Some(fail), elapsed: Duration::ZERO, commands: Vec::new(), repetitions: 1, failures: 1 };
        let mut outcome = Outcome::new(selected, run);
        outcome.hint = hint.to_string();
        outcome
    }
}

/// Runs the selected checks and returns their outcomes, in order.
/// `progress` is called as each check finishes.
pub fn run(
    selected: &[Selected],
    programs: &Programs,
    options: &Options,
    progress: &(dyn Fn(&Outcome) + Sync),
) -> Vec<Outcome> {
    let jobs: Vec<Job> = selected.iter().map(Selected::job).collect();
    let runs = runner::run(&jobs, programs, options, &|i, run| progress(&Outcome::new(&selected[i], run.clone())));
    selected.iter().zip(runs).map(|(s, run)| Outcome::new(s, run)).collect()
}
