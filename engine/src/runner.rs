//! Running the selected checks: in parallel, each isolated, each bounded in
//! time, each followed by a leak check and a clean-up.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::build::Programs;
use crate::check::{Check, Fail, Kind};
use crate::ctx::{CheckSandbox, Ctx};
use crate::leaks;
use crate::load::{self, Load};
use crate::proc::{self, Members};
use crate::sandbox::{self, identity, namespace};

mod rerun;
pub use rerun::Rerun;

/// How long past its time limit a check's processes live before the
/// watchdog kills them all (the check's own waits end at the limit).
const WATCHDOG_GRACE: Duration = Duration::from_millis(500);

/// How long processes left behind get to end by themselves before they count
/// as leaked (a `cat` reading end of file, a child being reaped).
const LEAK_GRACE: Duration = Duration::from_millis(300);

/// A check to run, with its name (for messages) and time limit.
#[derive(Clone)]
pub struct Job {
    /// The check's full name, e.g. `pipe::message-default`.
    pub name: String,
    pub check: Check,
    pub limit: Duration,
}

/// What one job gave, over all its repetitions.
#[derive(Debug, Clone)]
pub struct Run {
    /// The failure of the first repetition that failed, if any did.
    pub fail: Option<Fail>,
    /// Time of the slowest repetition.
    pub elapsed: Duration,
    /// Commands the check ran (of the failing repetition, if any), as a
    /// person would type them.
    pub commands: Vec<String>,
    pub repetitions: u32,
    /// How many repetitions failed.
    pub failures: u32,
    /// Each repetition, in the order they were numbered (1, 2, ...).
    pub each: Vec<Repetition>,
    /// Repetitions that failed in a way the machine's load can cause while
    /// it was overloaded, and were run again alone.
    pub reruns: Vec<Rerun>,
    /// The machine's state when a repetition failed in a time-dependent
    /// way while it was overloaded (what makes it worth running again).
    pub busy: Option<String>,
}

/// How one repetition of a job went.
#[derive(Debug, Clone)]
pub struct Repetition {
    pub elapsed: Duration,
    /// `None` if it passed; else its failure's kind and first sentence.
    pub failed: Option<(Kind, String)>,
}

impl Run {
    pub fn passed(&self) -> bool {
        self.fail.is_none()
    }

    /// The number (from 1) of the repetition whose failure `fail` is.
    pub fn shown_repetition(&self) -> Option<usize> {
        self.each.iter().position(|r| r.failed.is_some()).map(|i| i + 1)
    }

    /// A run of one repetition from its result.
    pub fn single(fail: Option<Fail>, elapsed: Duration, commands: Vec<String>) -> Run {
        let failed = fail.as_ref().map(|f| (f.kind, f.what.clone()));
        Run {
            failures: u32::from(fail.is_some()),
            fail,
            elapsed,
            commands,
            repetitions: 1,
            each: vec![Repetition { elapsed, failed }],
            reruns: Vec::new(),
            busy: None,
        }
    }

    /// Whether it is to be run again alone: a failure that time or CPU
    /// share could cause, while the machine was overloaded.
    fn worth_rerunning(&self) -> bool {
        self.busy.is_some() && self.fail.as_ref().is_some_and(|f| f.time_dependent().is_some())
    }
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub jobs: usize,
    pub repeat: u32,
    /// How many times a repetition that failed in a time-dependent way
    /// while the machine was overloaded is run again alone, after the
    /// other checks (0: never).
    pub reruns: u32,
}

/// The runs of the jobs, in order, and the machine over the whole run.
#[derive(Debug, Clone)]
pub struct Runs {
    pub runs: Vec<Run>,
    pub machine: Load,
}

/// Runs every job `repeat` times and returns one [`Run`] per job, in the
/// order given. `progress` is called with a job's index as it finishes.
///
/// A repetition that fails in a way the machine's load can cause (a time
/// limit, a CPU share: [`Fail::time_dependent`]) while the machine was
/// overloaded (over the check, or the run so far: [`load`]) is run again
/// alone after every other check, up to `options.reruns` times; its
/// [`Run::reruns`] say so. Any other failure stands as it is.
pub fn run(jobs: &[Job], programs: &Programs, options: &Options, progress: &(dyn Fn(usize, &Run) + Sync)) -> Runs {
    load::start();
    let run_started = Instant::now();
    // Unique among graders on this machine (pid) and runs in this process.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run_id = format!("{:x}r{}{:02x}", std::process::id(), RUNS.fetch_add(1, Ordering::SeqCst), fastrand::u8(..));
    active().runs.push(run_id.clone());
    let setup = match Setup::new(programs) {
        Ok(setup) => setup,
        Err(fail) => {
            let failed = || Run::single(Some(fail.clone()), Duration::ZERO, Vec::new());
            let runs = jobs.iter().map(|_| failed()).collect();
            return Runs { runs, machine: load::between(run_started, Instant::now()) };
        }
    };
    let programs = &setup.programs;
    crate::misuse::start();
    let watchdog = Watchdog::start();
    let repeat = options.repeat.max(1) as usize;
    // Each job's repetitions by number, filled as they finish (in any order).
    let results: Vec<Mutex<Vec<Option<Run>>>> = jobs.iter().map(|_| Mutex::new(vec![None; repeat])).collect();
    let serial_no = AtomicUsize::new(0);

    let run_group = |indices: Vec<usize>, workers: usize| {
        let next = AtomicUsize::new(0);
        let work: Vec<(usize, usize)> = indices.iter().flat_map(|&i| (0..repeat).map(move |r| (i, r))).collect();
        std::thread::scope(|scope| {
            for _ in 0..workers.max(1).min(work.len().max(1)) {
                scope.spawn(|| {
                    loop {
                        let k = next.fetch_add(1, Ordering::SeqCst);
                        let Some(&(i, rep)) = work.get(k) else { break };
                        let n = serial_no.fetch_add(1, Ordering::SeqCst);
                        let one = run_one(&jobs[i], programs, &setup.peers, &run_id, n, &watchdog, run_started);
                        let mut slots = results[i].lock().unwrap_or_else(|e| e.into_inner());
                        slots[rep] = Some(one);
                        // One to run again is reported once it has been.
                        let to_rerun = |r: &Run| options.reruns > 0 && r.worth_rerunning();
                        if slots.iter().all(Option::is_some) && !slots.iter().flatten().any(to_rerun) {
                            progress(i, &combine(slots.iter().flatten().cloned()));
                        }
                    }
                });
            }
        });
    };

    let (exclusive, parallel): (Vec<usize>, Vec<usize>) = (0..jobs.len()).partition(|&i| jobs[i].check.exclusive);
    run_group(parallel, options.jobs);
    run_group(exclusive, 1);
    // Failures a busy machine can cause, confirmed alone before they count.
    if options.reruns > 0 {
        for (i, slots) in results.iter().enumerate() {
            let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
            let mut rerun_any = false;
            for (rep, slot) in slots.iter_mut().enumerate() {
                let Some(first) = slot.take() else { continue };
                if !first.worth_rerunning() {
                    *slot = Some(first);
                    continue;
                }
                rerun_any = true;
                // On a thread of its own, as every check runs: a check's
                // thread takes the check's user id and namespaces, which on
                // this (the main) thread would be the whole process's as
                // /proc shows it, and peers check the grader there.
                let alone = |n: usize| {
                    std::thread::scope(|scope| {
                        let one = || run_one(&jobs[i], programs, &setup.peers, &run_id, n, &watchdog, run_started);
                        scope.spawn(one).join().expect("a check's thread does not panic")
                    })
                };
                *slot = Some(rerun::rerun(first, rep, options.reruns, &serial_no, alone));
            }
            if rerun_any {
                progress(i, &combine(slots.iter().flatten().cloned()));
            }
        }
    }
    proc::sweep_run(&run_id);
    proc::kill_orphans(&[]);
    // An escapee that only the line above could kill may have created an
    // object under its check's prefix after that check's leak scan. Every
    // process of this run is gone now: remove what is left under the run's
    // prefix. (Queues can only be listed where /dev/mqueue is mounted.)
    leaks::remove_all(&format!("/ipcl.{run_id}."), &[], &[], None);
    crate::sysv::end_of_run(&run_id);
    active().runs.retain(|r| *r != run_id);
    let runs = results
        .into_iter()
        .map(|m| {
            let slots = m.into_inner().unwrap_or_else(|e| e.into_inner());
            combine(slots.into_iter().map(|r| r.expect("every repetition ran")))
        })
        .collect();
    Runs { runs, machine: load::between(run_started, Instant::now()) }
}

/// Runs and checks under way in this process, for [`abort`].
#[derive(Default)]
struct Active {
    runs: Vec<String>,
    dirs: Vec<std::path::PathBuf>,
}

fn active() -> std::sync::MutexGuard<'static, Active> {
    static ACTIVE: Mutex<Active> = Mutex::new(Active { runs: Vec::new(), dirs: Vec::new() });
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Cleans up after an interrupted grading (Ctrl-C, or a watch mode that
/// starts over), from any thread, before the process exits: kills every
/// process it started (a build included) and what they started, removes
/// the IPC objects and System V segments of the runs under way and the
/// checks' temporary folders. Checks still running then fail or hang on
/// dead programs: the caller exits right after.
pub fn abort() {
    proc::kill_descendants();
    let (runs, dirs) = {
        let active = active();
        (active.runs.clone(), active.dirs.clone())
    };
    for run_id in &runs {
        leaks::remove_all(&format!("/ipcl.{run_id}."), &[], &[], None);
        crate::sysv::end_of_run(run_id);
    }
    for dir in dirs {
        let _ = crate::remove::tree(&dir);
    }
}

/// The longest grading of `jobs` can take with `workers` workers, if every
/// program hangs: each check ends at most one second after its time limit
/// (watchdog, leak check, clean-up); parallel checks are shared by the
/// workers (at most their sum / workers + the longest), exclusive ones run
/// one after the other.
pub fn worst_case(jobs: &[Job], workers: usize, repeat: u32) -> Duration {
    let cost = |j: &Job| j.limit.as_secs_f64() + 1.0;
    let parallel: Vec<f64> = jobs.iter().filter(|j| !j.check.exclusive).map(cost).collect();
    let exclusive: f64 = jobs.iter().filter(|j| j.check.exclusive).map(cost).sum();
    let longest = parallel.iter().copied().fold(0.0, f64::max);
    let secs = parallel.iter().sum::<f64>() / workers.max(1) as f64 + longest + exclusive;
    Duration::from_secs_f64(secs * f64::from(repeat))
}

/// One job's repetitions, in their order, as one run: the failure shown is
/// that of the first repetition that failed.
fn combine(reps: impl Iterator<Item = Run>) -> Run {
    let mut combined: Option<Run> = None;
    for next in reps {
        combined = Some(match combined {
            None => next,
            Some(mut prev) => {
                prev.repetitions += next.repetitions;
                prev.failures += next.failures;
                prev.elapsed = prev.elapsed.max(next.elapsed);
                if prev.passed() && !next.passed() {
                    prev.fail = next.fail;
                    prev.commands = next.commands;
                }
                prev.each.extend(next.each);
                prev.reruns.extend(next.reruns);
                prev.busy = prev.busy.or(next.busy);
                prev
            }
        });
    }
    combined.expect("at least one repetition")
}

/// What a run prepares once: the programs and the peers executable, where
/// the checks' users can run them.
struct Setup {
    programs: Programs,
    peers: std::path::PathBuf,
    /// Copies of programs that the checks' users could not reach.
    _stage: Option<tempfile::TempDir>,
}

impl Setup {
    fn new(programs: &Programs) -> Result<Setup, Fail> {
        let peers = sandbox::peers_for_checks().map_err(|e| {
            Fail::infra(format!("cannot find the grader's peers executable: {e} (build it: cargo build -p ipc-grader)"))
        })?;
        let reachable = |p: &std::path::PathBuf| !p.exists() || sandbox::reachable_by_others(p);
        if !sandbox::support().users || programs.locations().iter().all(reachable) {
            return Ok(Setup { programs: programs.clone(), peers, _stage: None });
        }
        // Root's, for this grading's group alone (the checks' users).
        let stage = || -> std::io::Result<(tempfile::TempDir, Programs)> {
            let stage = tempfile::Builder::new().prefix("ipc-grader-programs-").tempdir()?;
            let staged = programs.staged(stage.path())?;
            sandbox::build::give(stage.path(), 0, identity::group())?;
            Ok((stage, staged))
        };
        let (stage, programs) = stage()
            .map_err(|e| Fail::infra(format!("cannot copy the programs where the checks' users may run them: {e}")))?;
        Ok(Setup { programs, peers, _stage: Some(stage) })
    }
}

/// The check's own identity and namespaces, taken by the thread that runs
/// it: its user (root only) and private IPC (where namespaces are had),
/// with the root of its message-queue file system.
struct Confined {
    lease: Option<identity::Lease>,
    queues: Option<std::os::fd::OwnedFd>,
}

impl Confined {
    fn enter() -> Result<Confined, Fail> {
        let support = sandbox::support();
        let queues = match support.namespaces {
            true => Some(
                namespace::enter_private()
                    .map_err(|e| Fail::infra(format!("cannot give the check its own IPC: {e}")))?,
            ),
            false => None,
        };
        Ok(Confined { lease: support.users.then(identity::lease), queues })
    }

    /// Where the check's message queues are listed (this thread's view of
    /// the descriptor), if it has its own.
    fn queue_dir(&self) -> Option<std::path::PathBuf> {
        use std::os::fd::AsRawFd;
        self.queues.as_ref().map(|fd| format!("/proc/thread-self/fd/{}", fd.as_raw_fd()).into())
    }
}

fn run_one(
    job: &Job,
    programs: &Programs,
    peers: &std::path::Path,
    run_id: &str,
    n: usize,
    watchdog: &Watchdog,
    run_started: Instant,
) -> Run {
    let limit = job.limit;
    let started = Instant::now();
    let infra = |what: String| Run::single(Some(Fail::infra(what)), started.elapsed(), Vec::new());
    let confined = match Confined::enter() {
        Ok(confined) => confined,
        Err(fail) => return Run::single(Some(fail), started.elapsed(), Vec::new()),
    };
    let tag = format!("{run_id}:{n}");
    let namespace = || std::fs::read_link("/proc/thread-self/ns/mnt").ok()?.into_os_string().into_string().ok();
    let members = match (&confined.lease, confined.queues.is_some().then(namespace).flatten()) {
        (Some(lease), _) => Members::User(lease.uid),
        (None, Some(ns)) => Members::Namespace(ns),
        (None, None) => Members::Tag(tag.clone()),
    };
    // From here until the check's code has run, this thread acts as the
    // check's user: its folder, files and IPC objects are the check's.
    let as_user = match &confined.lease {
        Some(lease) => match identity::AsUser::enter(lease.uid, lease.gid) {
            Ok(as_user) => Some(as_user),
            Err(e) => return infra(format!("cannot act as the check's user {}: {e}", lease.uid)),
        },
        None => None,
    };
    let dir = match crate::remove::CheckFolder::new() {
        Ok(dir) => dir,
        Err(e) => return infra(format!("cannot make a temporary directory: {e}")),
    };
    let rules = match sandbox::rules::for_programs(dir.path(), &programs.locations(), peers, confined.queues.as_ref()) {
        Ok(rules) => rules,
        Err(e) => return infra(format!("cannot make the check's sandbox: {e}")),
    };
    active().dirs.push(dir.path().to_owned());
    let prefix = format!("/ipcl.{run_id}.{n}.");
    let sandbox = CheckSandbox {
        members: members.clone(),
        user: confined.lease.as_ref().map(|l| (l.uid, l.gid)),
        rules,
        peers: peers.to_owned(),
        private_ipc: confined.queues.is_some(),
    };
    let mut ctx = Ctx::new(dir.path().to_owned(), tag.clone(), prefix.clone(), programs, limit, sandbox);
    watchdog.watch(&members, started + limit + WATCHDOG_GRACE);
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| (job.check.run)(&mut ctx)))
        .unwrap_or_else(|panic| Err(Fail::infra(format!("the check `{}` panicked: {}", job.name, panic_text(&panic)))));
    watchdog.unwatch(&members);
    let elapsed = started.elapsed();

    // A check stopped by its deadline says so first, and keeps what it saw.
    let mut result = match result {
        Err(mut fail) if elapsed > limit && !fail.is_infrastructure() && fail.kind != Kind::Timeout => {
            fail.notes.insert(0, format!("what the check saw when it was stopped: {}", fail.what));
            fail.what = format!("time limit reached: the check allows {:.1}s", limit.as_secs_f64());
            Err(fail.kind(Kind::Timeout))
        }
        other => other,
    };

    // A program that ran the grader's own programs earns nothing here. (Read
    // as the check's user: the file is the program's to write, and may be a
    // link to anywhere.)
    let marker = std::fs::read_to_string(dir.path().join(crate::misuse::MARKER)).ok();
    drop(as_user);
    if let Some(peer) = marker {
        let what = format!("a program under test ran the grader's peer `{}`, which refused", peer.trim());
        let fail = Fail::new("a program under test ran the grader's own program, so this check earns nothing")
            .got(what)
            .note(format!("the rule: {}", crate::peer::RULE));
        result = match result {
            Ok(()) => Err(fail),
            Err(other) => Err(fail.note(format!("the check also saw: {}", other.what))),
        };
    }

    // Leaks: processes first (they may still be creating IPC objects).
    let leaked = leaked_processes(&ctx);
    proc::sweep(&members);
    let mut left = Vec::new();
    if !leaked.is_empty() {
        left.push(format!(
            "{} process(es) still running after the program ended: {}",
            leaked.len(),
            leaked.iter().map(|p| format!("{} ({})", p.pid, p.command)).collect::<Vec<_>>().join(", ")
        ));
    }
    // In a private namespace every object is the check's, whatever its name.
    let scanned = if confined.queues.is_some() { "/" } else { prefix.as_str() };
    left.extend(leaks::remove_all(scanned, &ctx.ipc_names, &ctx.peer_objects, confined.queue_dir().as_deref()));
    left.extend(crate::sysv::after_check(&mut ctx));
    if !left.is_empty() {
        let what = format!("left behind: {}", left.join("; "));
        result = match result {
            Ok(()) => Err(Fail::new("the program left something behind that the contract does not allow")
                .kind(Kind::Leak)
                .note(what)
                .note(leak_advice(&left))),
            Err(fail) => Err(fail.note(what)),
        };
    }

    let path = dir.path().to_owned();
    let commands = ctx.take_reproduction();
    drop(ctx);
    let result = crate::remove::after_check(dir, result);
    active().dirs.retain(|d| *d != path);
    drop(confined);
    let mut fail = result.err();
    let mut busy = None;
    if let Some(fail) = fail.as_mut().filter(|f| f.time_dependent().is_some()) {
        // What the machine was like says whether to trust it, and a
        // student can tell a hang from a slow machine.
        let now = Instant::now();
        let during = load::between(started, now);
        fail.notes.insert(0, format!("while the check ran ({:.1} s), {}", elapsed.as_secs_f64(), during.sentence()));
        let so_far = load::between(run_started, now);
        busy = [during, so_far].into_iter().find(Load::overloaded).map(|l| l.sentence());
    }
    let mut run = Run::single(fail, elapsed, commands);
    run.busy = busy;
    run
}

/// What to do about the leftovers `left` (as `left behind:` names them):
/// a System V segment is meant to outlive its program, so only processes,
/// shared-memory objects and queues get the usual advice.
fn leak_advice(left: &[String]) -> String {
    let mut advice = Vec::new();
    if left.iter().any(|l| l.contains("process(es) still running")) {
        advice.push("wait for every child you fork");
    }
    if left.iter().any(|l| l.starts_with("the shared-memory object") || l.starts_with("the message queue")) {
        advice.push("unlink every shared-memory object and message queue your program made");
    }
    if left.iter().any(|l| l.starts_with("the System V segment")) {
        advice
            .push("a System V segment outlives its program on purpose, but only the one of the key the contract names");
    }
    advice.join("; ")
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
        proc::members(ctx.members())
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
    watched: Arc<Mutex<Vec<(Members, Instant)>>>,
}

impl Watchdog {
    fn start() -> Watchdog {
        let watched: Arc<Mutex<Vec<(Members, Instant)>>> = Arc::default();
        let list = Arc::downgrade(&watched);
        std::thread::spawn(move || {
            while let Some(list) = list.upgrade() {
                let now = Instant::now();
                let expired: Vec<Members> = {
                    let guard = list.lock().unwrap_or_else(|e| e.into_inner());
                    guard.iter().filter(|(_, at)| *at <= now).map(|(members, _)| members.clone()).collect()
                };
                drop(list);
                for members in expired {
                    proc::sweep(&members);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Watchdog { watched }
    }

    fn watch(&self, members: &Members, at: Instant) {
        self.watched.lock().unwrap_or_else(|e| e.into_inner()).push((members.clone(), at));
    }

    fn unwatch(&self, members: &Members) {
        self.watched.lock().unwrap_or_else(|e| e.into_inner()).retain(|(m, _)| m != members);
    }
}
