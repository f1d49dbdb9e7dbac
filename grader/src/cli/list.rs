//! `cargo grade --list`: the checks with their points and time limits.

use std::io::Write;

use anyhow::Result;

use crate::grading::Selected;
use ipc_engine::runner::{self, Job};

use super::PASSED;

/// Lists `selected`, and how long grading them takes at worst.
pub(super) fn run(selected: &[Selected], jobs: usize, repeat: u32) -> Result<u8> {
    list(selected)?;
    let jobs_list: Vec<Job> = selected.iter().map(Selected::job).collect();
    let worst = runner::worst_case(&jobs_list, jobs, repeat);
    println!("If every program hung, grading these would take at most {:.0}s with --jobs {jobs}.", worst.as_secs_f64());
    Ok(PASSED)
}

fn list(selected: &[Selected]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let width = selected.iter().map(|s| s.full_name().len()).max().unwrap_or(20);
    writeln!(out, "{:<width$}  {:>6}  {:>7}  tests", "check", "points", "limit")?;
    for s in selected {
        writeln!(
            out,
            "{:<width$}  {:>6}  {:>6}s  {}",
            s.full_name(),
            s.entry.points,
            s.entry.time_limit,
            s.entry.tests
        )?;
    }
    let total: u32 = selected.iter().map(|s| s.entry.points).sum();
    writeln!(out, "{} checks, {total} points", selected.len())?;
    Ok(())
}
