//! The command line: `cargo grade [OPTIONS] [LAB | LAB::CHECK]...`.
//!
//! This file reads the arguments and picks the mode; each mode has a file
//! in `cli/`: `grade.rs` (build and grade: the default) and `reports.rs`
//! (its reports), `exports.rs` (what is written once: the handouts'
//! tables, the build cache, the student template, Gradescope's
//! autograder), `list.rs`, `watch.rs`, and `peer.rs` (the grader's own
//! programs by hand). Batch grading is `crate::batch`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};

use crate::grading::Selected;
use crate::labs::LABS;
use crate::rubric::Rubric;

mod exports;
mod grade;
mod list;
mod peer;
mod reports;
mod watch;

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
    /// Checks run at once [default: twice the CPUs this grader may use (its affinity and cgroup quota), 1 to 16].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Run every check N times; a check passes only if it passes every time.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Run again alone, after the other checks, up to N times, a check that failed in a way a crowded machine can cause (a time limit, a CPU share) while the grader measured the machine overloaded; a failure that repeats alone stands (0: never). IPC_GRADER_PRETEND_OVERLOADED=1 (or 0) pretends the machine is (or is not) overloaded.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=5))]
    pub reruns: u32,
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
        return peer::run_by_hand(&argv[1..]);
    }
    let args = match Args::from_arg_matches(&command().get_matches()) {
        Ok(args) => args,
        Err(err) => err.exit(),
    };
    if args.watch {
        return match watch::run(&args) {
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
    let graded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&args)));
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

/// Twice the CPUs this process may use (most checks wait more than they
/// compute): its affinity mask and its cgroup's CPU quota, not the
/// machine's CPUs; rounded up, 1 to 16. One CPU: 2 checks at once; half a
/// CPU: 1.
fn default_jobs() -> usize {
    let cpus = ipc_engine::load::usable_cpus().usable();
    ((cpus * 2.0).ceil() as usize).clamp(1, 16)
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
    crate::grading::link_requirements(&mut all);
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

/// The rubric: `--rubric DIR`'s, or the one built in; checked against the
/// checks.
fn load_rubric(args: &Args) -> Result<Rubric> {
    let rubric = match &args.rubric {
        Some(dir) => Rubric::load(dir, LABS)?,
        None => Rubric::builtin(LABS)?,
    };
    rubric.validate(LABS)?;
    Ok(rubric)
}

/// Runs the mode the arguments ask for (all but `--watch` and `--peer`).
fn run(args: &Args) -> Result<u8> {
    let rubric = load_rubric(args)?;
    if args.peer_path {
        return peer::print_path();
    }
    if let Some(name) = &args.hint {
        return crate::hints::command(
            &ipc_engine::build::workspace_root(),
            &rubric,
            name,
            args.all,
            &mut std::io::stdout(),
        );
    }
    if let Some(code) = exports::run(args, &rubric)? {
        return Ok(code);
    }
    let selected = select(&rubric, &args.filters)?;
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    if args.list {
        return list::run(&selected, jobs, args.repeat);
    }
    if let Some(submissions) = &args.batch {
        return batch(args, submissions, selected, &rubric, jobs);
    }
    grade::run(args, &rubric, selected, jobs)
}

/// `--batch DIR --out OUT`: see [`crate::batch`].
fn batch(args: &Args, submissions: &Path, selected: Vec<Selected>, rubric: &Rubric, jobs: usize) -> Result<u8> {
    let out = args.out.clone().expect("clap requires --out");
    let batch = crate::batch::Batch {
        submissions: submissions.to_owned(),
        out: out.clone(),
        build_cache: args.build_cache.clone(),
        filters: args.filters.clone(),
        selected,
        rubric,
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
    Ok(PASSED)
}
