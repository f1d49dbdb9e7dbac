//! The reports of a grading: the human table, and the one `--format`
//! asks for (to stdout or `--output`), or GitHub's.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::formats;
use crate::grading::Outcome;
use crate::report;
use crate::rubric::Rubric;
use ipc_engine::check::Kind;

use super::{Args, Format};

pub(super) fn write_reports(
    args: &Args,
    origin: &str,
    outcomes: &[Outcome],
    elapsed: Duration,
    rubric: &Rubric,
    extra_notes: &[String],
    record: crate::batch::Record,
) -> Result<()> {
    let titles = |lab: &str| rubric.labs.get(lab).map(|l| l.title.clone()).unwrap_or_default();
    let mut notes: Vec<String> = ipc_engine::sandbox::headline().into_iter().collect();
    notes.extend(crate::tamper::notes());
    notes.extend(extra_notes.iter().cloned());
    let mut human = Vec::new();
    for note in &notes {
        writeln!(human, "NOTE: {note}")?;
    }
    let detail = match (args.watch_round, args.verbose) {
        (true, _) => report::Detail::FirstInFull,
        (false, true) => report::Detail::Verbose,
        (false, false) => report::Detail::Brief,
    };
    report::human_with(&mut human, origin, outcomes, elapsed, detail, &titles)?;
    let error = outcomes
        .iter()
        .any(|o| o.fail.as_ref().is_some_and(|f| matches!(f.kind, Kind::Infrastructure | Kind::Missing)));
    let machine = match args.format {
        Format::Human => None,
        Format::Json => Some(report::json(origin, outcomes, elapsed, &notes)),
        Format::Gradescope => Some(formats::gradescope(origin, outcomes, elapsed, &notes)),
        Format::Batch => Some(serde_json::to_string(&record)?),
        Format::Github => {
            github(args, origin, outcomes, &notes, &human, error)?;
            return Ok(());
        }
    };
    let mut stdout = anstream::stdout();
    match (machine, &args.output) {
        (None, _) => stdout.write_all(&human)?,
        (Some(text), Some(path)) => {
            std::fs::write(path, text + "\n")
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            stdout.write_all(&human)?;
        }
        (Some(text), None) => writeln!(std::io::stdout(), "{text}")?,
    }
    stdout.flush()?;
    Ok(())
}

/// `--format github`: the human report in the log (with workflow commands
/// stopped around it), annotations, the step summary, and the Classroom result.
fn github(args: &Args, origin: &str, outcomes: &[Outcome], notes: &[String], human: &[u8], error: bool) -> Result<()> {
    // The report holds what programs printed (escaped): still inside the
    // region main started (started here if it was not); then the grader's
    // own annotations, escaped, as commands.
    crate::workflow::start();
    let mut out = std::io::stdout().lock();
    out.write_all(&anstream::adapter::strip_bytes(human).into_vec())?;
    out.flush()?;
    drop(out);
    crate::workflow::end();
    let mut out = std::io::stdout().lock();
    out.write_all(formats::annotations(outcomes).as_bytes())?;
    let summary = formats::summary_markdown(origin, outcomes, notes);
    let summary_path = std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from).or_else(|| args.output.clone());
    match summary_path {
        Some(path) => {
            append(&path, &summary).with_context(|| format!("cannot write the step summary to {}", path.display()))?
        }
        None => writeln!(out, "(no $GITHUB_STEP_SUMMARY and no --output: the Markdown summary was not written)")?,
    }
    let result = formats::classroom_result(outcomes, error);
    match std::env::var_os("GITHUB_OUTPUT") {
        Some(path) => append(Path::new(&path), &format!("result={result}\n"))
            .with_context(|| format!("cannot write the step output to {}", Path::new(&path).display()))?,
        None => writeln!(out, "(no $GITHUB_OUTPUT: the GitHub Classroom result was not written)")?,
    }
    out.flush()?;
    Ok(())
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())
}
