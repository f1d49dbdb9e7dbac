//! Starting, watching and killing the programs under test.
//!
//! Every process the grader starts goes through [`spawn`]. The rules:
//!
//! - A program starts in its own process group, with default signal
//!   dispositions, an empty signal mask and only descriptors 0, 1 and 2 open
//!   (the grader's own environment may leak others; see GRADER.md).
//! - It carries an environment tag (`IPC_GRADER_TAG=<run>:<check>`) that its
//!   descendants inherit, even after `setsid` and a double fork, so the grader
//!   can find and kill everything a check started ([`sweep`]).
//! - The grader is a child subreaper (`PR_SET_CHILD_SUBREAPER`): orphans of
//!   the programs are re-parented to it rather than to PID 1, and one reaper
//!   thread collects every child. Nothing else in the grader may call
//!   `wait`/`waitpid` (std's `Child::wait` included): it would steal exit
//!   statuses from the reaper. Use [`Proc::wait_until`].

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{self, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

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

impl Exit {}

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
// The reaper: one thread that waits for every child of the grader.

struct Reaper {
    state: Mutex<ReaperState>,
    changed: Condvar,
}

#[derive(Default)]
struct ReaperState {
    /// Children started by [`spawn`] and not yet collected by their owner.
    /// `None` while running, `Some` once reaped.
    ours: HashMap<i32, Option<Exit>>,
    /// Bumped by every spawn, so the reaper knows to wait again after ECHILD.
    generation: u64,
}

fn reaper() -> &'static Reaper {
    static REAPER: OnceLock<&'static Reaper> = OnceLock::new();
    REAPER.get_or_init(|| {
        // Orphans of the programs under test become our children, not PID 1's,
        // so that they can be reaped and never escape the sweep as zombies.
        let _ = nix::sys::prctl::set_child_subreaper(true);
        let reaper: &'static Reaper =
            Box::leak(Box::new(Reaper { state: Mutex::new(ReaperState::default()), changed: Condvar::new() }));
        std::thread::Builder::new()
            .name("reaper".into())
            .spawn(move || reaper.run())
            .expect("cannot start the reaper thread");
        reaper
    })
}

impl Reaper {
    fn lock(&self) -> MutexGuard<'_, ReaperState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run(&self) {
        loop {
            let seen = self.lock().generation;
            match waitpid(None::<Pid>, Some(WaitPidFlag::__WALL)) {
                Ok(status) => {
                    let (pid, exit) = match status {
                        WaitStatus::Exited(pid, code) => (pid, Exit::Code(code)),
                        WaitStatus::Signaled(pid, sig, _) => (pid, Exit::Signal(sig as i32)),
                        _ => continue,
                    };
                    let mut state = self.lock();
                    // An unknown pid is an orphan adopted as subreaper: reaping
                    // it is all there is to do.
                    if let Some(slot) = state.ours.get_mut(&pid.as_raw()) {
                        *slot = Some(exit);
                        self.changed.notify_all();
                    }
                }
                Err(Errno::ECHILD) => {
                    let mut state = self.lock();
                    while state.generation == seen {
                        state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                    }
                }
                Err(_) => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Output capture.

/// Bytes a program wrote to one stream, kept up to a cap and always drained.
#[derive(Debug)]
pub struct Output {
    inner: Mutex<OutputInner>,
    changed: Condvar,
    cap: usize,
}

#[derive(Debug, Default)]
struct OutputInner {
    bytes: Vec<u8>,
    total: u64,
    eof: bool,
}

impl Output {
    fn new(cap: usize) -> Arc<Output> {
        Arc::new(Output { inner: Mutex::default(), changed: Condvar::new(), cap })
    }

    fn lock(&self) -> MutexGuard<'_, OutputInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn drain(&self, mut from: impl Read) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let mut inner = self.lock();
                    inner.total += n as u64;
                    let room = self.cap.saturating_sub(inner.bytes.len());
                    let keep = n.min(room);
                    inner.bytes.extend_from_slice(&buf[..keep]);
                    drop(inner);
                    self.changed.notify_all();
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.lock().eof = true;
        self.changed.notify_all();
    }

    /// A copy of what was captured so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.lock().bytes.clone()
    }

    /// How many bytes the program wrote in all (captured or not).
    pub fn total(&self) -> u64 {
        self.lock().total
    }

    /// Waits until `found` returns `Some` on the captured bytes, the stream
    /// ends, or `deadline` passes.
    pub fn wait_for<T>(&self, deadline: Instant, mut found: impl FnMut(&[u8]) -> Option<T>) -> Option<T> {
        let mut inner = self.lock();
        loop {
            if let Some(t) = found(&inner.bytes) {
                return Some(t);
            }
            let now = Instant::now();
            if inner.eof || now >= deadline {
                return None;
            }
            inner = self.changed.wait_timeout(inner, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Waits for end of file on the stream, until `deadline`. Returns whether it came.
    pub fn wait_eof(&self, deadline: Instant) -> bool {
        let mut inner = self.lock();
        while !inner.eof {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            inner = self.changed.wait_timeout(inner, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        true
    }
}

// ---------------------------------------------------------------------------
// The kill guard.

/// A seccomp filter that makes `kill(-1, ...)` fail with EPERM.
///
/// `kill(-1, SIGKILL)` signals every process the caller may signal: as root,
/// the whole machine, the grader included. A beginner writes it by accident
/// (`kill(pid, ...)` after a fork that failed and returned -1). Every program
/// the grader starts, and everything it starts in turn (filters are inherited
/// and cannot be removed), gets this filter; other signals are untouched.
fn kill_guard() -> Option<&'static [seccompiler::sock_filter]> {
    static GUARD: OnceLock<Option<seccompiler::BpfProgram>> = OnceLock::new();
    GUARD
        .get_or_init(|| {
            use seccompiler::{
                SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
            };
            let arch = std::env::consts::ARCH.try_into().ok()?;
            // pid_t is 32 bits: compare the low word of the first argument with -1.
            let minus_one =
                SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, u64::from(u32::MAX)).ok()?;
            let rules = [(libc::SYS_kill, vec![SeccompRule::new(vec![minus_one]).ok()?])].into_iter().collect();
            let filter =
                SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(libc::EPERM as u32), arch).ok()?;
            filter.try_into().ok()
        })
        .as_deref()
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
    cmd.args(&spec.args).current_dir(&spec.cwd).envs(spec.env.iter().map(|(k, v)| (k, v)));
    cmd.stdout(Stdio::piped());
    cmd.stderr(if spec.inherit_stderr { Stdio::inherit() } else { Stdio::piped() });
    match &spec.stdin {
        Input::Null => cmd.stdin(Stdio::null()),
        Input::Bytes(_) | Input::Pipe => cmd.stdin(Stdio::piped()),
    };
    let guard = kill_guard();
    // SAFETY: the closure runs in the child between fork and exec, so it may
    // only make async-signal-safe calls. It calls setpgid, sigprocmask,
    // sigaction (through `signal`), close_range and prctl/seccomp with a
    // filter built before the fork; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
            signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
            for sig in 1..libc::SIGRTMAX() {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    // Some numbers are reserved by the C library; ignore failures.
                    libc::signal(sig, libc::SIG_DFL);
                }
            }
            // Descriptors 0-2 are in place; close everything above them that
            // the grader's own environment may have leaked.
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            if let Some(filter) = guard {
                // Failure leaves the program unguarded (e.g. no seccomp in the
                // kernel); the hostile test checks that the guard holds.
                let prog =
                    libc::sock_fprog { len: filter.len() as u16, filter: filter.as_ptr() as *mut libc::sock_filter };
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 {
                    libc::syscall(
                        libc::SYS_seccomp,
                        libc::SECCOMP_SET_MODE_FILTER,
                        0,
                        &prog as *const libc::sock_fprog,
                    );
                }
            }
            Ok(())
        });
    }
    // Hold the reaper's lock across spawn and registration: if the child dies
    // at once, the reaper cannot record (or discard) it before it is ours.
    let mut state = reaper.lock();
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
    Ok(Proc { pid, stdin, stdout, stderr, exit: None, command, started: Instant::now() })
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

/// CPU time (user + system) of a live process, from `/proc/PID/stat`.
pub fn cpu_time(pid: Pid) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // After the name: state is field 3 of stat(5); utime is 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_nanos((utime + stime) * 1_000_000_000 / ticks))
}

/// Context switches of a live process, summed over its threads
/// (`/proc/PID/task/*/status`): `(voluntary, involuntary)`. A thread
/// switches voluntarily when it blocks (sleeps, waits), involuntarily when
/// it is preempted or yields while still runnable. A busy-waiting process
/// never blocks, however loaded the machine.
pub fn context_switches(pid: Pid) -> Option<(u64, u64)> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let (mut voluntary, mut involuntary) = (0, 0);
    for task in tasks.flatten() {
        let status = std::fs::read_to_string(task.path().join("status")).ok()?;
        let count = |key: &str| -> Option<u64> {
            status.lines().find(|l| l.starts_with(key))?.split_whitespace().nth(1)?.parse().ok()
        };
        voluntary += count("voluntary_ctxt_switches:")?;
        involuntary += count("nonvoluntary_ctxt_switches:")?;
    }
    Some((voluntary, involuntary))
}

/// The one-letter state of a process from `/proc/PID/stat` (`R`, `S`, `Z`, ...).
pub fn state(pid: Pid) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

// ---------------------------------------------------------------------------
// Finding and killing what a check left behind.

/// A live process that carries `tag`.
#[derive(Debug, Clone)]
pub struct Tagged {
    pub pid: Pid,
    pub command: String,
}

/// Every live (not zombie) process whose environment carries `TAG_VAR=tag`.
pub fn tagged(tag: &str) -> Vec<Tagged> {
    let needle = format!("{TAG_VAR}={tag}\0").into_bytes();
    let me = std::process::id();
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return found };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if pid == me {
            continue;
        }
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else { continue };
        if !environ.windows(needle.len()).any(|w| w == needle.as_slice()) {
            continue;
        }
        let pid = Pid::from_raw(pid as i32);
        if matches!(state(pid), Some('Z') | Some('X') | None) {
            continue;
        }
        let command = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| {
                let text = String::from_utf8_lossy(&c).replace('\0', " ");
                crate::text::one_line(text.trim_end(), 120)
            })
            .unwrap_or_default();
        found.push(Tagged { pid, command });
    }
    found
}

/// Kills every child of the grader that it did not start itself and that
/// carries no check's tag: orphans re-parented to it as subreaper whose
/// environment was cleared, so no check's sweep can find them. (Tagged ones
/// are left to their own check, which reports them as leaks.)
pub fn kill_orphans() {
    let me = std::process::id().to_string();
    let ours: Vec<i32> = reaper().lock().ours.keys().copied().collect();
    let Ok(dir) = std::fs::read_dir("/proc") else { return };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else { continue };
        // After the name: state, then ppid.
        let ppid = after.split(' ').nth(1).unwrap_or_default();
        if ppid != me || ours.contains(&pid) {
            continue;
        }
        let tagged = std::fs::read(format!("/proc/{pid}/environ"))
            .map(|env| env.windows(TAG_VAR.len() + 1).any(|w| w.starts_with(TAG_VAR.as_bytes()) && w.ends_with(b"=")))
            .unwrap_or(false);
        if !tagged {
            let _ = signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// Kills every process carrying `tag` until none is left (bounded: a
/// process that keeps forking is outpaced by repeated sweeps; each round
/// stops the survivors first so they cannot fork in between).
pub fn sweep(tag: &str) {
    for _ in 0..50 {
        let found = tagged(tag);
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
        }
    }
}
