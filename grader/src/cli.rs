//! The command line: `cargo grade [OPTIONS] [LAB | LAB::CHECK]...`.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};

use crate::formats;
use crate::grading::{self, Outcome, Selected};
use crate::labs::LABS;
use crate::report;
use crate::rubric::Rubric;
use ipc_engine::build::{self, BuildError, Crate, Programs};
use ipc_engine::check::{Fail, Kind};
use ipc_engine::runner::{self, Job, Options};

/// Exit status: every selected check passed.
pub const PASSED: u8 = 0;
/// Exit status: some check failed.
pub const FAILED: u8 = 1;
/// Exit status: usage or infrastructure error (including code that does not compile).
pub const ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "cargo grade",
    about = "Grade the IPC labs: build your programs and check them against the lab contract.",
    after_help = "Examples:\n  cargo grade                    grade your starter code, every lab\n  cargo grade pipe               one lab\n  cargo grade pipe::pipeline-seq-wc   one check\n  cargo grade --verbose pipe     with commands to reproduce each failure\n  cargo grade --watch pipe       grade pipe again at every save of a file under starter/\n  cargo grade --bin-dir DIR      grade the executables in DIR (any language)"
)]
pub struct Args {
    /// Labs (`pipe`) or single checks (`pipe::message-default`) to run; all if none.
    pub filters: Vec<String>,
    /// Which crate of this repository to build and grade.
    #[arg(long, value_enum, default_value_t = TargetArg::Starter, conflicts_with = "bin_dir")]
    pub target: TargetArg,
    /// Grade the executables in this folder instead (named as in the contract).
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
    /// Grade a student's submission (a checkout or an upload: its starter/ at the top or one folder down), built and run in the sandbox; exit 0 or 1 when it was graded, 2 when it could not be.
    #[arg(long, value_name = "DIR", conflicts_with = "bin_dir")]
    pub submission: Option<PathBuf>,
    /// With --submission or --batch: a build cache (--prepare-build-cache), whose target folder every build starts from, so that the dependencies are not compiled again [batch: OUT/cache, made if missing].
    #[arg(long, value_name = "DIR")]
    pub build_cache: Option<PathBuf>,
    /// Build this repository's starter as a submission is built, keep its target folder in DIR for --build-cache, and exit.
    #[arg(long, value_name = "DIR")]
    pub prepare_build_cache: Option<PathBuf>,
    /// Checks run at once [default: twice the number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Run every check N times; a check passes only if it passes every time.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Show full details of failures and a command to reproduce each.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Grade again every time a file under starter/ (or the --bin-dir folder) is saved: only the labs whose files changed, or the labs named. Ctrl-C stops.
    #[arg(long, conflicts_with_all = ["list", "format", "output", "repeat", "verbose", "update_handouts", "batch", "export_template", "export_gradescope", "peer_path"])]
    pub watch: bool,
    /// One round of --watch: the table and the first failure in full.
    #[arg(long, hide = true)]
    pub watch_round: bool,
    /// Print a folder that holds the grader's own programs (probes, and `ipc-grader` for `--peer`), for the PATH of commands reproduced by hand, and exit.
    #[arg(long)]
    pub peer_path: bool,
    /// List the checks with their points and time limits, and exit.
    #[arg(long)]
    pub list: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report (of --format) to FILE; the human report still goes to stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Read the rubric from DIR (one LAB.toml per lab) instead of the built-in one.
    #[arg(long, value_name = "DIR")]
    pub rubric: Option<PathBuf>,
    /// Rewrite the "Checks and points" tables of the handouts from the rubric, and exit.
    #[arg(long)]
    pub update_handouts: bool,
    /// Batch grading: grade every student checkout in DIR (one folder each) into --out.
    #[arg(long, value_name = "DIR", requires = "out")]
    pub batch: Option<PathBuf>,
    /// Where batch grading writes grades.csv, index.html, feedback/ and results/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Batch grading: grade again the submissions already graded in --out.
    #[arg(long)]
    pub force: bool,
    /// Write the student template (no reference, hidden checks left out) to DIR, and exit.
    #[arg(long, value_name = "DIR")]
    pub export_template: Option<PathBuf>,
    /// With --export-template: how much guidance the template's starter comments and hints give [default: ladder].
    #[arg(long, value_enum, value_name = "GUIDANCE", requires = "export_template")]
    pub guidance: Option<crate::guidance::Guidance>,
    /// Show the next hint for PROGRAM (`pipe-message`) or the program of CHECK (`pipe::message-default`), one rung at a time, and how many are left; recorded in .hints-shown.toml (self-reported: it changes no grade).
    #[arg(long, value_name = "PROGRAM|CHECK")]
    pub hint: Option<String>,
    /// With --hint: show every rung of the ladder.
    #[arg(long, requires = "hint")]
    pub all: bool,
    /// Write Gradescope's autograder (setup.sh, run_autograder, the grader with hidden checks) to FILE.zip, and exit.
    #[arg(long, value_name = "FILE.zip")]
    pub export_gradescope: Option<PathBuf>,
    /// Print Gradescope's results.json with every check at 0 and REASON, and exit (used by run_autograder).
    #[arg(long, value_name = "REASON", hide = true)]
    pub gradescope_zero: Option<String>,
    /// Stop a build that takes longer than this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    pub build_time_limit: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    /// Your code (the `starter` crate).
    Starter,
    /// The instructor's solution (the `reference` crate).
    Reference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Human,
    /// The grader's own JSON (stable: the names follow Gradescope's).
    Json,
    /// Gradescope's results.json.
    Gradescope,
    /// GitHub Actions: step summary, annotations, and the GitHub Classroom result.
    Github,
    /// A submission's record, for the batch grading that started this one.
    #[value(hide = true)]
    Batch,
}

/// Entry point of the `ipc-grader` binary.
pub fn main() -> ExitCode {
    // First, while this process has one thread: a grader that is not root
    // takes a user namespace of its own, where checks can have their own
    // IPC namespaces (sandbox::namespace).
    ipc_engine::sandbox::namespace::enter_own_user_namespace();
    // `cargo grade --peer NAME ARGS...`: a peer by hand, as `--verbose`
    // prints it in the commands that reproduce a failure. The peers
    // executable runs it.
    let argv: Vec<OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == "--peer") {
        return run_peer_by_hand(&argv[1..]);
    }
    let args = match Args::from_arg_matches(&command().get_matches()) {
        Ok(args) => args,
        Err(err) => err.exit(),
    };
    if args.watch {
        return match watch(&args) {
            Ok(code) => ExitCode::from(code),
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::from(ERROR)
            }
        };
    }
    // In a GitHub Actions log, nothing from here on is a workflow command
    // until the grader's own annotations: the build's messages and the
    // programs' output come first (see `workflow`).
    if args.format == Format::Github {
        crate::workflow::start();
    }
    // Ctrl-C stops every program under test too (they run in process
    // groups of their own, which the terminal's signal does not reach).
    // Before any thread starts.
    crate::interrupt::install(crate::interrupt::stop_cleanly);
    let graded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| grade(&args)));
    let code = match graded {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(err)) => {
            eprintln!("error: {err:#}");
            ExitCode::from(ERROR)
        }
        Err(panic) => {
            crate::workflow::end();
            std::panic::resume_unwind(panic)
        }
    };
    crate::workflow::end();
    code
}

/// `cargo grade --watch [LAB]...`: see [`crate::watch`].
/// `--peer NAME ARGS...`: becomes the peers executable with these
/// arguments (it runs the peer by hand, and refuses inside a check).
fn run_peer_by_hand(args: &[OsString]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let peers = match ipc_engine::peer::executable() {
        Ok(path) => path,
        Err(e) => {
            eprintln!("cargo grade --peer: cannot find the grader's own executable: {e}");
            return ExitCode::from(ERROR);
        }
    };
    let error = std::process::Command::new(&peers).arg0(ipc_engine::peer::GRADER).args(args).exec();
    eprintln!("cargo grade --peer: cannot run {}: {error} (build it: cargo build -p ipc-grader)", peers.display());
    ExitCode::from(ERROR)
}

fn watch(args: &Args) -> Result<u8> {
    let rubric = match &args.rubric {
        Some(dir) => Rubric::load(dir, LABS)?,
        None => Rubric::builtin(LABS)?,
    };
    rubric.validate(LABS)?;
    select(&rubric, &args.filters)?;
    let mut round_args: Vec<OsString> = Vec::new();
    let (dir, kind) = match &args.bin_dir {
        Some(dir) => {
            let dir = dir.canonicalize().with_context(|| format!("--bin-dir {}: no such folder", dir.display()))?;
            round_args.extend(["--bin-dir".into(), dir.clone().into_os_string()]);
            (dir, crate::watch::Watched::BinDir)
        }
        None => {
            if args.target == TargetArg::Reference {
                round_args.extend(["--target".into(), "reference".into()]);
                (build::workspace_root().join("reference"), crate::watch::Watched::Starter)
            } else {
                (build::workspace_root().join("starter"), crate::watch::Watched::Starter)
            }
        }
    };
    if let Some(jobs) = args.jobs {
        round_args.extend(["--jobs".into(), jobs.to_string().into()]);
    }
    if let Some(rubric) = &args.rubric {
        round_args.extend(["--rubric".into(), rubric.clone().into_os_string()]);
    }
    round_args.extend(["--build-time-limit".into(), args.build_time_limit.to_string().into()]);
    let program = std::env::current_exe().context("cannot find the grader's own executable")?;
    crate::watch::run(&crate::watch::Watch { dir, kind, filters: args.filters.clone(), program, round_args })
}

/// The command line; in a student template, without the options for what
/// only the instructor's repository has (the reference, batch grading,
/// exports), so that `--help` mentions only what exists.
fn command() -> clap::Command {
    let mut cmd = Args::command();
    if crate::tamper::is_template() {
        for id in [
            "target",
            "batch",
            "out",
            "force",
            "submission",
            "build_cache",
            "prepare_build_cache",
            "export_template",
            "export_gradescope",
            "guidance",
        ] {
            cmd = cmd.mut_arg(id, |a| a.hide(true));
        }
    }
    cmd
}

/// Twice the CPUs (most checks wait more than they compute), 2 to 16.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map(|n| n.get() * 2).unwrap_or(4).clamp(2, 16)
}

/// Selects the checks that `filters` name (all if none).
pub fn select(rubric: &Rubric, filters: &[String]) -> Result<Vec<Selected>> {
    let mut all = Vec::new();
    for lab in LABS {
        let lab_rubric = &rubric.labs[lab.name];
        let diagnoses: std::sync::Arc<[crate::rubric::Diagnosis]> = lab_rubric.diagnoses.clone().into();
        for (check, hidden) in lab.all_checks() {
            let entry = rubric.entry(lab.name, check.name).expect("validated").clone();
            let handout = lab_rubric.handout.clone();
            all.push(Selected {
                lab: lab.name,
                check,
                entry,
                handout,
                hidden,
                diagnoses: diagnoses.clone(),
                requires: Vec::new(),
            });
        }
    }
    grading::link_requirements(&mut all);
    if filters.is_empty() {
        return Ok(all);
    }
    for f in filters {
        let known = all.iter().any(|s| s.lab == f || s.full_name() == *f);
        if !known {
            let labs: Vec<&str> = LABS.iter().filter(|l| !(l.checks)().is_empty()).map(|l| l.name).collect();
            bail!("`{f}` names no lab or check (labs: {}; `cargo grade --list` shows every check)", labs.join(", "));
        }
    }
    Ok(all.into_iter().filter(|s| filters.iter().any(|f| s.lab == f || s.full_name() == *f)).collect())
}

fn grade(args: &Args) -> Result<u8> {
    let rubric = match &args.rubric {
        Some(dir) => Rubric::load(dir, LABS)?,
        None => Rubric::builtin(LABS)?,
    };
    rubric.validate(LABS)?;
    if args.peer_path {
        let dir = ipc_engine::peer::by_hand_dir(&ipc_engine::peer::by_hand_names(&ipc_peers::all()))
            .context("cannot make the folder of the grader's own programs")?;
        println!("{}", dir.display());
        return Ok(PASSED);
    }
    if let Some(name) = &args.hint {
        return crate::hints::command(&build::workspace_root(), &rubric, name, args.all, &mut std::io::stdout());
    }
    if args.update_handouts {
        let stale = crate::handouts::sync(&build::workspace_root(), &rubric, true)?;
        match stale.is_empty() {
            true => println!("The handouts' tables were already current."),
            false => println!("Updated: {}", stale.join(", ")),
        }
        return Ok(PASSED);
    }
    if let Some(dir) = &args.prepare_build_cache {
        let limit = Duration::from_secs(args.build_time_limit);
        crate::submission::prepare_cache(&build::workspace_root(), dir, limit)?;
        println!(
            "Wrote the build cache to {} (give --build-cache {} with --submission or --batch).",
            dir.join("target").display(),
            dir.display()
        );
        return Ok(PASSED);
    }
    if let Some(reason) = &args.gradescope_zero {
        let selected = select(&rubric, &[])?;
        let fail = Fail::new(reason.clone()).kind(Kind::Missing);
        let outcomes: Vec<Outcome> = selected.iter().map(|s| Outcome::not_run(s, fail.clone(), reason)).collect();
        println!("{}", formats::gradescope("your submission", &outcomes, Duration::ZERO, std::slice::from_ref(reason)));
        return Ok(PASSED);
    }
    if let Some(zip) = &args.export_gradescope {
        let root = build::workspace_root();
        let rubric_dir = args.rubric.clone().unwrap_or_else(|| root.join("rubric"));
        let selected = select(&rubric, &args.filters)?;
        crate::gradescope::export(&root, &rubric_dir, zip, &args.filters)?;
        let total: u32 = selected.iter().map(|s| s.entry.points).sum();
        println!(
            "Wrote Gradescope's autograder to {} ({} checks, {total} points: give the assignment {total} points; its README.md says how to set it up).",
            zip.display(),
            selected.len()
        );
        return Ok(PASSED);
    }
    if let Some(dest) = &args.export_template {
        let root = build::workspace_root();
        let rubric_dir = args.rubric.clone().unwrap_or_else(|| root.join("rubric"));
        let guidance = args.guidance.unwrap_or_default();
        let hidden = crate::export::export_with(&root, &rubric_dir, dest, &rubric, guidance)?;
        println!("Wrote the student template to {} (guidance: {}).", dest.display(), guidance.describe());
        if !hidden.is_empty() {
            println!("Hidden checks left out (they run in batch grading): {}", hidden.join(", "));
        }
        println!(
            "Next: cd {} && git init && git add -A && git commit -m template, then push it and mark it a template repository.",
            dest.display()
        );
        return Ok(PASSED);
    }
    let selected = select(&rubric, &args.filters)?;
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    if args.list {
        list(&selected)?;
        let jobs_list: Vec<Job> = selected.iter().map(Selected::job).collect();
        let worst = runner::worst_case(&jobs_list, jobs, args.repeat);
        println!(
            "If every program hung, grading these would take at most {:.0}s with --jobs {jobs}.",
            worst.as_secs_f64()
        );
        return Ok(PASSED);
    }

    if let Some(submissions) = &args.batch {
        let out = args.out.clone().expect("clap requires --out");
        let batch = crate::batch::Batch {
            submissions: submissions.clone(),
            out: out.clone(),
            build_cache: args.build_cache.clone(),
            filters: args.filters.clone(),
            selected,
            rubric: &rubric,
            rubric_dir: args.rubric.clone(),
            jobs,
            build_time_limit: Duration::from_secs(args.build_time_limit),
            force: args.force,
        };
        let written = crate::batch::run(&batch)?;
        println!(
            "Gradebook: {}\nFeedback:  {}\nOverview:  {} (open it in a browser)",
            written.gradebook.display(),
            out.join("feedback").display(),
            written.overview.display()
        );
        return Ok(PASSED);
    }
    let started = Instant::now();
    let mut notes = Vec::new();
    // A submission's build, kept until its programs have been graded.
    let mut work = None;
    let programs = match &args.bin_dir {
        None if args.submission.is_some() => {
            let submission = args.submission.as_deref().expect("matched above");
            let Some(starter) = crate::submission::find_starter(submission) else {
                let fail = Fail::new("no starter/ folder with a Cargo.toml").kind(Kind::Missing).note(
                    "it is looked for at the top of the submission and one folder down: submit your whole repository, \
                     with starter/ as it came in the template",
                );
                return not_graded(args, &selected, fail, started, &notes);
            };
            // Removed without recursion: a build script may leave anything.
            let dir = ipc_engine::remove::CheckFolder::named("ipc-grader-build-").context("a folder to build in")?;
            let built = {
                let build_in = ipc_engine::sandbox::build::Work { root: dir.path().to_owned() };
                let taken = crate::submission::take(&build::workspace_root(), &starter, &build_in)?;
                notes.extend(taken.note());
                if let Some(cache) = &args.build_cache {
                    crate::submission::seed(&cache.join("target"), &build_in)?;
                }
                let limit = Duration::from_secs(args.build_time_limit);
                let needed = crate::grading::programs_needed(&selected);
                crate::submission::build(&build_in, limit, needed.as_deref())
            };
            work = Some(dir);
            match built {
                Ok(built) => built.programs,
                Err(BuildError::Compile { messages, .. }) => {
                    return does_not_compile(args, &selected, "ipc-starter", &messages, started, &notes);
                }
                Err(BuildError::Cargo(why)) => {
                    return does_not_compile(args, &selected, "ipc-starter", &why, started, &notes);
                }
            }
        }
        Some(dir) => {
            if !dir.is_dir() {
                bail!(
                    "--bin-dir {}: no such folder (give the folder that holds pipe-message, pipeline, ...)",
                    dir.display()
                );
            }
            Programs::from_dir(&dir.canonicalize().with_context(|| format!("--bin-dir {}", dir.display()))?)
        }
        None => {
            let krate = match args.target {
                TargetArg::Starter => Crate::Starter,
                TargetArg::Reference => Crate::Reference,
            };
            let root = build::workspace_root();
            let limit = Duration::from_secs(args.build_time_limit);
            let built = match crate::grading::programs_needed(&selected) {
                Some(programs) => build::build_programs(krate, &root, None, limit, &programs),
                None => build::build(krate, &root, None, limit),
            };
            match built {
                Ok(built) => {
                    if built.warnings > 0 && krate == Crate::Starter {
                        eprintln!(
                            "({} compiler warnings: `cargo build -p {}` shows them)",
                            built.warnings,
                            krate.package()
                        );
                    }
                    for (name, error) in built.programs.failed() {
                        eprintln!("`{name}` does not compile:\n{error}");
                    }
                    built.programs
                }
                Err(BuildError::Compile { package, messages }) => {
                    return does_not_compile(args, &selected, &package, &messages, started, &notes);
                }
                // A build that could not run or ran out of time still gives
                // every report (0 points, the reason), so that Classroom and
                // Gradescope get a result on every road.
                Err(BuildError::Cargo(why)) => {
                    return does_not_compile(args, &selected, krate.package(), &why, started, &notes);
                }
            }
        }
    };

    let options = Options { jobs, repeat: args.repeat };
    let total = selected.len();
    let show_progress = args.format == Format::Human && std::io::stderr().is_terminal() && args.output.is_none();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = |_: &Outcome| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if show_progress {
            eprint!("\rgrading: {n}/{total} checks done");
            if n == total {
                eprint!("\r\x1b[2K");
            }
        }
    };
    let outcomes = grading::run(&selected, &programs, &options, &progress);
    drop(work);
    let elapsed = started.elapsed();
    notes.extend(build_notes(&programs));
    let failed: Vec<String> = programs
        .failed()
        .map(|(name, error)| {
            let first = error.lines().find(|l| !l.trim().is_empty()).unwrap_or("does not compile");
            format!("{name} ({})", ipc_engine::text::one_line(first, 120))
        })
        .collect();
    let error = (!failed.is_empty()).then(|| format!("did not compile: {}", failed.join("; ")));
    let compile_errors =
        programs.failed().map(|(name, error)| crate::batch::CompileError::new(Some(name.clone()), error)).collect();
    let record = crate::batch::Record::new(&selected, &outcomes, error, compile_errors);
    write_reports(args, &programs.origin, &outcomes, elapsed, &rubric, &notes, record)?;
    // A program that did not compile is an error of the code (exit 2), even
    // though everything else was graded; for a submission, that is a
    // failure it was graded for (exit 1).
    if outcomes.iter().any(|o| o.fail.as_ref().is_some_and(Fail::is_infrastructure)) {
        return Ok(ERROR);
    }
    if programs.failed().next().is_some() {
        return Ok(if args.submission.is_some() { FAILED } else { ERROR });
    }
    Ok(if outcomes.iter().all(Outcome::passed) { PASSED } else { FAILED })
}

/// Notes on programs that did not compile (they cost only their own checks).
fn build_notes(programs: &Programs) -> Vec<String> {
    programs
        .failed()
        .map(|(name, error)| {
            let first = error.lines().find(|l| !l.trim().is_empty()).unwrap_or("does not compile");
            let at = error.lines().find_map(|l| l.trim_start().strip_prefix("--> ")).unwrap_or("");
            let at = if at.is_empty() { String::new() } else { format!(" at {at}") };
            format!(
                "`{name}` did not compile: {}{at}. Its checks score 0; every other program was graded.",
                ipc_engine::text::one_line(first, 200)
            )
        })
        .collect()
}

fn write_reports(
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

fn does_not_compile(
    args: &Args,
    selected: &[Selected],
    package: &str,
    messages: &str,
    started: Instant,
    notes: &[String],
) -> Result<u8> {
    eprintln!("{messages}");
    // The first error only: every check carries it, and a report must stay small.
    let first: String = match messages.lines().position(|l| l.starts_with("error")) {
        Some(at) => messages.lines().skip(at).take_while(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n"),
        None => messages.to_string(),
    };
    let fail = Fail::new(format!("the crate `{package}` could not be built, so no program could run"))
        .kind(Kind::Missing)
        .got(ipc_engine::text::cut(&ipc_engine::text::escape(first.as_bytes(), false), 2000))
        .note(format!("fix the first error above (`cargo build -p {package}` shows them all), then grade again"));
    not_graded(args, selected, fail, started, notes)
}

/// Every check scores 0 with `fail` (the code did not build, a submission
/// has no starter/): every report is still written, with the reason.
fn not_graded(args: &Args, selected: &[Selected], fail: Fail, started: Instant, notes: &[String]) -> Result<u8> {
    let outcomes: Vec<Outcome> =
        selected.iter().map(|s| Outcome::not_run(s, fail.clone(), "make the code build first")).collect();
    match args.format {
        Format::Human => {
            let total: u32 = selected.iter().map(|s| s.entry.points).sum();
            let mut out = anstream::stdout();
            for note in notes {
                writeln!(out, "NOTE: {note}")?;
            }
            writeln!(out, "Your code could not be graded: {}", fail.what)?;
            writeln!(out, "Score: 0/{total}")?;
        }
        _ => {
            let why = match &fail.got {
                Some(got) => format!("{}: {}", fail.what, ipc_engine::text::one_line(got, 200)),
                None => fail.what.clone(),
            };
            let compile_errors = fail.got.iter().map(|got| crate::batch::CompileError::new(None, got)).collect();
            let record = crate::batch::Record::new(selected, &[], Some(why), compile_errors);
            let rubric = Rubric { labs: Default::default() };
            write_reports(args, "your code", &outcomes, started.elapsed(), &rubric, notes, record)?
        }
    }
    // A submission that does not build was graded (0 points): exit 1.
    Ok(if args.submission.is_some() { FAILED } else { ERROR })
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
