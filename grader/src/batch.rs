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

pub mod overview;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::grading::{Outcome, Selected};
use crate::labs::LABS;
use crate::report;
use crate::rubric::Rubric;
use ipc_engine::build;

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
    /// HMAC-SHA-256 of the rest, with the key of `OUT` ([`Seal`]).
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

fn result_path(out: &Path, id: &str) -> PathBuf {
    out.join("results").join(format!("{id}.json"))
}

/// How long a submission's grading process may take: its build, every
/// check hanging, and a margin.
fn submission_limit(batch: &Batch) -> Duration {
    let jobs: Vec<ipc_engine::runner::Job> = batch.selected.iter().map(Selected::job).collect();
    batch.build_time_limit + ipc_engine::runner::worst_case(&jobs, batch.jobs, 1) + Duration::from_secs(120)
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

/// The key that seals this folder's results (`OUT/.seal-key`, made once,
/// readable by its owner only).
pub struct Seal {
    key: Vec<u8>,
}

impl Seal {
    /// The key of the results in `out`, made if there is none.
    pub fn of(out: &Path) -> Result<Seal> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = out.join(".seal-key");
        if let Ok(key) = std::fs::read(&path) {
            return Ok(Seal { key });
        }
        let key: Vec<u8> = (0..32).map(|_| fastrand::u8(..)).collect();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot make {}", path.display()))?;
        file.write_all(&key)?;
        Ok(Seal { key })
    }

    /// The seal of a result (of everything in it but its seal).
    fn of_result(&self, graded: &Graded) -> Result<String> {
        use hmac::Mac;
        let unsealed = Graded { seal: None, ..graded.clone() };
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(&serde_json::to_vec(&unsealed)?);
        Ok(mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// `graded`, sealed.
    pub fn sealed(&self, graded: Graded) -> Result<Graded> {
        let seal = self.of_result(&graded)?;
        Ok(Graded { seal: Some(seal), ..graded })
    }
}

/// A result found in `OUT/results`.
enum Kept {
    /// Sealed by this folder's key, unchanged; or saved by an older grader
    /// (no per-check outcomes, no seal), kept as it is.
    Valid(Box<Graded>),
    /// Changed since it was sealed, or not a result at all.
    Changed,
}

fn load_result(out: &Path, id: &str, seal: &Seal) -> Option<Kept> {
    let text = std::fs::read_to_string(result_path(out, id)).ok()?;
    let Ok(graded) = serde_json::from_str::<Graded>(&text) else { return Some(Kept::Changed) };
    let older = graded.checks.is_none() && graded.grader.is_none() && graded.seal.is_none();
    let intact = graded.seal.as_deref().is_some_and(|s| seal.of_result(&graded).is_ok_and(|want| want == s));
    Some(if older || intact { Kept::Valid(Box::new(graded)) } else { Kept::Changed })
}

/// The saved result of every student, in order.
fn load_results(out: &Path, students: &[(String, PathBuf)], seal: &Seal) -> Result<Vec<Graded>> {
    students
        .iter()
        .map(|(id, _)| match load_result(out, id, seal) {
            Some(Kept::Valid(graded)) => Ok(*graded),
            Some(Kept::Changed) => bail!(
                "{} was changed after it was graded: run again to grade {id} again",
                result_path(out, id).display()
            ),
            None => bail!("no result for {id} (grade again)"),
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
    let ladders = crate::hints::Ladders::load(&build::workspace_root()).ok().flatten().unwrap_or_default();
    let checks: Vec<overview::CheckInfo> = batch
        .selected
        .iter()
        .map(|s| overview::CheckInfo {
            programs: ladders.programs_of_check(s.lab, s.check.name).into_iter().map(String::from).collect(),
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
