//! Batch grading: a folder of student checkouts in, a CSV gradebook, a
//! feedback file per student and the class overview out (`cargo grade
//! --batch DIR --out OUT`).
//!
//! Each submission is graded by a grading process of its own: this
//! executable with `--submission` (see `crate::submission`), which takes
//! only its `starter/` (never its grader, rubric or `common/`), builds and
//! runs it in the sandbox, with this grader's rubric, hidden checks
//! included, and hands back its record (`--format batch`) and its human
//! report. Two run at a time. The dependencies of the students' crate are
//! compiled once, into a build cache (`--build-cache`, default
//! `OUT/cache`) that every build starts from.
//!
//! Results, feedback and the gradebook are written only here, by the
//! grading process, once a submission's own process has ended and
//! everything it started is gone. Each result (`OUT/results/STUDENT.json`:
//! scores, every check's outcome, the compiler's first errors, when and
//! with which grader and rubric) is sealed with a key kept in `OUT`
//! (HMAC-SHA-256): one changed afterwards is noticed, said, and graded
//! again. A run without `--force` keeps the results there; the gradebook
//! and the overview (`OUT/index.html`, see [`overview`]) are written again
//! from all of them at the end of every run.
//!
//! Results saved before per-check outcomes were kept (no `checks` field) are
//! not graded again: their scores stay in the gradebook and the overview,
//! which says that they are left out of the checks table (`--force` grades
//! them again).
//!
//! This file runs the grading processes; `record.rs` is what a result
//! holds, `seal.rs` seals results and reads them back, `gradebook.rs`
//! writes the gradebook and the overview pages (`overview.rs`).

mod gradebook;
pub mod overview;
mod record;
mod seal;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::grading::Selected;
use crate::labs::LABS;
use crate::rubric::Rubric;
use ipc_engine::build;

use gradebook::{write_gradebook, write_overview, write_whole};
pub use record::{CheckResult, CompileError, Graded, HintsShown, Record};
pub use seal::Seal;
use seal::{Kept, load_result, load_results, result_path};

/// What batch grading needs.
pub struct Batch<'a> {
    pub submissions: PathBuf,
    pub out: PathBuf,
    /// Where the build cache is (made if missing or stale) [default: OUT/cache].
    pub build_cache: Option<PathBuf>,
    /// The labs or checks named on the command line (all if empty).
    pub filters: Vec<String>,
    pub selected: Vec<Selected>,
    pub rubric: &'a Rubric,
    /// The folder `rubric` was read from (`--rubric DIR`); `None`: built in.
    pub rubric_dir: Option<PathBuf>,
    pub jobs: usize,
    pub build_time_limit: Duration,
    pub force: bool,
}

/// What a run wrote.
pub struct Written {
    /// `OUT/grades.csv`.
    pub gradebook: PathBuf,
    /// `OUT/index.html`.
    pub overview: PathBuf,
}

/// What every result of this run records about how it was graded.
struct Provenance {
    grader: String,
    rubric: String,
}

/// Grades every submission, then writes the gradebook and the overview.
pub fn run(batch: &Batch) -> Result<Written> {
    let started = Instant::now();
    let started_at = unix_now();
    let (rubric_fingerprint, rubric_source) = rubric_fingerprint(batch.rubric_dir.as_deref())?;
    let provenance = Provenance { grader: grader_fingerprint(), rubric: rubric_fingerprint };
    for dir in ["results", "feedback"] {
        std::fs::create_dir_all(batch.out.join(dir))
            .with_context(|| format!("cannot create {}", batch.out.display()))?;
    }
    let seal = Seal::of(&batch.out)?;
    let mut students: Vec<(String, PathBuf)> = std::fs::read_dir(&batch.submissions)
        .with_context(|| format!("cannot read the submissions folder {}", batch.submissions.display()))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    students.sort();
    if students.is_empty() {
        bail!("{} holds no submission folders", batch.submissions.display());
    }
    if let Some(line) = ipc_engine::sandbox::headline() {
        eprintln!("{line}");
    }
    let changed: Vec<&str> = students
        .iter()
        .filter(|(id, _)| matches!(load_result(&batch.out, id, &seal), Some(Kept::Changed)))
        .map(|(id, _)| id.as_str())
        .collect();
    if !changed.is_empty() {
        eprintln!(
            "{} result(s) were changed after they were graded ({}): they are graded again.",
            changed.len(),
            changed.join(", ")
        );
    }
    let todo: Vec<(String, PathBuf)> = students
        .iter()
        .filter(|(id, _)| batch.force || !matches!(load_result(&batch.out, id, &seal), Some(Kept::Valid(_))))
        .cloned()
        .collect();
    let skipped = students.len() - todo.len();
    if skipped > 0 {
        eprintln!("{skipped} submission(s) already graded are kept (--force grades them again).");
    }

    let cache = batch.build_cache.clone().unwrap_or_else(|| batch.out.join("cache"));
    if !todo.is_empty() {
        ensure_cache(&cache, batch.build_time_limit)?;
    }
    let bar = ProgressBar::new(todo.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} graded, ETA {eta} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    // Two submissions at a time, each its own grading process.
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some((id, path)) = todo.get(i) else { return Ok(()) };
                        bar.set_message(format!("grading {id}"));
                        grade_one(batch, &provenance, &seal, &cache, id, path)?;
                        bar.inc(1);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("a batch worker")?;
        }
        Ok(())
    })?;
    bar.finish_with_message("done");

    let results = load_results(&batch.out, &students, &seal)?;
    let old: Vec<&str> = results.iter().filter(|g| g.checks.is_none()).map(|g| g.student.as_str()).collect();
    if !old.is_empty() {
        eprintln!(
            "{} result(s) were saved by an older grader without per-check outcomes ({}): the overview shows their scores but leaves them out of its checks table (--force grades them again).",
            old.len(),
            old.join(", ")
        );
    }
    let other_rubric = results.iter().filter(|g| g.rubric.as_ref().is_some_and(|r| *r != provenance.rubric)).count();
    if other_rubric > 0 {
        eprintln!(
            "{other_rubric} kept result(s) were graded with another rubric than this one (the overview names them; --force grades them again)."
        );
    }
    let gradebook = write_gradebook(batch, &results)?;
    let facts = overview::Facts {
        started: started_at,
        seconds: started.elapsed().as_secs_f64(),
        grader: format!("ipc-grader {}", env!("CARGO_PKG_VERSION")),
        grader_fingerprint: provenance.grader,
        rubric_fingerprint: provenance.rubric,
        rubric_source,
        submissions: batch.submissions.display().to_string(),
        graded_now: todo.iter().map(|(id, _)| id.clone()).collect::<BTreeSet<_>>(),
        sandbox: ipc_engine::sandbox::summary(),
    };
    let overview = write_overview(batch, &results, &facts)?;
    Ok(Written { gradebook, overview })
}

/// The build cache in `dir` (`dir/target`), made again if it is missing
/// or was made for another lock file or toolchain.
fn ensure_cache(dir: &Path, time_limit: Duration) -> Result<()> {
    let root = build::workspace_root();
    let lock = std::fs::read(root.join("Cargo.lock")).context("cannot read Cargo.lock")?;
    let sysroot = ipc_engine::sandbox::build::sysroot()?;
    let mut hash = Sha256::new();
    hash.update(&lock);
    hash.update(sysroot.as_os_str().as_encoded_bytes());
    let stamp: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let stamp_file = dir.join("stamp");
    if dir.join("target").is_dir() && std::fs::read_to_string(&stamp_file).is_ok_and(|s| s.trim() == stamp) {
        return Ok(());
    }
    eprintln!("Compiling the dependencies of the students' crate once, into {} ...", dir.display());
    crate::submission::prepare_cache(&root, dir, time_limit)?;
    std::fs::write(&stamp_file, stamp)?;
    Ok(())
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The SHA-256 of the running grader's executable ("unknown" if it cannot
/// be read).
fn grader_fingerprint() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| crate::tamper::fingerprint(&exe))
        .unwrap_or_else(|| "unknown".to_string())
}

/// The SHA-256 of the rubric files' bytes, concatenated in the labs' order
/// (`cat rubric/pipe.toml rubric/ring.toml ... | sha256sum` gives the
/// same), and a sentence saying so. `dir` is `--rubric DIR`; `None` is the
/// rubric compiled in (the repository's `rubric/` at build time).
pub fn rubric_fingerprint(dir: Option<&Path>) -> Result<(String, String)> {
    let mut hash = Sha256::new();
    for lab in LABS {
        match dir {
            Some(dir) => {
                let path = dir.join(format!("{}.toml", lab.name));
                hash.update(std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?);
            }
            None => hash.update(lab.rubric.as_bytes()),
        }
    }
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let files: Vec<String> = LABS.iter().map(|l| format!("{}.toml", l.name)).collect();
    let source = match dir {
        Some(dir) => format!("--rubric {}: its files {}, in this order", dir.display(), files.join(", ")),
        None => format!("built in: rubric/{}, in this order", files.join(", ")),
    };
    Ok((hex, source))
}

/// How long a submission's grading process may take: its build, every
/// check hanging, and a margin.
fn submission_limit(batch: &Batch) -> Duration {
    let jobs: Vec<ipc_engine::runner::Job> = batch.selected.iter().map(Selected::job).collect();
    batch.build_time_limit + ipc_engine::runner::worst_case(&jobs, batch.jobs, 1) + Duration::from_secs(120)
}

/// The hints a submission's record says were shown, read as data (see
/// [`crate::hints::read_submitted`]) beside its `starter/`.
fn hints_of(submission: &Path) -> Option<HintsShown> {
    let ladders = crate::hints::Ladders::load(&build::workspace_root()).ok().flatten()?;
    let dir = match crate::submission::find_starter(submission) {
        Some(starter) => starter.parent()?.to_path_buf(),
        None => submission.to_path_buf(),
    };
    let (shown, note) = crate::hints::read_submitted(&dir, &ladders)?;
    Some(HintsShown { shown: shown.rungs, note })
}

/// Grades one submission in a grading process of its own, then (that
/// process and everything it started gone) writes its sealed result and
/// its feedback.
fn grade_one(batch: &Batch, provenance: &Provenance, seal: &Seal, cache: &Path, id: &str, path: &Path) -> Result<()> {
    let started = Instant::now();
    let scratch = tempfile::Builder::new().prefix("ipc-grader-batch-").tempdir()?;
    let record_path = scratch.path().join("record.json");
    let exe = std::env::current_exe().context("cannot find the grader's own executable")?;
    let mut args: Vec<std::ffi::OsString> = vec![
        "--submission".into(),
        path.into(),
        "--build-cache".into(),
        cache.into(),
        "--format".into(),
        "batch".into(),
        "--output".into(),
        record_path.clone().into(),
        "--jobs".into(),
        batch.jobs.to_string().into(),
        "--build-time-limit".into(),
        batch.build_time_limit.as_secs().to_string().into(),
    ];
    if let Some(dir) = &batch.rubric_dir {
        args.extend(["--rubric".into(), dir.into()]);
    }
    args.extend(batch.filters.iter().map(Into::into));
    let mut spec = ipc_engine::proc::Spec::new(&exe, args, scratch.path());
    spec.env = vec![("NO_COLOR".into(), "1".into())];
    let mut running = ipc_engine::proc::spawn(&spec).context("cannot start a grading process")?;
    let exit = running.wait_until(Instant::now() + submission_limit(batch));
    if exit.is_none() {
        running.kill_group();
    }
    running.stdout.wait_eof(Instant::now() + Duration::from_secs(5));
    // What it started is gone before anything of its is read.
    if ipc_engine::sandbox::support().users {
        for uid in ipc_engine::sandbox::identity::range_of(running.pid().as_raw() as u32) {
            ipc_engine::proc::kill_user(uid);
        }
    }
    let human = anstream::adapter::strip_bytes(&running.stdout.bytes()).into_vec();
    let record = match (exit, std::fs::read_to_string(&record_path)) {
        (Some(ipc_engine::proc::Exit::Code(0 | 1)), Ok(text)) => {
            serde_json::from_str::<Record>(&text).context("a grading process's record is not one")?
        }
        (exit, _) => {
            let how = match exit {
                Some(exit) => format!("ended with {exit}"),
                None => format!("took longer than {}s and was stopped", submission_limit(batch).as_secs()),
            };
            let stderr = String::from_utf8_lossy(&running.stderr.bytes()).into_owned();
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").to_string();
            let why = format!("not graded: its grading process {how} ({})", ipc_engine::text::one_line(&last, 200));
            Record::new(&batch.selected, &[], Some(why), Vec::new())
        }
    };
    let graded = Graded {
        student: id.to_string(),
        labs: record.labs,
        score: record.score,
        max_score: record.max_score,
        error: record.error.clone(),
        checks: Some(record.checks),
        compile_errors: record.compile_errors,
        graded_at: Some(unix_now()),
        seconds: Some((started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
        grader: Some(provenance.grader.clone()),
        rubric: Some(provenance.rubric.clone()),
        seal: None,
        hints: hints_of(path),
    };
    let mut feedback = Vec::new();
    match &graded.error {
        Some(why) if graded.checks.as_ref().is_some_and(Vec::is_empty) => {
            writeln!(feedback, "{id}: {why}\nScore: 0/{}", graded.max_score)?
        }
        _ => feedback.extend(human),
    }
    std::fs::write(batch.out.join("feedback").join(format!("{id}.txt")), feedback)?;
    write_whole(&result_path(&batch.out, id), &serde_json::to_string_pretty(&seal.sealed(graded)?)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rubric's fingerprint is that of its files, in the labs' order,
    /// wherever the rubric comes from.
    #[test]
    fn the_rubric_fingerprint_is_of_its_files() {
        let dir = build::workspace_root().join("rubric");
        let (from_files, source) = rubric_fingerprint(Some(&dir)).unwrap();
        let (built_in, _) = rubric_fingerprint(None).unwrap();
        assert_eq!(from_files, built_in);
        let files: Vec<String> = LABS.iter().map(|lab| format!("{}.toml", lab.name)).collect();
        assert!(source.contains(&files.join(", ")), "{source}");
        let mut all = Vec::new();
        for lab in LABS {
            all.extend(std::fs::read(dir.join(format!("{}.toml", lab.name))).unwrap());
        }
        let expected: String = Sha256::digest(&all).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(from_files, expected);
    }
}
