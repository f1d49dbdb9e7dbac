//! What a batch result holds: a student's scores, every check's outcome,
//! the compiler's first errors, and how it was graded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::grading::{Outcome, Selected};
use crate::report;

/// One student's result, as saved in `OUT/results/STUDENT.json`.
///
/// The fields after `error` came later: a file without them (an older
/// grader's) still reads, with `checks` absent (`None`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Graded {
    pub student: String,
    /// Points by lab.
    pub labs: BTreeMap<String, u32>,
    pub score: u32,
    pub max_score: u32,
    /// Why the submission could not be graded (no starter, does not build),
    /// or which programs did not compile.
    pub error: Option<String>,
    /// Every check's outcome, in the grader's order: empty when nothing
    /// could run, absent in a result saved by an older grader.
    #[serde(default)]
    pub checks: Option<Vec<CheckResult>>,
    /// The compiler's first error, per program that did not compile, or of
    /// the whole crate.
    #[serde(default)]
    pub compile_errors: Vec<CompileError>,
    /// When it was graded (seconds since the Unix epoch).
    #[serde(default)]
    pub graded_at: Option<u64>,
    /// Seconds to build and grade it.
    #[serde(default)]
    pub seconds: Option<f64>,
    /// SHA-256 of the grader's executable that graded it.
    #[serde(default)]
    pub grader: Option<String>,
    /// SHA-256 of the rubric it was graded with (see [`rubric_fingerprint`](super::rubric_fingerprint)).
    #[serde(default)]
    pub rubric: Option<String>,
    /// HMAC-SHA-256 of the rest, with the key of `OUT` ([`Seal`](super::Seal)).
    #[serde(default)]
    pub seal: Option<String>,
    /// The hints the student asked for, as the submission's
    /// `.hints-shown.toml` says: self-reported, shown in the overview and
    /// counted nowhere else. Absent when the submission has no such file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hints: Option<HintsShown>,
}

/// What a submission's `.hints-shown.toml` says, as far as it holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HintsShown {
    /// Rungs shown, by program.
    pub shown: BTreeMap<String, u32>,
    /// What was ignored, and why (the whole file, when it is not one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a submission's grading process hands back (`--format batch`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub labs: BTreeMap<String, u32>,
    pub score: u32,
    pub max_score: u32,
    pub error: Option<String>,
    pub checks: Vec<CheckResult>,
    pub compile_errors: Vec<CompileError>,
}

impl Record {
    /// The record of `outcomes` of the `selected` checks; `error` says what
    /// did not build (`compile_errors`: the compiler's first error of each).
    pub fn new(
        selected: &[Selected],
        outcomes: &[Outcome],
        error: Option<String>,
        compile_errors: Vec<CompileError>,
    ) -> Record {
        let mut labs: BTreeMap<String, u32> = BTreeMap::new();
        for s in selected {
            labs.entry(s.lab.to_string()).or_insert(0);
        }
        for o in outcomes {
            *labs.entry(o.lab.clone()).or_insert(0) += o.points;
        }
        Record {
            labs,
            score: report::totals(outcomes).score,
            max_score: selected.iter().map(|s| s.entry.points).sum(),
            error,
            checks: outcomes.iter().map(CheckResult::new).collect(),
            compile_errors,
        }
    }
}

/// One check's outcome for one student.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    pub lab: String,
    pub name: String,
    pub points: u32,
    pub max_points: u32,
    pub passed: bool,
    /// The kind of failure (`timeout`, `output`, ..., as in the rubric's
    /// `hints`); `None` when it passed.
    pub kind: Option<String>,
    /// What went wrong, one sentence (already escaped).
    pub what: Option<String>,
    /// The hint the student was given (the rubric's, for this kind of failure).
    pub hint: String,
    /// The handout section to read (`handouts/pipe.md#pipeline`).
    pub see: String,
    pub hidden: bool,
}

impl CheckResult {
    fn new(o: &Outcome) -> CheckResult {
        CheckResult {
            lab: o.lab.clone(),
            name: o.name.clone(),
            points: o.points,
            max_points: o.max_points,
            passed: o.passed(),
            kind: o.fail.as_ref().map(|f| f.kind.name().to_string()),
            what: o.fail.as_ref().map(|f| f.what.clone()),
            hint: o.hint.clone(),
            see: o.see.clone(),
            hidden: o.hidden,
        }
    }
}

/// The compiler's first error (escaped, cut to a few thousand characters).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompileError {
    /// The program it stopped; `None` when the crate as a whole did not build.
    pub program: Option<String>,
    pub error: String,
}

impl CompileError {
    pub fn new(program: Option<String>, rendered: &str) -> CompileError {
        let error = ipc_engine::text::escape(rendered.trim_end().as_bytes(), false);
        CompileError { program, error: ipc_engine::text::cut(&error, 4000) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A result file an older grader saved still reads, without per-check
    /// outcomes (`checks` absent, not empty).
    #[test]
    fn a_result_without_the_later_fields_still_reads() {
        let old = r#"{"student": "alice", "labs": {"pipe": 3}, "score": 3, "max_score": 30, "error": null}"#;
        let g: Graded = serde_json::from_str(old).unwrap();
        assert_eq!((g.score, g.max_score, g.labs["pipe"]), (3, 30, 3));
        assert!(g.checks.is_none() && g.compile_errors.is_empty() && g.graded_at.is_none() && g.rubric.is_none());
    }
}
