//! The modes that write something once and exit: the handouts' tables,
//! the build cache for submissions, Gradescope's results for a submission
//! not graded, Gradescope's autograder and the student template.

use std::time::Duration;

use anyhow::Result;

use crate::formats;
use crate::grading::Outcome;
use crate::rubric::Rubric;
use ipc_engine::build;
use ipc_engine::check::{Fail, Kind};

use super::{Args, PASSED, select};

/// Runs the one of these modes that `args` asks for, if any: its exit status.
pub(super) fn run(args: &Args, rubric: &Rubric) -> Result<Option<u8>> {
    if args.update_handouts {
        let stale = crate::handouts::sync(&build::workspace_root(), rubric, true)?;
        match stale.is_empty() {
            true => println!("The handouts' tables were already current."),
            false => println!("Updated: {}", stale.join(", ")),
        }
        return Ok(Some(PASSED));
    }
    if let Some(dir) = &args.prepare_build_cache {
        let limit = Duration::from_secs(args.build_time_limit);
        crate::submission::prepare_cache(&build::workspace_root(), dir, limit)?;
        println!(
            "Wrote the build cache to {} (give --build-cache {} with --submission or --batch).",
            dir.join("target").display(),
            dir.display()
        );
        return Ok(Some(PASSED));
    }
    if let Some(reason) = &args.gradescope_zero {
        let selected = select(rubric, &[])?;
        let fail = Fail::new(reason.clone()).kind(Kind::Missing);
        let outcomes: Vec<Outcome> = selected.iter().map(|s| Outcome::not_run(s, fail.clone(), reason)).collect();
        println!("{}", formats::gradescope("your submission", &outcomes, Duration::ZERO, std::slice::from_ref(reason)));
        return Ok(Some(PASSED));
    }
    if let Some(zip) = &args.export_gradescope {
        let root = build::workspace_root();
        let rubric_dir = args.rubric.clone().unwrap_or_else(|| root.join("rubric"));
        let selected = select(rubric, &args.filters)?;
        crate::gradescope::export(&root, &rubric_dir, zip, &args.filters)?;
        let total: u32 = selected.iter().map(|s| s.entry.points).sum();
        println!(
            "Wrote Gradescope's autograder to {} ({} checks, {total} points: give the assignment {total} points; its README.md says how to set it up).",
            zip.display(),
            selected.len()
        );
        return Ok(Some(PASSED));
    }
    if let Some(dest) = &args.export_template {
        let root = build::workspace_root();
        let rubric_dir = args.rubric.clone().unwrap_or_else(|| root.join("rubric"));
        let hidden = crate::export::export(&root, &rubric_dir, dest, rubric)?;
        println!("Wrote the student template to {}.", dest.display());
        if !hidden.is_empty() {
            println!("Hidden checks left out (they run in batch grading): {}", hidden.join(", "));
        }
        println!(
            "Next: cd {} && git init && git add -A && git commit -m template, then push it and mark it a template repository.",
            dest.display()
        );
        return Ok(Some(PASSED));
    }
    Ok(None)
}
