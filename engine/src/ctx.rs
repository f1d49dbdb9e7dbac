//! A check's world: its temporary directory, its IPC names, its deadline,
//! and the way it starts programs.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::unistd::Pid;

use crate::build::Programs;
use crate::check::{Done, Fail, Kind};
use crate::peer;
use crate::proc::{self, Input, Members, Proc, Spec};
use crate::sandbox::{Confine, Rules};
use crate::text::shell_quote;

/// Bytes of stdout and of stderr kept per program unless a check asks for more.
pub const DEFAULT_OUTPUT_CAP: usize = 1 << 20;

/// How long after a program exits its output streams may take to reach end
/// of file (a process it left behind may hold them open).
const EOF_GRACE: Duration = Duration::from_millis(1000);

/// Everything a check may use. Made fresh for every check.
pub struct Ctx<'a> {
    dir: PathBuf,
    bin_dir: PathBuf,
    tag: String,
    ipc_prefix: String,
    programs: &'a Programs,
    deadline: Instant,
    limit: Duration,
    /// The commands that reproduce the check by hand (for `--verbose`).
    reproduction: Arc<Mutex<Reproduction>>,
    /// Every POSIX IPC name handed out (probed for leaks afterwards).
    pub(crate) ipc_names: Vec<String>,
    /// Names whose object a trusted peer of the grader makes: removed after
    /// the check, never reported as left behind by the program.
    pub(crate) peer_objects: Vec<String>,
    /// Pids the check started directly.
    pub(crate) spawned: Vec<nix::unistd::Pid>,
    /// Extra PATH entries and environment for programs.
    path_env: OsString,
    /// System V segments: those before the check, its keys (`sysv.rs`).
    pub(crate) sysv: crate::sysv::CheckSegments,
    /// How the check's processes are known.
    pub(crate) members: Members,
    /// What confines its programs under test, and its peers.
    program_confine: Arc<Confine>,
    peer_confine: Arc<Confine>,
    /// The peers executable its programs may run.
    peers: PathBuf,
}

/// How a check's programs are confined, made by the runner.
pub(crate) struct CheckSandbox {
    pub members: Members,
    /// The check's user and group (root only).
    pub user: Option<(u32, u32)>,
    /// The Landlock ruleset of its programs under test.
    pub rules: Option<Rules>,
    /// The peers executable, where the check's user may run it.
    pub peers: PathBuf,
    /// The check has an IPC namespace of its own.
    pub private_ipc: bool,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        dir: PathBuf,
        tag: String,
        ipc_prefix: String,
        programs: &'a Programs,
        limit: Duration,
        sandbox: CheckSandbox,
    ) -> Ctx<'a> {
        let bin_dir = dir.join(".bin");
        let mut path = OsString::from(&bin_dir);
        for entry in searchable_path() {
            path.push(":");
            path.push(entry);
        }
        let peer_confine = Confine { user: sandbox.user, ..Confine::default() };
        let program_confine = Confine { rules: sandbox.rules, ..peer_confine.clone() };
        Ctx {
            sysv: crate::sysv::CheckSegments::start(&tag, sandbox.private_ipc),
            members: sandbox.members,
            program_confine: Arc::new(program_confine),
            peer_confine: Arc::new(peer_confine),
            peers: sandbox.peers,
            dir,
            bin_dir,
            tag,
            ipc_prefix,
            programs,
            deadline: Instant::now() + limit,
            limit,
            reproduction: Arc::default(),
            ipc_names: Vec::new(),
            peer_objects: Vec::new(),
            spawned: Vec::new(),
            path_env: path,
        }
    }

    /// The check's own temporary directory (programs run here).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A path inside the temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// When the check's time limit runs out.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The check's time limit.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// The environment tag of this check's processes (where they are
    /// known by it: see [`Members`]).
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// How this check's processes are known.
    pub fn members(&self) -> &Members {
        &self.members
    }

    /// `deadline` or `now + timeout`, whichever is sooner.
    pub fn within(&self, timeout: Duration) -> Instant {
        self.deadline.min(Instant::now() + timeout)
    }

    /// A POSIX IPC name unique to this run and check, e.g. `/ipcl.1a2b.3.ring`.
    pub fn ipc_name(&mut self, base: &str) -> String {
        let name = format!("{}{base}", self.ipc_prefix);
        self.ipc_names.push(name.clone());
        name
    }

    /// Says that the object named `name` (from [`Ctx::ipc_name`]) is made
    /// by one of the grader's own peers: if it is still there after the
    /// check, it is removed without blaming the program. (A check that
    /// expects the program to remove it checks that itself.)
    pub fn peer_object(&mut self, name: &str) {
        self.peer_objects.push(name.to_string());
    }

    /// The run-and-check prefix of every IPC name this check hands out.
    pub fn ipc_prefix(&self) -> &str {
        &self.ipc_prefix
    }

    /// A program under test, by its contract name (`pipe-message`).
    pub fn program(&mut self, name: &str) -> Cmd<'_, 'a> {
        let path = self.programs.path(name);
        Cmd::new(self, path, Some(name.to_string()))
    }

    /// One of the grader's probes that becomes a program under test (a
    /// starting gate that execs it): started and confined as a program
    /// under test, under the probe's name.
    pub fn launcher(&mut self, name: &str) -> Cmd<'_, 'a> {
        let exe = self.peers.clone();
        let mut cmd = Cmd::new(self, exe, None);
        cmd.spec.arg0 = Some(name.into());
        cmd.peer = Some(name.to_string());
        cmd
    }

    /// Where the program under test `name` is (it may not exist), e.g. for
    /// a peer that execs it.
    pub fn program_path(&self, name: &str) -> PathBuf {
        self.programs.path(name)
    }

    /// One of the grader's own trusted programs (a peer or probe), by name,
    /// started by the check itself: the peers executable with `argv[0]`
    /// set to the name, and the token that lets a partner run.
    pub fn peer(&mut self, name: &str) -> Result<Cmd<'_, 'a>, Fail> {
        let exe = self.peers.clone();
        let confine = self.peer_confine.clone();
        let mut cmd = Cmd::new(self, exe, None);
        cmd.spec.confine = Some(confine);
        cmd.spec.arg0 = Some(name.into());
        cmd.spec.env.push((peer::TOKEN_VAR.into(), crate::misuse::issue().into()));
        cmd.peer = Some(name.to_string());
        Ok(cmd)
    }

    /// Adds a step to the commands that reproduce this check by hand, for
    /// something the check did itself rather than through a program (the
    /// queue it created with nix, a pause while a program waits): the
    /// command that does the same, e.g. `ipc-grader --peer ipc-mq create
    /// NAME --maxmsg 1 --msgsize 64` or `sleep 0.5`. A program started with
    /// [`Cmd::spawn`] and still running is shown in the background (`&`).
    pub fn shown(&self, command: impl Into<String>) {
        self.reproduction.lock().unwrap_or_else(|e| e.into_inner()).step(command.into());
    }

    /// A step that runs one of the grader's peers by hand (`ipc-grader
    /// --peer NAME ARGS`, with `args` already quoted for the shell), for
    /// what the check did itself as that peer would; the reproduction then
    /// puts `ipc-grader` on `PATH`.
    pub fn shown_peer(&self, name: &str, args: &str) {
        self.shown_later().peer(name, args);
    }

    /// A handle that adds steps like [`Ctx::shown`] and outlives borrows of
    /// the context (for a clean-up step shown when a guard is dropped).
    pub fn shown_later(&self) -> Shown {
        Shown(self.reproduction.clone())
    }

    /// The commands that reproduce this check by hand, in an empty
    /// directory: first a line that puts the grader's own programs on
    /// `PATH` if a command needs them, then every step in order.
    pub(crate) fn take_reproduction(&mut self) -> Vec<String> {
        let repro = std::mem::take(&mut *self.reproduction.lock().unwrap_or_else(|e| e.into_inner()));
        let mut lines = Vec::new();
        if !repro.on_path.is_empty() {
            match peer::by_hand_dir(&repro.on_path) {
                Ok(dir) => lines.push(format!(
                    "export PATH={}:\"$PATH\"    # the grader's own programs ({})",
                    shell_quote(&dir.to_string_lossy()),
                    repro.on_path.iter().cloned().collect::<Vec<_>>().join(", ")
                )),
                Err(e) => lines.push(format!(
                    "# (the grader's own programs {} could not be linked for you: {e}; `cargo grade --peer-path` tries again)",
                    repro.on_path.iter().cloned().collect::<Vec<_>>().join(", ")
                )),
            }
        }
        let partial = repro.partial().map(str::to_string);
        lines.extend(repro.lines);
        if !lines.is_empty() {
            if let Some(program) = partial {
                lines.push(format!(
                    "# partial: while `{program}` ran, the grader also acted on it itself (sent it signals, \
                     connected to it, or read and wrote as it ran), which no command here shows; \
                     the failure above says what it did"
                ));
            }
        }
        lines
    }

    /// Makes the grader's probe `name` callable by that name on the PATH of
    /// the programs this check runs (a link to the peers executable, which
    /// dispatches on its name), and returns its path. Only probes run
    /// this way: a partner started by a program under test refuses
    /// ([`crate::misuse`]).
    pub fn peer_on_path(&mut self, name: &str) -> Result<PathBuf, Fail> {
        self.reproduction.lock().unwrap_or_else(|e| e.into_inner()).on_path.insert(name.to_string());
        let link = self.bin_dir.join(name);
        if !link.exists() {
            let exe = &self.peers;
            std::fs::create_dir_all(&self.bin_dir).map_err(Fail::infra)?;
            std::os::unix::fs::symlink(exe, &link).map_err(Fail::infra)?;
        }
        Ok(link)
    }

    /// How each of `procs` uses the CPU over `window`: CPU time and how often
    /// it blocked, next to the CPU time a trusted busy loop (the engine's
    /// peer [`peer::SPIN`]) gets over the same window on the same machine. A
    /// program that ends during the window gives `None`. See [`CpuUse::verdict`].
    pub fn cpu_used(&mut self, procs: &mut [&mut Proc], window: Duration) -> Result<CpuUse, Fail> {
        let spin_ms = (window + Duration::from_millis(400)).as_millis().to_string();
        // Calibration, not part of what a person would do by hand.
        let mut spinner = self.peer(peer::SPIN)?.arg(spin_ms.as_str()).unshown().spawn()?;
        std::thread::sleep(Duration::from_millis(100));
        let sample = |p: &Proc| p.cpu_time().zip(proc::context_switches(p.pid()));
        let spin_before = spinner.cpu_time();
        let before: Vec<Option<(Duration, (u64, u64))>> = procs.iter().map(|p| sample(p)).collect();
        std::thread::sleep(window);
        let spin_after = spinner.cpu_time();
        let used = procs
            .iter_mut()
            .zip(before)
            .map(|(p, start)| match (start, sample(p), p.try_exit()) {
                (Some((cpu0, (vol0, inv0))), Some((cpu1, (vol1, inv1))), None) => Some(Usage {
                    cpu: cpu1.saturating_sub(cpu0),
                    blocked: vol1.saturating_sub(vol0),
                    preempted: inv1.saturating_sub(inv0),
                }),
                _ => None,
            })
            .collect();
        spinner.kill_group();
        let spinner = match (spin_before, spin_after) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => return Err(Fail::infra("the calibration spinner ended early")),
        };
        Ok(CpuUse { used, spinner, window })
    }

    /// Writes a file into the temporary directory.
    pub fn write_file(&self, name: &str, contents: &[u8]) -> Result<PathBuf, Fail> {
        let path = self.path(name);
        std::fs::write(&path, contents).map_err(Fail::infra)?;
        Ok(path)
    }

    /// Records that `running` ended: a program shown in the background gets
    /// a `wait` in the reproduction.
    fn finished(&self, running: &Proc) {
        self.reproduction.lock().unwrap_or_else(|e| e.into_inner()).finished(running.pid(), false);
    }

    /// Fails with a time-limit message if the deadline has passed.
    pub fn check_deadline(&self, doing: &str) -> Result<(), Fail> {
        if Instant::now() >= self.deadline {
            return Err(Fail::new(format!("time limit of {:.1}s reached while {doing}", self.limit.as_secs_f64()))
                .kind(Kind::Timeout));
        }
        Ok(())
    }
}

/// What [`Ctx::cpu_used`] measured.
#[derive(Debug, Clone)]
pub struct CpuUse {
    /// Each process over the window (`None`: it ended).
    pub used: Vec<Option<Usage>>,
    /// CPU time a busy loop got over the same window.
    pub spinner: Duration,
    pub window: Duration,
}

/// One process's use of the CPU over a window.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub cpu: Duration,
    /// Voluntary context switches: how often it blocked (slept, waited).
    pub blocked: u64,
    /// Involuntary context switches: how often it was preempted or yielded
    /// while still runnable.
    pub preempted: u64,
}

/// CPU time below which a process that sleeps is never blamed.
const CPU_FLOOR: Duration = Duration::from_millis(20);
/// Blocking fewer times than this in a window while running is busy
/// waiting: a correct waiter sleeps at least every few milliseconds, or
/// sleeps throughout (then it neither runs nor blocks).
const MIN_BLOCKS: u64 = 10;
/// "Running": this much CPU, or this many preemptions and yields. On a
/// loaded machine a busy loop that yields may get almost no CPU time, but it
/// is switched out hundreds of times a second.
const RUN_CPU: Duration = Duration::from_millis(5);
const RUN_SWITCHES: u64 = 20;

impl CpuUse {
    /// Whether a process waited without burning the CPU. It burns the CPU if
    /// it ran but never blocked (a busy loop, with or without sched_yield:
    /// this holds however loaded the machine is), or if it used more than
    /// `share` of what the busy loop got (and more than 20 ms). `Err` says
    /// which, in words for the report.
    pub fn verdict(&self, usage: Usage, share: f64) -> Result<(), String> {
        let window = self.window.as_secs_f64();
        let running = usage.cpu > RUN_CPU || usage.preempted > RUN_SWITCHES;
        if usage.blocked < MIN_BLOCKS && running {
            return Err(format!(
                "in {window:.1}s it ran ({:.3}s of CPU, switched out {} times while runnable) but blocked only {} \
                 times: it never sleeps",
                usage.cpu.as_secs_f64(),
                usage.preempted,
                usage.blocked
            ));
        }
        if usage.cpu <= CPU_FLOOR {
            return Ok(());
        }
        let limit = self.spinner.mul_f64(share).max(CPU_FLOOR);
        if usage.cpu > limit {
            return Err(format!(
                "it used {:.2}s of CPU in {window:.1}s, more than {:.0}% of the {:.2}s a busy loop got meanwhile",
                usage.cpu.as_secs_f64(),
                share * 100.0,
                self.spinner.as_secs_f64()
            ));
        }
        Ok(())
    }
}

/// A command being prepared, `std::process::Command`-like.
pub struct Cmd<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    /// The contract name, for programs under test.
    name: Option<String>,
    /// The peer's name, for the grader's own programs the check starts.
    peer: Option<String>,
    spec: Spec,
    stdin_desc: Option<String>,
    /// Shown after the command: where its stdout goes (`| wc -c`).
    stdout_desc: Option<String>,
    /// How each argument is shown, where not quoted as it is.
    shown_args: Vec<Option<String>>,
    timeout: Option<Duration>,
    /// Part of the reproduction (false for calibration the check does).
    shown: bool,
}

impl<'c, 'a> Cmd<'c, 'a> {
    /// A program under test (or a launcher), confined as one; [`Ctx::peer`]
    /// confines its peers otherwise. Either starts from an empty
    /// environment with only these variables: nothing of the grader's
    /// (tokens, paths, secrets) reaches it.
    fn new(ctx: &'c mut Ctx<'a>, program: PathBuf, name: Option<String>) -> Cmd<'c, 'a> {
        let mut env = vec![
            (OsString::from("PATH"), ctx.path_env.clone()),
            (OsString::from("LC_ALL"), OsString::from("C")),
            // A panic's message is what helps; a backtrace only buries it.
            (OsString::from("RUST_BACKTRACE"), OsString::from("0")),
            // Temporary files land in the check's own folder, removed after it.
            (OsString::from("TMPDIR"), ctx.dir.clone().into_os_string()),
            (OsString::from("HOME"), ctx.dir.clone().into_os_string()),
        ];
        if let Members::Tag(tag) = &ctx.members {
            env.push((OsString::from(proc::TAG_VAR), OsString::from(tag)));
        }
        let spec = Spec {
            program,
            arg0: None,
            args: Vec::new(),
            cwd: ctx.dir.clone(),
            env,
            stdin: Input::Null,
            output_cap: DEFAULT_OUTPUT_CAP,
            inherit_stderr: false,
            clear_env: true,
            confine: Some(ctx.program_confine.clone()),
        };
        Cmd {
            ctx,
            name,
            peer: None,
            spec,
            stdin_desc: None,
            stdout_desc: None,
            shown_args: Vec::new(),
            timeout: None,
            shown: true,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.spec.args.push(arg.as_ref().to_owned());
        self.shown_args.push(None);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    /// An argument too long to show (a 100 KiB TEXT), shown as the shell
    /// expression that makes the same bytes ([`numbers_text`]).
    pub fn arg_made(mut self, made: &Made) -> Self {
        self.spec.args.push(OsString::from(&made.text));
        self.shown_args.push(Some(format!("\"$({})\"", made.shell)));
        self
    }

    /// In the reproduction, stdout goes through `filter` (e.g. `wc -c`, or
    /// `cmp - input`): for output too large or too binary for a terminal.
    pub fn stdout_shown_through(mut self, filter: &str) -> Self {
        self.stdout_desc = Some(format!("| {filter}"));
        self
    }

    /// Feeds these bytes on stdin; the reproduction first writes a file
    /// `file` with `made_by` (a command whose output is like the bytes,
    /// e.g. `head -c 20971520 /dev/urandom`) and reads stdin from it.
    pub fn stdin_from_file(mut self, bytes: impl Into<Arc<Vec<u8>>>, file: &str, made_by: &str) -> Self {
        self.spec.stdin = Input::Bytes(bytes.into());
        self.ctx.shown(format!("{made_by} > {}", shell_quote(file)));
        self.stdin_desc = Some(format!("< {}", shell_quote(file)));
        self
    }

    /// Leaves this command out of the reproduction (calibration).
    fn unshown(mut self) -> Self {
        self.shown = false;
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.spec.env.push((key.into(), value.as_ref().to_owned()));
        self
    }

    /// Feeds these bytes on stdin, then end of file.
    pub fn stdin_bytes(mut self, bytes: impl Into<Arc<Vec<u8>>>) -> Self {
        let bytes = bytes.into();
        self.stdin_desc = Some(describe_input(&bytes));
        self.spec.stdin = Input::Bytes(bytes);
        self
    }

    /// Like [`Cmd::stdin_bytes`], but says how to make the input by hand in
    /// the reproduce command (for large generated input).
    pub fn stdin_generated(mut self, bytes: impl Into<Arc<Vec<u8>>>, how: &str) -> Self {
        self.spec.stdin = Input::Bytes(bytes.into());
        self.stdin_desc = Some(format!("{how} |"));
        self
    }

    /// Keeps stdin as a pipe the check writes through [`Proc::stdin`].
    pub fn stdin_pipe(mut self) -> Self {
        self.spec.stdin = Input::Pipe;
        self.stdin_desc = Some("(input typed by the check) |".into());
        self
    }

    /// Keeps stdin as a pipe the check holds open until it closes it
    /// ([`Proc::close_stdin`]); the reproduction shows `shown |` (a
    /// command that holds it open a while, as the check does: `sleep 1`).
    pub fn stdin_held(mut self, shown: &str) -> Self {
        self.spec.stdin = Input::Pipe;
        self.stdin_desc = Some(format!("{shown} |"));
        self
    }

    /// Keeps up to `cap` bytes of stdout and of stderr.
    pub fn output_cap(mut self, cap: usize) -> Self {
        self.spec.output_cap = cap;
        self
    }

    /// Waits at most this long in [`Cmd::run`] (never past the check's deadline).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The command as a person would type it, in any directory: a program
    /// under test by its path, a peer as `ipc-grader --peer NAME` (the
    /// grader's own executable, which the reproduction puts on `PATH`).
    fn display(&self) -> String {
        let mut words = match (&self.name, &self.peer) {
            (Some(_), _) => vec![shell_quote(&self.spec.program.to_string_lossy())],
            (None, Some(peer)) => vec![format!("{} --peer", peer::GRADER), shell_quote(peer)],
            (None, None) => vec![shell_quote(&self.spec.program.file_name().unwrap_or_default().to_string_lossy())],
        };
        words.extend(
            self.spec
                .args
                .iter()
                .zip(&self.shown_args)
                .map(|(a, shown)| shown.clone().unwrap_or_else(|| shown_arg(&a.to_string_lossy()))),
        );
        let mut cmd = words.join(" ");
        cmd = match &self.stdin_desc {
            Some(desc) if desc.ends_with('|') => format!("{desc} {cmd}"),
            Some(desc) => format!("{cmd} {desc}"),
            None => format!("{cmd} < /dev/null"),
        };
        if let Some(desc) = &self.stdout_desc {
            cmd = format!("{cmd} {desc}");
        }
        cmd
    }

    /// Starts the program and returns at once.
    pub fn spawn(self) -> Result<Proc, Fail> {
        let command = self.display();
        if let Some(name) = &self.name {
            if let Some(error) = self.ctx.programs.not_built(name) {
                return Err(Fail::new(format!("`{name}` did not compile, so this check could not run it"))
                    .kind(Kind::Missing)
                    .got(error.to_string())
                    .note(format!("fix the compiler's first error in `{name}`; the other programs were graded")));
            }
            if !self.spec.program.is_file() {
                return Err(Fail::new(format!("program `{name}` not found"))
                    .kind(Kind::Missing)
                    .expected(format!("an executable at {}", self.spec.program.display()))
                    .note("build it (cargo build), or check the folder given to --bin-dir"));
            }
        }
        let started = proc::spawn(&self.spec).map_err(|e| {
            let name = self.name.clone().unwrap_or_else(|| self.spec.program.display().to_string());
            Fail::new(format!("could not start `{name}`: {e}"))
                .kind(Kind::Missing)
                .command(&command)
                .note("is it an executable file (chmod +x) with a valid #! line or binary format?")
        })?;
        if self.shown {
            let mut repro = self.ctx.reproduction.lock().unwrap_or_else(|e| e.into_inner());
            if self.peer.is_some() {
                repro.on_path.insert(peer::GRADER.to_string());
            }
            let name = self.name.clone().unwrap_or_else(|| {
                self.spec.program.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            });
            repro.spawned(started.pid(), command.clone(), name);
        }
        self.ctx.spawned.push(started.pid());
        let mut started = started;
        started.command = command;
        Ok(started)
    }

    /// Runs the program to the end (or the time limit) and collects its output.
    pub fn run(self) -> Result<Done, Fail> {
        let waits = match self.timeout {
            Some(t) if self.ctx.within(t) < self.ctx.deadline => Waits::Timeout(t),
            _ => Waits::Check(self.ctx.limit),
        };
        let deadline = match waits {
            Waits::Timeout(t) => self.ctx.within(t),
            Waits::Check(_) => self.ctx.deadline,
        };
        let repro = self.ctx.reproduction.clone();
        let mut running = self.spawn()?;
        let done = finish(&mut running, deadline, waits);
        repro.lock().unwrap_or_else(|e| e.into_inner()).finished(running.pid(), true);
        done
    }
}

/// What a finished wait was bounded by, for the message of a time-out
/// (which states the limit once).
#[derive(Clone, Copy)]
enum Waits {
    /// The check's own time limit.
    Check(Duration),
    /// A shorter wait the check allows this command.
    Timeout(Duration),
}

impl Ctx<'_> {
    /// Waits for a program started with [`Cmd::spawn`] to end (killing it at
    /// the check's deadline) and collects its output.
    pub fn finish(&self, running: &mut Proc) -> Result<Done, Fail> {
        let done = finish(running, self.deadline, Waits::Check(self.limit));
        self.finished(running);
        done
    }

    /// Waits at most `limit` (never past the deadline) for a program that
    /// should end soon (after `after`, e.g. "the grader sent a message"); one
    /// still running then is killed, and fails as a time-out with its output
    /// so far.
    pub fn finish_within(&self, running: &mut Proc, limit: Duration, after: &str) -> Result<Done, Fail> {
        if running.wait_until(self.within(limit)).is_none() {
            running.kill_group();
            let drained = Instant::now() + Duration::from_millis(100);
            running.stdout.wait_eof(drained);
            running.stderr.wait_eof(drained);
            self.finished(running);
            let mut fail = Fail::new(format!("still running {:.1} s after {after}", limit.as_secs_f64()))
                .kind(Kind::Timeout)
                .output_so_far(running);
            fail.ended = Some(KILLED.into());
            return Err(fail);
        }
        self.finish(running)
    }
}

/// How a program the check stopped waiting for ended: the grader killed it.
const KILLED: &str = "still running when the time ran out; the grader then killed it";

/// Waits for a spawned program to end (or kills it at `deadline`) and
/// collects its output.
fn finish(running: &mut Proc, deadline: Instant, waits: Waits) -> Result<Done, Fail> {
    let start = running.started;
    let Some(exit) = running.wait_until(deadline) else {
        running.kill_group();
        // What was still in the pipes when it died belongs to "so far".
        let drained = Instant::now() + Duration::from_millis(100);
        running.stdout.wait_eof(drained);
        running.stderr.wait_eof(drained);
        let what = match waits {
            Waits::Check(limit) => {
                format!("did not finish within the check's time limit of {:.1} s", limit.as_secs_f64())
            }
            Waits::Timeout(t) => format!("did not finish within {:.1} s", t.as_secs_f64()),
        };
        let mut fail = Fail::new(what).kind(Kind::Timeout).output_so_far(running);
        fail.ended = Some(KILLED.into());
        return Err(fail);
    };
    let elapsed = start.elapsed();
    let grace = deadline.min(Instant::now() + EOF_GRACE).max(Instant::now() + Duration::from_millis(50));
    running.stdout.wait_eof(grace);
    running.stderr.wait_eof(grace);
    Ok(Done {
        command: running.command.clone(),
        exit,
        stdout: running.stdout.bytes(),
        stdout_total: running.stdout.total(),
        stderr: running.stderr.bytes(),
        stderr_total: running.stderr.total(),
        elapsed,
    })
}

fn describe_input(bytes: &[u8]) -> String {
    if bytes.len() <= 200 {
        format!("printf {} |", printf_format(bytes))
    } else {
        format!("({} bytes of input) |", bytes.len())
    }
}

/// A `printf` format (quoted for the shell) that prints exactly `bytes`, on
/// one line whatever they hold: `'end of file\n'`.
pub fn printf_format(bytes: &[u8]) -> String {
    let mut s = String::from("'");
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'%' => s.push_str("%%"),
            b'\'' => s.push_str("'\\''"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\{b:03o}")),
        }
    }
    s.push('\'');
    s
}

/// Text made by a shell command as well as by the check, so that a
/// reproduction can make the same bytes: see [`numbers_text`].
#[derive(Debug, Clone)]
pub struct Made {
    pub text: String,
    /// The command that prints `text` (no trailing newline).
    pub shell: String,
}

/// `len` bytes of the numbers from 1 up, separated by spaces (`1 2 3 ...`),
/// as `seq -s ' ' N | head -c LEN` prints them: no byte pattern repeats, so
/// a lost, doubled or reordered chunk shows.
pub fn numbers_text(len: usize) -> Made {
    let mut text = String::new();
    let mut n = 0u64;
    while text.len() < len {
        n += 1;
        if n > 1 {
            text.push(' ');
        }
        text.push_str(&n.to_string());
    }
    text.truncate(len);
    Made { text, shell: format!("seq -s ' ' {n} | head -c {len}") }
}

/// An argument as the command shown in reports prints it: quoted for a
/// shell, or, when it is huge, only its size (a check that wants such an
/// argument reproducible gives it with [`Cmd::arg_made`]).
fn shown_arg(arg: &str) -> String {
    const MAX: usize = 200;
    if arg.len() > MAX {
        return format!("ARG ({} bytes)", arg.len());
    }
    shell_quote(arg)
}

/// The entries of the grader's PATH that a program under test may search:
/// its user may enter them (checked with the effective ids, which are the
/// check's while the check is set up), and, under Landlock, the sandbox
/// lets it read them (the system's folders: `sandbox::rules::system`). A
/// directory it cannot enter makes `execvp` fail with EACCES instead of
/// ENOENT for a missing program, which would blame a correct program for
/// the environment (root's PATH with `/root/.cargo/bin` in it).
fn searchable_path() -> Vec<OsString> {
    use std::os::unix::ffi::OsStrExt;
    let Some(path) = std::env::var_os("PATH") else {
        return vec!["/usr/local/bin".into(), "/usr/bin".into(), "/bin".into()];
    };
    let landlock = crate::sandbox::support().landlock.is_some();
    let readable: Vec<PathBuf> = crate::sandbox::rules::system().into_iter().map(|(p, _)| p).collect();
    let searchable = |entry: &Path| {
        nix::unistd::faccessat(
            nix::fcntl::AT_FDCWD,
            entry,
            nix::unistd::AccessFlags::X_OK,
            nix::fcntl::AtFlags::AT_EACCESS,
        )
        .is_ok()
    };
    path.as_bytes()
        .split(|&b| b == b':')
        .filter(|entry| !entry.is_empty())
        .map(|entry| PathBuf::from(OsStr::from_bytes(entry)))
        .filter(|entry| searchable(entry) && (!landlock || readable.iter().any(|r| entry.starts_with(r))))
        .map(PathBuf::into_os_string)
        .collect()
}

/// The steps that reproduce a check by hand, as they happen.
#[derive(Debug, Default)]
struct Reproduction {
    lines: Vec<String>,
    /// Programs started and not yet waited for: pid, their line, whether
    /// they are shown in the background, and their name.
    running: Vec<(Pid, usize, bool, String)>,
    /// The grader's own programs the commands call by name.
    on_path: BTreeSet<String>,
    /// Programs the check waited for after doing things with them that no
    /// step shows (it started them, then, before any other step, signalled
    /// them, talked to them or read them as they ran).
    unshown: Vec<String>,
}

impl Reproduction {
    /// A step; programs still running go to the background.
    fn step(&mut self, line: String) {
        for (_, at, background, _) in &mut self.running {
            if !*background {
                self.lines[*at].push_str(" &");
                *background = true;
            }
        }
        self.lines.push(line);
    }

    /// A program the check acted on in ways no step shows: one it waited
    /// for with no step between its start and its end, or one still in the
    /// foreground when the check ended (the check talked to it, then
    /// stopped it).
    fn partial(&self) -> Option<&str> {
        let foreground = self.running.iter().find(|(_, _, background, _)| !background).map(|r| &r.3);
        self.unshown.first().or(foreground).map(String::as_str)
    }

    fn spawned(&mut self, pid: Pid, line: String, name: String) {
        self.step(line);
        self.running.push((pid, self.lines.len() - 1, false, name));
    }

    /// A program that ended (or was stopped): one in the background is
    /// waited for. `at_once`: the check only waited for it (`Cmd::run`);
    /// otherwise, with no step since its start, what the check did with it
    /// meanwhile is not shown.
    fn finished(&mut self, pid: Pid, at_once: bool) {
        if let Some(i) = self.running.iter().position(|(p, ..)| *p == pid) {
            let (_, _, background, name) = self.running.remove(i);
            if background {
                self.lines.push("wait".into());
            } else if !at_once {
                self.unshown.push(name);
            }
        }
    }
}

/// Adds steps to a check's reproduction (see [`Ctx::shown_later`]).
#[derive(Clone)]
pub struct Shown(Arc<Mutex<Reproduction>>);

impl Shown {
    pub fn step(&self, command: impl Into<String>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).step(command.into());
    }

    /// As [`Ctx::shown_peer`].
    pub fn peer(&self, name: &str, args: &str) {
        let mut repro = self.0.lock().unwrap_or_else(|e| e.into_inner());
        repro.on_path.insert(peer::GRADER.to_string());
        repro.step(format!("{} --peer {} {args}", peer::GRADER, shell_quote(name)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `sh -c script` prints (through the reaper, as every spawn here).
    fn sh(script: &str) -> Vec<u8> {
        let out = proc::output(Spec::new("sh", ["-c", script], "/"), Duration::from_secs(10)).unwrap();
        assert_eq!(out.exit, Some(proc::Exit::Code(0)), "{script}");
        out.stdout
    }

    /// A printf format reproduces newlines, quotes, percent signs and
    /// bytes that are not text, on one line.
    #[test]
    fn printf_format_is_one_line_and_exact() {
        let bytes = b"end of file\n'%s' \\ \x00\xff";
        let format = printf_format(bytes);
        assert!(!format.contains('\n'), "{format}");
        assert_eq!(sh(&format!("printf {format}")), bytes);
    }

    /// The numbers text is what `seq -s ' ' N | head -c LEN` prints.
    #[test]
    fn numbers_text_matches_its_shell_command() {
        for len in [1, 10, 5000] {
            let made = numbers_text(len);
            assert_eq!(made.text.len(), len);
            assert_eq!(String::from_utf8(sh(&made.shell)).unwrap(), made.text, "{}", made.shell);
        }
    }

    /// A program left running while the check does something else is shown
    /// in the background, and waited for when it ends; one run to its end
    /// stays in the foreground.
    #[test]
    fn programs_still_running_go_to_the_background() {
        let mut r = Reproduction::default();
        r.spawned(Pid::from_raw(1), "mq-recv /q".into(), "mq-recv".into());
        r.step("sleep 0.5".into());
        r.step("ipc-grader --peer ipc-mq send /q 0 hi".into());
        r.finished(Pid::from_raw(1), false);
        r.spawned(Pid::from_raw(2), "mq-recv /q".into(), "mq-recv".into());
        r.finished(Pid::from_raw(2), true);
        assert_eq!(
            r.lines,
            ["mq-recv /q &", "sleep 0.5", "ipc-grader --peer ipc-mq send /q 0 hi", "wait", "mq-recv /q"]
        );
        assert!(r.unshown.is_empty(), "every step was shown: {:?}", r.unshown);
    }

    /// A program the check did something with, between its start and its
    /// end, that no step shows (signals, say), or left running when it
    /// ended, makes the reproduction say it is partial, naming it.
    #[test]
    fn what_the_check_did_unseen_is_said() {
        let mut r = Reproduction::default();
        r.spawned(Pid::from_raw(1), "sig-counter".into(), "sig-counter".into());
        r.finished(Pid::from_raw(1), false);
        assert_eq!(r.partial(), Some("sig-counter"));
        let mut r = Reproduction::default();
        r.spawned(Pid::from_raw(1), "tcp-server 0".into(), "tcp-server".into());
        assert_eq!(r.partial(), Some("tcp-server"));
        let mut r = Reproduction::default();
        r.spawned(Pid::from_raw(1), "pipe-message hi".into(), "pipe-message".into());
        r.finished(Pid::from_raw(1), true);
        assert_eq!(r.partial(), None);
    }
}
