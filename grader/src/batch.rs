//! Batch grading: a folder of student checkouts in, a CSV gradebook, a
//! feedback file per student and the class overview out (`cargo grade
//! --batch DIR --out OUT`).
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
//!
//! Each student's result is saved in `OUT/results/STUDENT.json` (scores,
//! every check's outcome, the compiler's first errors, when and with which
//! grader and rubric); a run without `--force` keeps the results there. The
//! gradebook and the overview (`OUT/index.html`, see [`overview`]) are
//! written again from all saved results at the end of every run.
//!
//! Results saved before per-check outcomes were kept (no `checks` field) are
//! not graded again: their scores stay in the gradebook and the overview,
//! which says that they are left out of the checks table (`--force` grades
//! them again).

pub mod overview;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::grading::{self, Outcome, Selected};
use crate::labs::LABS;
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
    /// The folder `rubric` was read from (`--rubric DIR`); `None`: built in.
    pub rubric_dir: Option<PathBuf>,
    pub jobs: usize,
    pub build_time_limit: Duration,
    pub force: bool,
}

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
    /// SHA-256 of the rubric it was graded with (see [`rubric_fingerprint`]).
    #[serde(default)]
    pub rubric: Option<String>,
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
    fn new(program: Option<String>, rendered: &str) -> CompileError {
        let error = ipc_engine::text::escape(rendered.trim_end().as_bytes(), false);
        CompileError { program, error: ipc_engine::text::cut(&error, 4000) }
    }
}

/// Why a submission gave no programs at all.
struct NotBuilt {
    /// One line for the gradebook.
    why: String,
    compile_errors: Vec<CompileError>,
}

impl NotBuilt {
    fn new(why: impl Into<String>) -> NotBuilt {
        NotBuilt { why: why.into(), compile_errors: Vec::new() }
    }
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
    let root = build::workspace_root();
    let (rubric_fingerprint, rubric_source) = rubric_fingerprint(batch.rubric_dir.as_deref())?;
    let provenance = Provenance { grader: grader_fingerprint(), rubric: rubric_fingerprint };
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
    let (tx, rx) = mpsc::channel::<(String, Result<Programs, NotBuilt>, Duration)>();
    let rx = std::sync::Mutex::new(rx);
    std::thread::scope(|scope| -> Result<()> {
        let builder = scope.spawn(|| {
            for (id, path) in &todo {
                bar.set_message(format!("building {id}"));
                let building = Instant::now();
                let built = build_submission(&root, path, &batch.out.join("work").join(id), &target_dir, batch)
                    .and_then(|programs| keep_binaries(&programs, &batch.out.join("bins").join(id)));
                if tx.send((id.clone(), built, building.elapsed())).is_err() {
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
                        let Ok((id, built, build_time)) = next else { return Ok(()) };
                        grade_one(batch, &provenance, &id, built, build_time)?;
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

    let results = load_results(&batch.out, &students)?;
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
    };
    let overview = write_overview(batch, &results, &facts)?;
    Ok(Written { gradebook, overview })
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
) -> Result<Programs, NotBuilt> {
    let starter = submission.join("starter");
    if !starter.join("Cargo.toml").is_file() {
        return Err(NotBuilt::new("no starter/ folder with a Cargo.toml"));
    }
    let prepare = || -> Result<()> {
        // A student's build script may leave anything in its work folder
        // (a chain of folders 30,000 deep overflows std's remove_dir_all).
        let left = ipc_engine::remove::tree(work);
        if !left.is_empty() {
            bail!("cannot clear the work folder {}: {}", work.display(), left.join("; "));
        }
        std::fs::create_dir_all(work)?;
        crate::export::copy_tree(&root.join("common"), &work.join("common"))?;
        crate::export::copy_tree(&starter, &work.join("starter"))?;
        std::fs::copy(root.join("Cargo.lock"), work.join("Cargo.lock"))?;
        let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
        std::fs::write(work.join("Cargo.toml"), crate::export::workspace_manifest(&manifest, &["common", "starter"])?)?;
        Ok(())
    };
    prepare().map_err(|e| NotBuilt::new(format!("cannot prepare the build: {e:#}")))?;
    let built = match crate::grading::programs_needed(&batch.selected) {
        Some(programs) => {
            build::build_programs(Crate::Starter, work, Some(target_dir), batch.build_time_limit, &programs)
        }
        None => build::build(Crate::Starter, work, Some(target_dir), batch.build_time_limit),
    };
    match built {
        Ok(built) => Ok(built.programs),
        Err(BuildError::Compile { messages, .. }) => {
            let first = messages.lines().find(|l| l.starts_with("error")).unwrap_or("does not compile").to_string();
            Err(NotBuilt {
                why: format!("does not build: {}", ipc_engine::text::one_line(&first, 200)),
                compile_errors: vec![CompileError::new(None, &first_error(&messages))],
            })
        }
        Err(BuildError::Cargo(why)) => Err(NotBuilt::new(format!("does not build: {why}"))),
    }
}

/// The first error's whole message (its first line to the line before the
/// next message) out of cargo's messages.
fn first_error(messages: &str) -> String {
    let mut lines = messages.lines().skip_while(|l| !l.starts_with("error"));
    let Some(first) = lines.next() else { return messages.to_string() };
    let rest = lines.take_while(|l| !l.starts_with("error") && !l.starts_with("warning"));
    std::iter::once(first).chain(rest).collect::<Vec<_>>().join("\n")
}

/// Copies the built programs out of the shared target folder (the next
/// build overwrites them there).
fn keep_binaries(programs: &Programs, dest: &Path) -> Result<Programs, NotBuilt> {
    let copy = || -> Result<Programs> {
        let left = ipc_engine::remove::tree(dest);
        if !left.is_empty() {
            bail!("cannot clear {}: {}", dest.display(), left.join("; "));
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
    copy().map_err(|e| NotBuilt::new(format!("cannot keep the built programs: {e:#}")))
}

fn grade_one(
    batch: &Batch,
    provenance: &Provenance,
    id: &str,
    built: Result<Programs, NotBuilt>,
    build_time: Duration,
) -> Result<()> {
    let started = Instant::now();
    let (outcomes, error, compile_errors) = match built {
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
            let compile_errors =
                programs.failed().map(|(name, error)| CompileError::new(Some(name.clone()), error)).collect();
            (grading::run(&batch.selected, &programs, &options, &|_| {}), error, compile_errors)
        }
        Err(not_built) => (Vec::new(), Some(not_built.why), not_built.compile_errors),
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
    let graded = Graded {
        student: id.to_string(),
        labs,
        score: totals.score,
        max_score,
        error: error.clone(),
        checks: Some(outcomes.iter().map(CheckResult::new).collect()),
        compile_errors,
        graded_at: Some(unix_now()),
        seconds: Some(((build_time + started.elapsed()).as_secs_f64() * 10.0).round() / 10.0),
        grader: Some(provenance.grader.clone()),
        rubric: Some(provenance.rubric.clone()),
    };

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

/// The saved result of every student, in order.
fn load_results(out: &Path, students: &[(String, PathBuf)]) -> Result<Vec<Graded>> {
    students
        .iter()
        .map(|(id, _)| {
            let path = result_path(out, id);
            let text = std::fs::read_to_string(&path).with_context(|| format!("no result for {id} (grade again)"))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a result file (delete it to grade {id} again)", path.display()))
        })
        .collect()
}

/// The labs selected, in the grader's order.
fn selected_labs(batch: &Batch) -> Vec<&'static str> {
    let mut labs: Vec<&str> = Vec::new();
    for s in &batch.selected {
        if !labs.contains(&s.lab) {
            labs.push(s.lab);
        }
    }
    labs
}

/// `OUT/grades.csv`: one row per student, a column per lab, total, error.
fn write_gradebook(batch: &Batch, results: &[Graded]) -> Result<PathBuf> {
    let labs = selected_labs(batch);
    let path = batch.out.join("grades.csv");
    let mut csv = csv::Writer::from_path(&path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut header = vec!["student".to_string()];
    header.extend(labs.iter().map(|l| l.to_string()));
    header.extend(["total".into(), "max".into(), "error".into()]);
    csv.write_record(&header)?;
    for g in results {
        let mut row = vec![g.student.clone()];
        row.extend(labs.iter().map(|l| g.labs.get(*l).copied().unwrap_or(0).to_string()));
        row.extend([g.score.to_string(), g.max_score.to_string(), g.error.clone().unwrap_or_default()]);
        csv.write_record(&row)?;
    }
    csv.flush()?;
    Ok(path)
}

/// `OUT/index.html`, and `OUT/feedback/STUDENT.html` beside each text
/// feedback. Each file is written whole, then renamed into place, so that a
/// browser showing it never reads half a page.
fn write_overview(batch: &Batch, results: &[Graded], facts: &overview::Facts) -> Result<PathBuf> {
    for g in results {
        let feedback = batch.out.join("feedback");
        let text = std::fs::read_to_string(feedback.join(format!("{}.txt", g.student))).ok();
        let page = overview::feedback(&g.student, Some(g), text.as_deref());
        write_whole(&feedback.join(format!("{}.html", g.student)), &page)?;
    }
    let labs: Vec<overview::LabInfo> = selected_labs(batch)
        .into_iter()
        .map(|lab| overview::LabInfo {
            name: lab.to_string(),
            title: batch.rubric.labs.get(lab).map(|l| l.title.clone()).unwrap_or_default(),
            max: batch.selected.iter().filter(|s| s.lab == lab).map(|s| s.entry.points).sum(),
        })
        .collect();
    let checks: Vec<overview::CheckInfo> = batch
        .selected
        .iter()
        .map(|s| overview::CheckInfo {
            lab: s.lab.to_string(),
            name: s.check.name.to_string(),
            points: s.entry.points,
            tests: s.entry.tests.trim().to_string(),
            hint: s.entry.hint.trim().to_string(),
            see: match &s.entry.section {
                Some(section) => format!("{}#{section}", s.handout),
                None => s.handout.clone(),
            },
            hidden: s.hidden,
        })
        .collect();
    let page = overview::index(&overview::Class { results, labs: &labs, checks: &checks, facts });
    let path = batch.out.join("index.html");
    write_whole(&path, &page)?;
    Ok(path)
}

fn write_whole(path: &Path, text: &str) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, text).with_context(|| format!("cannot write {}", Path::new(&partial).display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first error's whole message: not the one after it, not the rest.
    #[test]
    fn first_error_keeps_one_whole_message() {
        let messages = "error[E0425]: cannot find value `x` in this scope\n --> starter/src/pipe/pipeline.rs:3:5\n  |\n3 |     x\n  |     ^ not found in this scope\n\nerror: aborting due to 1 previous error\n";
        assert_eq!(
            first_error(messages),
            "error[E0425]: cannot find value `x` in this scope\n --> starter/src/pipe/pipeline.rs:3:5\n  |\n3 |     x\n  |     ^ not found in this scope\n"
        );
        assert_eq!(first_error("cargo build failed"), "cargo build failed");
    }

    /// A result file an older grader saved still reads, without per-check
    /// outcomes (`checks` absent, not empty).
    #[test]
    fn a_result_without_the_later_fields_still_reads() {
        let old = r#"{"student": "alice", "labs": {"pipe": 3}, "score": 3, "max_score": 30, "error": null}"#;
        let g: Graded = serde_json::from_str(old).unwrap();
        assert_eq!((g.score, g.max_score, g.labs["pipe"]), (3, 30, 3));
        assert!(g.checks.is_none() && g.compile_errors.is_empty() && g.graded_at.is_none() && g.rubric.is_none());
    }

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
