//! Starting, watching and killing the programs under test.
//!
//! Every process the grader starts goes through [`spawn`]. The rules:
//!
//! - A program starts in its own process group, with default signal
//!   dispositions, an empty signal mask and only descriptors 0, 1 and 2 open
//!   (the environment that runs the grader may leak others, and a program
//!   must not be blamed for them). See the `guard` module.
//! - It carries an environment tag (`IPC_GRADER_TAG=<run>:<check>`) that its
//!   descendants inherit, even after `setsid` and a double fork, so the grader
//!   can find and kill everything a check started ([`sweep`]).
//! - The grader is a child subreaper (`PR_SET_CHILD_SUBREAPER`): orphans of
//!   the programs are re-parented to it rather than to PID 1, and one reaper
//!   thread collects every child. Nothing else in the grader may call
//!   `wait`/`waitpid` (std's `Child::wait` included): it would steal exit
//!   statuses from the reaper. Use [`Proc::wait_until`] (module `reaper`).
//! - Output is captured up to a cap and always drained ([`Output`]); `/proc`
//!   is read in one place ([`procfs`]).

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

mod guard;
mod output;
pub mod procfs;
mod reaper;

pub use output::Output;
pub use procfs::{context_switches, cpu_time, state};
use reaper::reaper;

/// The name of the environment variable that tags a check's processes.
pub const TAG_VAR: &str = "IPC_GRADER_TAG";

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `exit(code)`.
    Code(i32),
    /// Killed by this signal number.
    Signal(i32),
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Exit::Code(c) => write!(f, "exit status {c}"),
            Exit::Signal(s) => {
                let name = Signal::try_from(s).map(|s| s.as_str()).unwrap_or("a real-time signal");
                write!(f, "killed by signal {s} ({name})")
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Spawning.

/// What a spawned program reads on stdin.
#[derive(Debug, Clone)]
pub enum Input {
    /// `/dev/null`.
    Null,
    /// These bytes, then end of file (written from a thread of their own).
    Bytes(Arc<Vec<u8>>),
    /// A pipe the caller writes to through [`Proc::stdin`].
    Pipe,
}

/// Everything needed to start one program.
#[derive(Debug, Clone)]
pub struct Spec {
    pub program: PathBuf,
    /// `argv[0]`, if it should differ from `program`.
    pub arg0: Option<OsString>,
    pub args: Vec<OsString>,
    pub cwd: PathBuf,
    pub env: Vec<(OsString, OsString)>,
    pub stdin: Input,
    /// Most bytes kept of stdout and of stderr (the rest is drained unseen).
    pub output_cap: usize,
    /// Let stderr go to the grader's own stderr instead of capturing it.
    pub inherit_stderr: bool,
    /// Start from an empty environment (then `env`), not the grader's.
    pub clear_env: bool,
    /// What confines it, on top of what every process gets (`guard`).
    pub confine: Option<Arc<crate::sandbox::Confine>>,
}

/// A running (or finished) program.
#[derive(Debug)]
pub struct Proc {
    pid: Pid,
    stdin: Option<ChildStdin>,
    pub stdout: Arc<Output>,
    pub stderr: Arc<Output>,
    exit: Option<Exit>,
    /// The command as a person would type it (set by the check's context).
    pub command: String,
    pub started: Instant,
}

/// Starts a program as the module documentation describes.
pub fn spawn(spec: &Spec) -> std::io::Result<Proc> {
    let reaper = reaper();
    let mut cmd = Command::new(&spec.program);
    if let Some(arg0) = &spec.arg0 {
        cmd.arg0(arg0);
    }
    if spec.clear_env {
        cmd.env_clear();
    }
    cmd.args(&spec.args).current_dir(&spec.cwd).envs(spec.env.iter().map(|(k, v)| (k, v)));
    cmd.stdout(Stdio::piped());
    cmd.stderr(if spec.inherit_stderr { Stdio::inherit() } else { Stdio::piped() });
    match &spec.stdin {
        Input::Null => cmd.stdin(Stdio::null()),
        Input::Bytes(_) | Input::Pipe => cmd.stdin(Stdio::piped()),
    };
    let filters = crate::sandbox::filter::programs();
    let confine = spec.confine.clone();
    // SAFETY: the closure runs in the child between fork and exec, so it may
    // only make async-signal-safe calls: `in_child` makes only those (see
    // its documentation) and allocates nothing; the filters and `confine`
    // were built before the fork.
    unsafe {
        cmd.pre_exec(move || guard::in_child(confine.as_deref(), filters));
    }
    // Hold the reaper's lock across spawn and registration: if the child dies
    // at once, the reaper cannot record (or discard) it before it is ours.
    let mut state = reaper.lock();
    // Before the program can act: a time measured from here is never
    // shorter than what the program did (a reply it waited for).
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = Pid::from_raw(child.id() as i32);
    state.ours.insert(pid.as_raw(), None);
    state.generation += 1;
    reaper.changed.notify_all();
    drop(state);

    let stdout = Output::new(spec.output_cap);
    let stderr = Output::new(spec.output_cap);
    let out = child.stdout.take().expect("stdout is piped");
    let o = stdout.clone();
    std::thread::spawn(move || o.drain(out));
    match child.stderr.take() {
        Some(err) => {
            let e = stderr.clone();
            std::thread::spawn(move || e.drain(err));
        }
        None => stderr.drain(std::io::empty()),
    }
    let mut stdin = child.stdin.take();
    if let Input::Bytes(bytes) = &spec.stdin {
        let mut pipe = stdin.take().expect("stdin is piped");
        let bytes = bytes.clone();
        // A program that never reads (or exits early) makes this fail with
        // EPIPE or block until it is killed: either way the thread ends.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    // `child` is dropped without waiting: the reaper owns its exit status.
    let command = std::iter::once(spec.program.to_string_lossy().into_owned())
        .chain(spec.args.iter().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Proc { pid, stdin, stdout, stderr, exit: None, command, started })
}

impl Proc {
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The write end of stdin, for [`Input::Pipe`]; `None` once closed.
    pub fn stdin(&mut self) -> Option<&mut ChildStdin> {
        self.stdin.as_mut()
    }

    /// Closes stdin (the program sees end of file).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// How it ended, if it has.
    pub fn try_exit(&mut self) -> Option<Exit> {
        if self.exit.is_none() {
            self.exit = reaper().lock().ours.get(&self.pid.as_raw()).copied().flatten();
        }
        self.exit
    }

    /// Waits until the process ends or `deadline` passes.
    pub fn wait_until(&mut self, deadline: Instant) -> Option<Exit> {
        if let Some(exit) = self.exit {
            return Some(exit);
        }
        let reaper = reaper();
        let mut state = reaper.lock();
        loop {
            if let Some(Some(exit)) = state.ours.get(&self.pid.as_raw()) {
                self.exit = Some(*exit);
                return self.exit;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            state = reaper.changed.wait_timeout(state, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Waits at most `timeout`.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<Exit> {
        self.wait_until(Instant::now() + timeout)
    }

    /// Sends `sig` to the process (not its group) if it has not been reaped.
    pub fn signal(&mut self, sig: Signal) -> nix::Result<()> {
        if self.try_exit().is_some() {
            return Err(Errno::ESRCH);
        }
        // The pid is still ours (registered, unreaped), so it cannot have
        // been reused by an unrelated process.
        signal::kill(self.pid, sig)
    }

    /// Kills the process's whole group with SIGKILL (it leads its group).
    pub fn kill_group(&mut self) {
        if self.try_exit().is_none() {
            let _ = signal::kill(self.pid, Signal::SIGKILL);
        }
        let _ = signal::killpg(self.pid, Signal::SIGKILL);
    }

    /// CPU time (user + system) the process has used so far, while it runs.
    pub fn cpu_time(&self) -> Option<Duration> {
        cpu_time(self.pid)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // Nothing is killed here: the runner first looks for what the
        // program left running (a leak to report), then kills it all.
        // Forget a reaped entry. An unreaped one stays registered and is
        // filled in by the reaper; a later spawn that reuses the pid
        // overwrites it.
        if self.try_exit().is_some() {
            reaper().lock().ours.remove(&self.pid.as_raw());
        }
    }
}

// ---------------------------------------------------------------------------
// Finding and killing what a check left behind.

/// How the processes of one check are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// Every process running under this user id: the check's own, which
    /// they cannot change (`sandbox::identity`).
    User(u32),
    /// Every process in this mount namespace (`mnt:[INODE]`): the check's
    /// own, which they cannot leave (`sandbox::namespace`; the filter
    /// refuses them a user namespace, the only way to the capability).
    Namespace(String),
    /// Every process whose environment carries `TAG_VAR=tag`, inherited by
    /// descendants even after `setsid` and a double fork. Where checks
    /// share the grader's user: a process could clear or change it.
    Tag(String),
}

impl Members {
    fn holds(&self, pid: i32) -> bool {
        match self {
            Members::User(uid) => procfs::real_uid(pid) == Some(*uid),
            Members::Namespace(ns) => {
                std::fs::read_link(format!("/proc/{pid}/ns/mnt")).is_ok_and(|link| link.as_os_str() == ns.as_str())
            }
            Members::Tag(tag) => procfs::environ_has(pid, format!("{TAG_VAR}={tag}").as_bytes()),
        }
    }
}

/// A live process that carries `tag`.
#[derive(Debug, Clone)]
pub struct Tagged {
    pub pid: Pid,
    pub command: String,
}

/// Every live (not zombie) process of a check.
pub fn members(members: &Members) -> Vec<Tagged> {
    find_tagged(|pid| members.holds(pid))
}

/// Every live process of any check of the run `run_id` (tags `RUN:N`), or
/// under any user id of this grader's range.
fn of_run(run_id: &str) -> Vec<Tagged> {
    let prefix = format!("{TAG_VAR}={run_id}:").into_bytes();
    let users: Vec<u32> =
        if crate::sandbox::support().users { crate::sandbox::identity::all_ids().collect() } else { Vec::new() };
    find_tagged(|pid| {
        procfs::real_uid(pid).is_some_and(|uid| users.contains(&uid))
            || std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|e| e.starts_with(&prefix)))
    })
}

fn find_tagged(matches: impl Fn(i32) -> bool) -> Vec<Tagged> {
    let me = std::process::id() as i32;
    let mut found = Vec::new();
    for pid in procfs::pids() {
        if pid == me || !matches(pid) {
            continue;
        }
        let pid = Pid::from_raw(pid);
        if matches!(state(pid), Some('Z') | Some('X') | None) {
            continue;
        }
        let command = procfs::cmdline(pid.as_raw()).map(|c| crate::text::one_line(&c, 120)).unwrap_or_default();
        found.push(Tagged { pid, command });
    }
    found
}

/// Kills every child of the grader that it did not start itself and that
/// belongs to no check still running (`running`): orphans re-parented to
/// it as subreaper whose check is over, or whose environment was cleared,
/// so no check's sweep can find them.
pub fn kill_orphans(running: &[Members]) {
    let me = std::process::id() as i32;
    let ours: Vec<i32> = reaper().lock().ours.keys().copied().collect();
    for pid in procfs::pids() {
        let Some(stat) = procfs::stat(Pid::from_raw(pid)) else { continue };
        if stat.ppid != me || ours.contains(&pid) || running.iter().any(|m| m.holds(pid)) {
            continue;
        }
        let _ = signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// Kills every process of a check until none is left (bounded: a process
/// that keeps forking is outpaced by repeated sweeps; each round stops the
/// survivors first so they cannot fork in between).
pub fn sweep(members: &Members) {
    sweep_found(|| self::members(members));
}

/// Kills every process running under user id `uid` (as [`sweep`]).
pub fn kill_user(uid: u32) {
    sweep(&Members::User(uid));
}

/// Kills every process of any check of the run `run_id`, as [`sweep`]
/// does: at the end of a run, where a process whose tag could not be read
/// while its own check was cleaned up (a process in the middle of `exec`)
/// would otherwise outlive the run.
pub fn sweep_run(run_id: &str) {
    // Several looks, 20 ms apart: a process that was in the middle of
    // `fork` or `exec` at one look (its tag not yet readable) is seen at
    // the next (an escapee once outlived a run under load).
    for _ in 0..5 {
        sweep_found(|| of_run(run_id));
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sweep_found(find: impl Fn() -> Vec<Tagged>) {
    for _ in 0..50 {
        let found = find();
        if found.is_empty() {
            return;
        }
        for p in &found {
            let _ = signal::kill(p.pid, Signal::SIGSTOP);
        }
        for p in &found {
            let _ = signal::killpg(p.pid, Signal::SIGKILL);
            let _ = signal::kill(p.pid, Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Kills every descendant of this process, whatever became of it: its
/// children with their process groups, round after round, until none is
/// left. A descendant whose parent dies is re-parented to this process
/// (a child subreaper once [`spawn`] has been used), so the next round
/// finds it. Each round stops the children before it kills them, so a
/// fork storm is outpaced. For an interrupted run (Ctrl-C): what the
/// checks' own sweeps would have killed later.
pub fn kill_descendants() {
    let me = std::process::id() as i32;
    for _ in 0..200 {
        let children: Vec<Pid> = procfs::pids()
            .into_iter()
            .map(Pid::from_raw)
            .filter(|&pid| procfs::stat(pid).is_some_and(|s| s.ppid == me && !matches!(s.state, 'Z' | 'X')))
            .collect();
        if children.is_empty() {
            return;
        }
        for &pid in &children {
            let _ = signal::kill(pid, Signal::SIGSTOP);
        }
        for &pid in &children {
            let _ = signal::killpg(pid, Signal::SIGKILL);
            let _ = signal::kill(pid, Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What [`output`] collected.
#[derive(Debug)]
pub struct Collected {
    /// `None` if it was killed at the time limit.
    pub exit: Option<Exit>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs a program to the end, like `Command::output`, but through the
/// reaper (so it can be used in a process where [`spawn`] is used). It is
/// killed, with its process group, after `time_limit`.
pub fn output(mut spec: Spec, time_limit: Duration) -> std::io::Result<Collected> {
    spec.inherit_stderr = false;
    let mut running = spawn(&spec)?;
    let exit = running.wait_until(Instant::now() + time_limit);
    if exit.is_none() {
        running.kill_group();
    }
    let grace = Instant::now() + Duration::from_secs(2);
    running.stdout.wait_eof(grace);
    running.stderr.wait_eof(grace);
    Ok(Collected { exit, stdout: running.stdout.bytes(), stderr: running.stderr.bytes() })
}

impl Spec {
    /// A spec for `program` with `args`, run in `cwd`, stdin from /dev/null,
    /// with the grader's environment and 64 MiB of output kept.
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
        cwd: impl Into<PathBuf>,
    ) -> Spec {
        Spec {
            program: program.into(),
            arg0: None,
            args: args.into_iter().map(Into::into).collect(),
            cwd: cwd.into(),
            env: Vec::new(),
            stdin: Input::Null,
            output_cap: 64 << 20,
            inherit_stderr: false,
            clear_env: false,
            confine: None,
        }
    }
}
