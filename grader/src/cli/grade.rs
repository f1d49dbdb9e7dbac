//! Grading, the default mode: build the programs (this repository's crate,
//! a submission's starter in the sandbox, or take `--bin-dir`), run the
//! selected checks, write the reports, and say how it went in the exit
//! status.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::grading::{self, Outcome, Selected};
use crate::rubric::Rubric;
use ipc_engine::build::{self, BuildError, Crate, Programs};
use ipc_engine::check::{Fail, Kind};
use ipc_engine::runner::Options;

use super::reports::write_reports;
use super::{Args, ERROR, FAILED, Format, PASSED, TargetArg};

/// Builds the programs, grades `selected` and writes the reports.
pub(super) fn run(args: &Args, rubric: &Rubric, selected: Vec<Selected>, jobs: usize) -> Result<u8> {
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

    let options = Options { jobs, repeat: args.repeat, reruns: args.reruns };
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
    let (outcomes, machine) = grading::run(&selected, &programs, &options, &progress);
    drop(work);
    let elapsed = started.elapsed();
    notes.extend(build_notes(&programs));
    notes.push(grading::machine_note(&machine, &outcomes));
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
    write_reports(args, &programs.origin, &outcomes, elapsed, rubric, &notes, record)?;
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
