//! Running the selected checks: in parallel, each isolated, each bounded in
//! time, each followed by a leak check and a clean-up.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::build::Programs;
use crate::check::{Check, Fail};
use crate::ctx::Ctx;
use crate::leaks;
use crate::proc;
use crate::rubric::Entry;

/// How long past its time limit a check's processes live before the
/// watchdog kills them all (the check's own waits end at the limit).
const WATCHDOG_GRACE: Duration = Duration::from_millis(500);

/// How long processes left behind get to end by themselves before they count
/// as leaked (a `cat` reading end of file, a child being reaped).
const LEAK_GRACE: Duration = Duration::from_millis(300);

/// A check chosen to run, with its rubric entry.
#[derive(Clone)]
pub struct Selected {
    pub lab: &'static str,
    pub check: Check,
    pub entry: Entry,
    pub handout: String,
}

impl Selected {
    pub fn full_name(&self) -> String {
        format!("{}::{}", self.lab, self.check.name)
    }
}

/// The result of one check (over all its repetitions).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub lab: String,
    pub name: String,
    pub points: u32,
    pub max_points: u32,
    pub fail: Option<Fail>,
    /// Time of the slowest repetition.
    pub elapsed: Duration,
    /// Commands the check ran (of the failing repetition, if any).
    pub commands: Vec<String>,
    pub hint: String,
    /// `handouts/pipe.md#pipeline`, say.
    pub see: String,
    pub hidden: bool,
    pub repetitions: u32,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.fail.is_none()
    }

    pub fn full_name(&self) -> String {
        format!("{}::{}", self.lab, self.name)
    }
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub jobs: usize,
    pub repeat: u32,
}

/// Runs every selected check `repeat` times and returns one outcome per
/// check, in the order given. `progress` is called as each check finishes.
pub fn run(
    selected: &[Selected],
    programs: &Programs,
    options: &Options,
    progress: &(dyn Fn(&Outcome) + Sync),
) -> Vec<Outcome> {
    // Unique among graders on this machine (pid) and runs in this process.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run_id = format!("{:x}r{}{:02x}", std::process::id(), RUNS.fetch_add(1, Ordering::SeqCst), fastrand::u8(..));
    let watchdog = Watchdog::start();
    let results: Vec<Mutex<Option<Outcome>>> = selected.iter().map(|_| Mutex::new(None)).collect();
    let serial_no = AtomicUsize::new(0);

    let run_group = |indices: Vec<usize>, jobs: usize| {
        let next = AtomicUsize::new(0);
        let work: Vec<(usize, u32)> = indices.iter().flat_map(|&i| (0..options.repeat).map(move |r| (i, r))).collect();
        std::thread::scope(|scope| {
            for _ in 0..jobs.max(1).min(work.len().max(1)) {
                scope.spawn(|| {
                    loop {
                        let k = next.fetch_add(1, Ordering::SeqCst);
                        let Some(&(i, _rep)) = work.get(k) else { break };
                        let n = serial_no.fetch_add(1, Ordering::SeqCst);
                        let one = run_one(&selected[i], programs, &run_id, n, &watchdog);
                        let mut slot = results[i].lock().unwrap_or_else(|e| e.into_inner());
                        let merged = match slot.take() {
                            None => one,
                            Some(prev) => merge(prev, one),
                        };
                        if merged.repetitions == options.repeat {
                            progress(&merged);
                        }
                        *slot = Some(merged);
                    }
                });
            }
        });
    };

    let (exclusive, parallel): (Vec<usize>, Vec<usize>) =
        (0..selected.len()).partition(|&i| selected[i].check.exclusive);
    run_group(parallel, options.jobs);
    run_group(exclusive, 1);
    proc::kill_orphans();
    // An escapee that only the line above could kill may have created an
    // object under its check's prefix after that check's leak scan. Every
    // process of this run is gone now: remove what is left under the run's
    // prefix. (Queues can only be listed where /dev/mqueue is mounted.)
    leaks::remove_all(&format!("/ipcl.{run_id}."), &[]);
    crate::sysv::end_of_run(&run_id);
    results.into_iter().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()).expect("every check ran")).collect()
}

/// The longest grading of `selected` can take with `jobs` workers, if every
/// program hangs: each check ends at most one second after its time limit
/// (watchdog, leak check, clean-up); parallel checks are shared by the
/// workers (at most their sum / jobs + the longest), exclusive ones run one
/// after the other.
pub fn worst_case(selected: &[Selected], jobs: usize, repeat: u32) -> Duration {
    let cost = |s: &Selected| s.entry.time_limit + 1.0;
    let parallel: Vec<f64> = selected.iter().filter(|s| !s.check.exclusive).map(cost).collect();
    let exclusive: f64 = selected.iter().filter(|s| s.check.exclusive).map(cost).sum();
    let longest = parallel.iter().copied().fold(0.0, f64::max);
    let secs = parallel.iter().sum::<f64>() / jobs.max(1) as f64 + longest + exclusive;
    Duration::from_secs_f64(secs * f64::from(repeat))
}

fn merge(prev: Outcome, next: Outcome) -> Outcome {
    let repetitions = prev.repetitions + next.repetitions;
    let elapsed = prev.elapsed.max(next.elapsed);
    let mut kept = if prev.passed() { next } else { prev };
    kept.repetitions = repetitions;
    kept.elapsed = elapsed;
    kept
}

fn run_one(sel: &Selected, programs: &Programs, run_id: &str, n: usize, watchdog: &Watchdog) -> Outcome {
    let limit = sel.entry.time_limit();
    let started = Instant::now();
    let mut outcome = Outcome {
        lab: sel.lab.to_string(),
        name: sel.check.name.to_string(),
        points: 0,
        max_points: sel.entry.points,
        fail: None,
        elapsed: Duration::ZERO,
        commands: Vec::new(),
        hint: sel.entry.hint.trim().to_string(),
        see: match &sel.entry.section {
            Some(section) => format!("{}#{section}", sel.handout),
            None => sel.handout.clone(),
        },
        hidden: sel.entry.hidden,
        repetitions: 1,
    };
    let dir = match tempfile::Builder::new().prefix("ipc-grade-").tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            outcome.fail = Some(Fail::infra(format!("cannot make a temporary directory: {e}")));
            return outcome;
        }
    };
    let tag = format!("{run_id}:{n}");
    let prefix = format!("/ipcl.{run_id}.{n}.");
    let mut ctx = Ctx::new(dir.path().to_owned(), tag.clone(), prefix.clone(), programs, limit);
    watchdog.watch(&tag, started + limit + WATCHDOG_GRACE);
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| (sel.check.run)(&mut ctx))).unwrap_or_else(|panic| {
        Err(Fail::infra(format!("the check `{}` panicked: {}", sel.full_name(), panic_text(&panic))))
    });
    watchdog.unwatch(&tag);
    let elapsed = started.elapsed();

    let mut result = match result {
        Err(fail) if elapsed > limit && !fail.infrastructure => Err(Fail::new(format!(
            "time limit reached: the check allows {:.1}s",
            limit.as_secs_f64()
        ))
        .note(format!("what the check saw when it was stopped: {}", fail.what))
        .note("a program that waits forever often still holds a pipe's write end open, or waits for a child that never ends")),
        other => other,
    };

    // Leaks: processes first (they may still be creating IPC objects).
    let leaked = leaked_processes(&ctx);
    proc::sweep(&tag);
    let mut left = Vec::new();
    if !leaked.is_empty() {
        left.push(format!(
            "{} process(es) still running after the program ended: {}",
            leaked.len(),
            leaked.iter().map(|p| format!("{} ({})", p.pid, p.command)).collect::<Vec<_>>().join(", ")
        ));
    }
    left.extend(leaks::remove_all(&prefix, &ctx.ipc_names));
    left.extend(crate::sysv::after_check(&mut ctx));
    if !left.is_empty() {
        let what = format!("left behind: {}", left.join("; "));
        result = match result {
            Ok(()) => Err(Fail::new("the program left something behind that the contract does not allow")
                .note(what)
                .note("wait for every child you fork, and unlink every IPC object your program owns")),
            Err(fail) => Err(fail.note(what)),
        };
    }

    outcome.elapsed = elapsed;
    outcome.commands = std::mem::take(&mut ctx.log);
    match result {
        Ok(()) => outcome.points = sel.entry.points,
        Err(fail) => outcome.fail = Some(fail),
    }
    outcome
}

/// Live processes of the check other than the ones it started directly and
/// that are still running (with their process groups), after a short grace.
fn leaked_processes(ctx: &Ctx) -> Vec<proc::Tagged> {
    let still_running: Vec<i32> = ctx
        .spawned
        .iter()
        .filter(|pid| matches!(proc::state(**pid), Some(s) if s != 'Z'))
        .map(|p| p.as_raw())
        .collect();
    let find = || {
        proc::tagged(ctx.tag())
            .into_iter()
            .filter(|p| {
                let pgid = nix::unistd::getpgid(Some(p.pid)).map(|g| g.as_raw()).unwrap_or(-1);
                !still_running.contains(&p.pid.as_raw()) && !still_running.contains(&pgid)
            })
            .collect::<Vec<_>>()
    };
    let until = Instant::now() + LEAK_GRACE;
    loop {
        let found = find();
        if found.is_empty() || Instant::now() >= until {
            return found;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Kills every process of a check whose time ran out, even if the check's
/// own code is stuck (e.g. writing to a program that never reads).
struct Watchdog {
    watched: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl Watchdog {
    fn start() -> Watchdog {
        let watched: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
        let list = Arc::downgrade(&watched);
        std::thread::spawn(move || {
            while let Some(list) = list.upgrade() {
                let now = Instant::now();
                let expired: Vec<String> = {
                    let guard = list.lock().unwrap_or_else(|e| e.into_inner());
                    guard.iter().filter(|(_, at)| *at <= now).map(|(tag, _)| tag.clone()).collect()
                };
                drop(list);
                for tag in expired {
                    proc::sweep(&tag);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Watchdog { watched }
    }

    fn watch(&self, tag: &str, at: Instant) {
        self.watched.lock().unwrap_or_else(|e| e.into_inner()).push((tag.to_string(), at));
    }

    fn unwatch(&self, tag: &str) {
        self.watched.lock().unwrap_or_else(|e| e.into_inner()).retain(|(t, _)| t != tag);
    }
}
