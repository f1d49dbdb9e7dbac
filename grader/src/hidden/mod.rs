//! Hidden checks: they run in the instructor's grading (batch grading,
//! Gradescope) and are left out of the student template, code and all.
//!
//! The template export replaces this whole folder with an empty `checks`,
//! so a hidden check must live here and nowhere else:
//!
//! 1. Write the check in `grader/src/hidden/LAB.rs` (a module of this
//!    folder; it may use the lab's helpers, `crate::labs::LAB::...`), with
//!    `pub fn checks() -> Vec<Check>` listing the lab's hidden checks.
//! 2. Add `mod LAB;` below and an arm `"LAB" => LAB::checks(),` to
//!    [`checks`].
//! 3. Give it an entry in `rubric/LAB.toml` with `hidden = true` (the
//!    rubric's validation fails if the flag and the folder disagree).
//!
//! The template test (grader/tests/template.rs) hides a check in every lab
//! this way and finds no trace of any of them in the export.

use ipc_engine::check::Check;

/// The hidden checks of `lab` (none, in this repository as shipped).
pub fn checks(lab: &str) -> Vec<Check> {
    let _ = lab;
    Vec::new()
}
