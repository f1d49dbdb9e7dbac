//! Batch grading: a folder of student checkouts in, a CSV gradebook and a
//! feedback file per student out (`cargo grade --batch DIR --out OUT`).
//!
//! Each submission's `starter/` (and nothing else of it: never its grader,
//! rubric or `common/`) is copied into a fresh workspace beside this
//! repository's `common/`, built with a time limit, and graded with this
//! grader and its rubric, hidden checks included. Builds run one at a time
//! (they use every core) while earlier submissions are graded.
//!
//! Builds share one Cargo target folder (`OUT/target`) so that the
//! dependencies are compiled once, not once per student; each submission's
//! own crate is compiled separately (its path differs), and its binaries are
//! copied to `OUT/bins/STUDENT/` as soon as its build ends.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::grading::{self, Selected};
use crate::report;
use crate::rubric::Rubric;
use ipc_engine::build::{self, BuildError, Crate, Programs};
use ipc_engine::runner::Options;

/// What batch grading needs.
pub struct Batch<'a> {
    pub submissions: PathBuf,
    pub out: PathBuf,
    pub target_dir: Option<PathBuf>,
    pub selected: Vec<Selected>,
    pub rubric: &'a Rubric,
    pub jobs: usize,
    pub build_time_limit: Duration,
    pub force: bool,
}

/// One student's result, as saved in `OUT/results/STUDENT.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Graded {
    pub student: String,
    /// Points by lab.
    pub labs: BTreeMap<String, u32>,
    pub score: u32,
    pub max_score: u32,
    /// Why the submission could not be graded (no starter, does not build).
    pub error: Option<String>,
}

/// Grades every submission and writes the gradebook. Returns the path of
/// the CSV.
pub fn run(batch: &Batch) -> Result<PathBuf> {
    let root = build::workspace_root();
    for dir in ["results", "feedback", "bins", "work"] {
        std::fs::create_dir_all(batch.out.join(dir))
            .with_context(|| format!("cannot create {}", batch.out.display()))?;
    }
    let mut students: Vec<(String, PathBuf)> = std::fs::read_dir(&batch.submissions)
        .with_context(|| format!("cannot read the submissions folder {}", batch.submissions.display()))?
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    students.sort();
    if students.is_empty() {
        bail!("{} holds no submission folders", batch.submissions.display());
    }
    let todo: Vec<(String, PathBuf)> =
        students.iter().filter(|(id, _)| batch.force || !result_path(&batch.out, id).exists()).cloned().collect();
    let skipped = students.len() - todo.len();
    if skipped > 0 {
        eprintln!("{skipped} submission(s) already graded are kept (--force grades them again).");
    }

    let bar = ProgressBar::new(todo.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} graded, ETA {eta} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let target_dir = batch.target_dir.clone().unwrap_or_else(|| batch.out.join("target"));
    let (tx, rx) = mpsc::channel::<(String, Result<Programs, String>)>();
    let rx = std::sync::Mutex::new(rx);
    std::thread::scope(|scope| -> Result<()> {
        let builder = scope.spawn(|| {
            for (id, path) in &todo {
                bar.set_message(format!("building {id}"));
                let built = build_submission(&root, path, &batch.out.join("work").join(id), &target_dir, batch)
                    .and_then(|programs| keep_binaries(&programs, &batch.out.join("bins").join(id)));
                if tx.send((id.clone(), built)).is_err() {
                    break;
                }
            }
            drop(tx);
        });
        // Two submissions graded at a time, each with its checks in parallel.
        let graders: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok((id, built)) = next else { return Ok(()) };
                        grade_one(batch, &id, built)?;
                        bar.inc(1);
                    }
                })
            })
            .collect();
        builder.join().expect("the builder thread");
        for g in graders {
            g.join().expect("a grader thread")?;
        }
        Ok(())
    })?;
    bar.finish_with_message("done");
    write_gradebook(batch, &students)
}

fn result_path(out: &Path, id: &str) -> PathBuf {
    out.join("results").join(format!("{id}.json"))
}

/// Copies the submission's starter beside this repository's `common/` and
/// builds it. `Err` carries a message for the gradebook.
fn build_submission(
    root: &Path,
    submission: &Path,
    work: &Path,
    target_dir: &Path,
    batch: &Batch,
) -> Result<Programs, String> {
    let starter = submission.join("starter");
    if !starter.join("Cargo.toml").is_file() {
        return Err("no starter/ folder with a Cargo.toml".to_string());
    }
    let prepare = || -> Result<()> {
        if work.exists() {
            std::fs::remove_dir_all(work)?;
        }
        std::fs::create_dir_all(work)?;
        crate::export::copy_tree(&root.join("common"), &work.join("common"))?;
        crate::export::copy_tree(&starter, &work.join("starter"))?;
        std::fs::copy(root.join("Cargo.lock"), work.join("Cargo.lock"))?;
        let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
        std::fs::write(work.join("Cargo.toml"), crate::export::workspace_manifest(&manifest, &["common", "starter"])?)?;
        Ok(())
    };
    prepare().map_err(|e| format!("cannot prepare the build: {e:#}"))?;
    match build::build(Crate::Starter, work, Some(target_dir), batch.build_time_limit) {
        Ok(built) => Ok(built.programs),
        Err(BuildError::Compile { messages, .. }) => {
            let first = messages.lines().find(|l| l.starts_with("error")).unwrap_or("does not compile").to_string();
            Err(format!("does not build: {}", ipc_engine::text::one_line(&first, 200)))
        }
        Err(BuildError::Cargo(why)) => Err(format!("does not build: {why}")),
    }
}

/// Copies the built programs out of the shared target folder (the next
/// build overwrites them there).
fn keep_binaries(programs: &Programs, dest: &Path) -> Result<Programs, String> {
    let copy = || -> Result<Programs> {
        if dest.exists() {
            std::fs::remove_dir_all(dest)?;
        }
        std::fs::create_dir_all(dest)?;
        let mut map = BTreeMap::new();
        for (name, path) in programs.iter() {
            let kept = dest.join(name);
            std::fs::copy(path, &kept)?;
            map.insert(name.clone(), kept);
        }
        let mut kept = Programs::from_map(map, programs.origin.clone());
        for (name, error) in programs.failed() {
            kept.set_not_built(name.clone(), error.clone());
        }
        Ok(kept)
    };
    copy().map_err(|e| format!("cannot keep the built programs: {e:#}"))
}

fn grade_one(batch: &Batch, id: &str, built: Result<Programs, String>) -> Result<()> {
    let started = Instant::now();
    let (outcomes, error) = match built {
        Ok(programs) => {
            let options = Options { jobs: batch.jobs, repeat: 1 };
            // Programs that did not compile cost only their own checks; the
            // gradebook's error column names them.
            let failed: Vec<String> = programs
                .failed()
                .map(|(name, error)| {
                    let first = error.lines().find(|l| !l.trim().is_empty()).unwrap_or("does not compile");
                    format!("{name} ({})", ipc_engine::text::one_line(first, 120))
                })
                .collect();
            let error = (!failed.is_empty()).then(|| format!("did not compile: {}", failed.join("; ")));
            (grading::run(&batch.selected, &programs, &options, &|_| {}), error)
        }
        Err(why) => (Vec::new(), Some(why)),
    };
    let mut labs: BTreeMap<String, u32> = BTreeMap::new();
    for s in &batch.selected {
        labs.entry(s.lab.to_string()).or_insert(0);
    }
    for o in &outcomes {
        *labs.entry(o.lab.clone()).or_insert(0) += o.points;
    }
    let totals = report::totals(&outcomes);
    let max_score = batch.selected.iter().map(|s| s.entry.points).sum();
    let graded = Graded { student: id.to_string(), labs, score: totals.score, max_score, error: error.clone() };

    let mut feedback = Vec::new();
    match &error {
        Some(why) if outcomes.is_empty() => writeln!(feedback, "{id}: not graded: {why}\nScore: 0/{max_score}")?,
        _ => {
            if let Some(why) = &error {
                writeln!(feedback, "NOTE: {why}; every other program was graded.\n")?;
            }
            let titles = |lab: &str| batch.rubric.labs.get(lab).map(|l| l.title.clone()).unwrap_or_default();
            report::human(
                &mut feedback,
                &format!("the submission of {id}"),
                &outcomes,
                started.elapsed(),
                true,
                &titles,
            )?;
        }
    }
    let feedback = anstream::adapter::strip_bytes(&feedback).into_vec();
    std::fs::write(batch.out.join("feedback").join(format!("{id}.txt")), feedback)?;
    std::fs::write(result_path(&batch.out, id), serde_json::to_string_pretty(&graded)?)?;
    Ok(())
}

/// `OUT/grades.csv`: one row per student, a column per lab, total, error.
fn write_gradebook(batch: &Batch, students: &[(String, PathBuf)]) -> Result<PathBuf> {
    let mut labs: Vec<&str> = Vec::new();
    for s in &batch.selected {
        if !labs.contains(&s.lab) {
            labs.push(s.lab);
        }
    }
    let path = batch.out.join("grades.csv");
    let mut csv = csv::Writer::from_path(&path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut header = vec!["student".to_string()];
    header.extend(labs.iter().map(|l| l.to_string()));
    header.extend(["total".into(), "max".into(), "error".into()]);
    csv.write_record(&header)?;
    for (id, _) in students {
        let text = std::fs::read_to_string(result_path(&batch.out, id))
            .with_context(|| format!("no result for {id} (grade again)"))?;
        let g: Graded = serde_json::from_str(&text)?;
        let mut row = vec![g.student.clone()];
        row.extend(labs.iter().map(|l| g.labs.get(*l).copied().unwrap_or(0).to_string()));
        row.extend([g.score.to_string(), g.max_score.to_string(), g.error.clone().unwrap_or_default()]);
        csv.write_record(&row)?;
    }
    csv.flush()?;
    Ok(path)
}
