//! Confirming, alone, a failure that a crowded machine could have caused.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::check::{Kind, Timing};

use super::Run;

/// A repetition run again alone because it failed in a way the machine's
/// load can cause (see [`Fail::time_dependent`]) while it was overloaded.
#[derive(Debug, Clone)]
pub struct Rerun {
    /// Which repetition (from 1).
    pub repetition: usize,
    /// The failure not trusted: its kind and first sentence.
    pub first: (Kind, String),
    pub timing: Timing,
    /// The machine then ("the machine was overloaded (...)").
    pub machine: String,
    /// Each run alone: `None` passed, else how it failed.
    pub alone: Vec<Option<(Kind, String)>>,
}

impl Rerun {
    /// Whether the last run alone passed (then the first failure does not count).
    pub fn passed(&self) -> bool {
        matches!(self.alone.last(), Some(None))
    }

    /// What happened, in a sentence or two for reports.
    pub fn describe(&self) -> String {
        let (kind, what) = &self.first;
        let first = format!(
            "It failed at first ({}: {what}), a failure that rests on {}, while {}.",
            kind.name(),
            self.timing.describe(),
            self.machine
        );
        let n = self.alone.len();
        let times = if n == 1 { "once".to_string() } else { format!("{n} times") };
        if self.passed() {
            let tries = if n == 1 { String::new() } else { format!(" on try {n}") };
            format!(
                "{first} Run again alone after the other checks, it passed{tries}: the first failure does not count."
            )
        } else {
            format!("{first} Run again alone after the other checks ({times}), it failed again: the failure stands.")
        }
    }
}

/// Runs alone (`alone(serial number)`) a repetition that failed in a
/// time-dependent way while the machine was overloaded, up to `times`
/// times while it keeps failing so: the first pass wins; a failure alone
/// that no load can cause, or seen while the machine was not overloaded,
/// stands at once.
pub(super) fn rerun(first: Run, rep: usize, times: u32, serial_no: &AtomicUsize, alone: impl Fn(usize) -> Run) -> Run {
    let fail = first.fail.as_ref().expect("a failed run");
    let mut record = Rerun {
        repetition: rep + 1,
        first: (fail.kind, fail.what.clone()),
        timing: fail.time_dependent().expect("time-dependent"),
        machine: first.busy.clone().unwrap_or_default(),
        alone: Vec::new(),
    };
    let mut last = first;
    for _ in 0..times {
        last = alone(serial_no.fetch_add(1, Ordering::SeqCst));
        record.alone.push(last.fail.as_ref().map(|f| (f.kind, f.what.clone())));
        if !last.worth_rerunning() {
            break;
        }
    }
    if let Some(fail) = last.fail.as_mut() {
        fail.notes.push(record.describe());
    }
    last.reruns = vec![record];
    last
}
