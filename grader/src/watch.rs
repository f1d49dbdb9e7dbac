//! `cargo grade --watch [LAB]`: grades again every time a file is saved,
//! as rustlings' watch mode runs an exercise again.
//!
//! - What is watched: `starter/` (recursively), or the `--bin-dir` folder.
//!   inotify through `notify`, debounced by `notify-debouncer-full`: a
//!   burst of events (an editor's save writes, renames and touches) gives
//!   one round, [`DEBOUNCE`] after the last event. Only events that change
//!   a file count ([`is_a_change`]): running or reading a file is no save
//!   (a round runs the programs of a watched `--bin-dir`).
//! - What is graded: the labs whose files changed (`starter/src/LAB/...`,
//!   or a program of LAB in the bin folder); a change to a file of no lab
//!   (`starter/Cargo.toml`) regrades them all. With LAB (or checks) named,
//!   only those, when their lab's files or shared files change.
//! - Each round is the grader itself, run again as a child process with
//!   `--watch-round`: the screen is cleared, the build and progress show
//!   as they happen, then the table and the first failure in full.
//! - A save while a round runs stops that round (SIGTERM: the round kills
//!   every program it started, see [`crate::interrupt`]) and starts anew.
//! - Ctrl-C stops the round the same way, then whatever it left (the
//!   watcher is a child subreaper: orphans come back to it), and exits 0.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{Signal, killpg};
use notify_debouncer_full::notify::event::{AccessKind, AccessMode, EventKind};
use notify_debouncer_full::notify::{Event as FileEvent, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};

use ipc_engine::proc::{self, Input, Proc, Spec};

use crate::labs::LABS;

/// Quiet time after the last file event before a round starts.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// How long a stopped round gets to clean up before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What a watch session watches and how it grades.
#[derive(Debug, Clone)]
pub struct Watch {
    /// The folder watched.
    pub dir: PathBuf,
    pub kind: Watched,
    /// Labs or checks named on the command line; none: every lab.
    pub filters: Vec<String>,
    /// The grader to run for each round, and its arguments other than the
    /// labs (`--bin-dir DIR`, `--jobs N`, ...).
    pub program: PathBuf,
    pub round_args: Vec<OsString>,
}

/// The kind of folder watched, which decides how a file maps to a lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// The starter crate: `src/LAB/...` belongs to LAB.
    Starter,
    /// A folder of executables: `PROGRAM` belongs to its lab.
    BinDir,
}

/// What the main loop waits for.
enum Event {
    Changed(Vec<PathBuf>),
    WatchFailed(String),
    Stop(Signal),
}

/// Whether a file event changes the file: written, created, removed,
/// renamed, its metadata changed (`chmod +x`). Opening, reading or running
/// it is not a change.
pub fn is_a_change(event: &FileEvent) -> bool {
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Other => false,
        EventKind::Any | EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
    }
}

/// Which labs a set of changed files asks to grade again.
#[derive(Debug, PartialEq, Eq)]
pub enum Changed {
    Nothing,
    /// These labs' own files.
    Labs(BTreeSet<&'static str>),
    /// A file shared by every lab (`Cargo.toml`): all of them.
    Everything,
}

/// Which labs the files `paths` (under `dir`) belong to. Files no build
/// reads are ignored: editors' swap files and backups (`.x.swp`, `x~`),
/// and in the starter anything but `.rs` files and `Cargo.toml`.
pub fn changed(kind: Watched, dir: &Path, paths: &[PathBuf]) -> Changed {
    let mut labs = BTreeSet::new();
    for path in paths {
        let Ok(relative) = path.strip_prefix(dir) else { continue };
        let Some(file) = relative.file_name().and_then(|f| f.to_str()) else { continue };
        if file.starts_with('.') || file.ends_with('~') {
            continue;
        }
        match kind {
            Watched::Starter => {
                if !(file.ends_with(".rs") || file == "Cargo.toml") {
                    continue;
                }
                let parts: Vec<&str> = relative
                    .components()
                    .filter_map(|c| match c {
                        Component::Normal(p) => p.to_str(),
                        _ => None,
                    })
                    .collect();
                if parts.first() == Some(&"target") {
                    continue;
                }
                match parts.as_slice() {
                    ["src", lab, _, ..] => match LABS.iter().find(|l| l.name == *lab) {
                        Some(lab) => {
                            labs.insert(lab.name);
                        }
                        None => return Changed::Everything,
                    },
                    _ => return Changed::Everything,
                }
            }
            Watched::BinDir => {
                if let Some(lab) = LABS.iter().find(|l| l.programs.contains(&file)) {
                    labs.insert(lab.name);
                }
            }
        }
    }
    if labs.is_empty() { Changed::Nothing } else { Changed::Labs(labs) }
}

/// The filters of the round that `change` starts: the named labs or checks
/// whose lab changed, or the changed labs when none was named. Empty:
/// nothing to grade.
pub fn round_filters(named: &[String], change: &Changed) -> Vec<String> {
    let lab_of = |f: &str| f.split("::").next().unwrap_or(f).to_string();
    match (named.is_empty(), change) {
        (_, Changed::Nothing) => Vec::new(),
        (true, Changed::Everything) => LABS.iter().map(|l| l.name.to_string()).collect(),
        (true, Changed::Labs(labs)) => labs.iter().map(|l| l.to_string()).collect(),
        (false, Changed::Everything) => named.to_vec(),
        (false, Changed::Labs(labs)) => named.iter().filter(|f| labs.contains(lab_of(f).as_str())).cloned().collect(),
    }
}

/// One grading round: the grader as a child process.
struct Round {
    proc: Proc,
    started: Instant,
}

/// Runs the watch session until Ctrl-C (or SIGTERM, SIGHUP); returns the
/// exit status (0: stopped as asked).
pub fn run(watch: &Watch) -> Result<u8> {
    let (tx, rx) = mpsc::channel::<Event>();
    // Before any thread starts (the debouncer's, the reaper's).
    let stop = tx.clone();
    crate::interrupt::install(move |sig| {
        let _ = stop.send(Event::Stop(sig));
    });
    let changes = tx.clone();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        let _ = match result {
            Ok(events) => {
                let paths: Vec<PathBuf> =
                    events.iter().filter(|e| is_a_change(e)).flat_map(|e| e.paths.iter().cloned()).collect();
                if paths.is_empty() { Ok(()) } else { changes.send(Event::Changed(paths)) }
            }
            Err(errors) => {
                let why: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                changes.send(Event::WatchFailed(why.join("; ")))
            }
        };
    })
    .context("cannot start watching files")?;
    let mode = match watch.kind {
        Watched::Starter => RecursiveMode::Recursive,
        Watched::BinDir => RecursiveMode::NonRecursive,
    };
    debouncer.watch(&watch.dir, mode).with_context(|| format!("cannot watch {} for changes", watch.dir.display()))?;

    let first = if watch.filters.is_empty() {
        LABS.iter().map(|l| l.name.to_string()).collect()
    } else {
        watch.filters.clone()
    };
    let mut round = Some(start_round(watch, &first, "first round")?);
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Event::Changed(paths)) => {
                let filters = round_filters(&watch.filters, &changed(watch.kind, &watch.dir, &paths));
                if filters.is_empty() {
                    continue;
                }
                if let Some(running) = round.take() {
                    stop_round(running);
                }
                let saved: Vec<String> = paths
                    .iter()
                    .filter_map(|p| p.strip_prefix(&watch.dir).ok())
                    .map(|p| p.display().to_string())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                round = Some(start_round(watch, &filters, &format!("saved: {}", saved.join(", ")))?);
            }
            Ok(Event::WatchFailed(why)) => {
                eprintln!("cargo grade --watch: watching files failed: {why}");
            }
            Ok(Event::Stop(sig)) => {
                if let Some(running) = round.take() {
                    stop_round(running);
                }
                proc::kill_descendants();
                drop(debouncer);
                println!("\nStopped watching ({sig}); nothing is left running.");
                return Ok(0);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(0),
        }
        if let Some(running) = round.as_mut() {
            if running.proc.try_exit().is_some() {
                let running = round.take().expect("a round");
                end_round(watch, running)?;
            }
        }
    }
}

/// Clears the screen and starts a round grading `filters`.
fn start_round(watch: &Watch, filters: &[String], why: &str) -> Result<Round> {
    let mut out = std::io::stdout().lock();
    if out.is_terminal() {
        // Home, clear the screen, clear the scrollback.
        write!(out, "\x1b[H\x1b[2J\x1b[3J")?;
    }
    writeln!(out, "cargo grade --watch: grading {} ({why})", filters.join(" "))?;
    out.flush()?;
    let mut args = watch.round_args.clone();
    args.push("--watch-round".into());
    args.extend(filters.iter().map(OsString::from));
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let mut spec = Spec::new(&watch.program, args, cwd);
    // (The round inherits this environment; colour is asked for, as its
    // stdout is a pipe to this process.)
    if std::io::stdout().is_terminal() {
        spec.env.push(("CLICOLOR_FORCE".into(), "1".into()));
    }
    spec.stdin = Input::Null;
    spec.inherit_stderr = true;
    let proc = proc::spawn(&spec).context("cannot start a grading round")?;
    Ok(Round { proc, started: Instant::now() })
}

/// Shows what a finished round printed, and that the watch goes on.
fn end_round(watch: &Watch, round: Round) -> Result<()> {
    round.proc.stdout.wait_eof(Instant::now() + Duration::from_secs(2));
    let mut out = std::io::stdout().lock();
    out.write_all(&round.proc.stdout.bytes())?;
    let what = match watch.kind {
        Watched::Starter => "starter/",
        Watched::BinDir => "the folder",
    };
    writeln!(
        out,
        "\n(graded in {:.1}s) Watching {what} {} for changes: save a file to grade again, Ctrl-C to stop.",
        round.started.elapsed().as_secs_f64(),
        watch.dir.display()
    )?;
    out.flush()?;
    Ok(())
}

/// Stops a round that still runs: SIGTERM, which makes the grader kill
/// everything it started and exit; SIGKILL after [`STOP_GRACE`].
fn stop_round(mut round: Round) {
    if round.proc.try_exit().is_none() {
        let _ = round.proc.signal(Signal::SIGTERM);
        if round.proc.wait_timeout(STOP_GRACE).is_none() {
            round.proc.kill_group();
            let _ = killpg(round.proc.pid(), Signal::SIGKILL);
        }
    }
    // Whatever the round left: its orphans are this process's children now.
    proc::kill_descendants();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
        names.iter().map(|n| dir.join(n)).collect()
    }

    /// A save in a lab's folder regrades that lab; editors' swap files and
    /// backups, and files no build reads, regrade nothing.
    #[test]
    fn a_lab_file_regrades_its_lab_only() {
        let dir = Path::new("/r/starter");
        let change =
            changed(Watched::Starter, dir, &paths(dir, &["src/pipe/pipeline.rs", "src/pipe/.pipeline.rs.swp"]));
        assert_eq!(change, Changed::Labs(BTreeSet::from(["pipe"])));
        assert_eq!(round_filters(&[], &change), ["pipe"]);
        let ignored = ["src/mq/mq-send.rs~", "src/mq/4913", "notes.txt", "target/debug/x.rs"];
        assert_eq!(changed(Watched::Starter, dir, &paths(dir, &ignored)), Changed::Nothing);
    }

    /// Cargo.toml belongs to every lab.
    #[test]
    fn a_shared_file_regrades_everything() {
        let dir = Path::new("/r/starter");
        let change = changed(Watched::Starter, dir, &paths(dir, &["Cargo.toml"]));
        assert_eq!(change, Changed::Everything);
        assert_eq!(round_filters(&[], &change).len(), LABS.len());
        assert_eq!(round_filters(&["mq".into()], &change), ["mq"]);
    }

    /// With a lab named, only changes to its files (or shared ones) regrade it.
    #[test]
    fn a_named_lab_ignores_other_labs() {
        let dir = Path::new("/r/starter");
        let named = vec!["pipe::pipeline-seq-wc".to_string()];
        let mq = changed(Watched::Starter, dir, &paths(dir, &["src/mq/mq-recv.rs"]));
        assert!(round_filters(&named, &mq).is_empty());
        let pipe = changed(Watched::Starter, dir, &paths(dir, &["src/pipe/mod.rs"]));
        assert_eq!(round_filters(&named, &pipe), named);
    }

    /// Opening or running a file is no change; writing and renaming are.
    #[test]
    fn only_changes_count() {
        use notify_debouncer_full::notify::event::{CreateKind, ModifyKind, RenameMode};
        let event = |kind| FileEvent::new(kind).add_path("/b/pipeline".into());
        assert!(!is_a_change(&event(EventKind::Access(AccessKind::Open(AccessMode::Execute)))));
        assert!(!is_a_change(&event(EventKind::Access(AccessKind::Close(AccessMode::Read)))));
        assert!(is_a_change(&event(EventKind::Access(AccessKind::Close(AccessMode::Write)))));
        assert!(is_a_change(&event(EventKind::Modify(ModifyKind::Name(RenameMode::To)))));
        assert!(is_a_change(&event(EventKind::Create(CreateKind::File))));
    }

    /// In a folder of executables, a program's name gives its lab.
    #[test]
    fn a_program_in_a_bin_dir_regrades_its_lab() {
        let dir = Path::new("/b");
        let change = changed(Watched::BinDir, dir, &paths(dir, &["mq-recv", "pipeline.o", "Makefile"]));
        assert_eq!(change, Changed::Labs(BTreeSet::from(["mq"])));
    }
}
