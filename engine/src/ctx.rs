//! A check's world: its temporary directory, its IPC names, its deadline,
//! and the way it starts programs.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::build::Programs;
use crate::check::{Done, Fail, Kind};
use crate::peer;
use crate::proc::{self, Input, Proc, Spec};
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
    /// Commands run so far, as a person would type them (for `--verbose`).
    pub(crate) log: Vec<String>,
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
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        dir: PathBuf,
        tag: String,
        ipc_prefix: String,
        programs: &'a Programs,
        limit: Duration,
    ) -> Ctx<'a> {
        let bin_dir = dir.join(".bin");
        let mut path = OsString::from(&bin_dir);
        for entry in searchable_path() {
            path.push(":");
            path.push(entry);
        }
        Ctx {
            sysv: crate::sysv::CheckSegments::start(&tag),
            dir,
            bin_dir,
            tag,
            ipc_prefix,
            programs,
            deadline: Instant::now() + limit,
            limit,
            log: Vec::new(),
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

    /// The environment tag of this check's processes.
    pub fn tag(&self) -> &str {
        &self.tag
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

    /// Where the program under test `name` is (it may not exist), e.g. for
    /// a peer that execs it.
    pub fn program_path(&self, name: &str) -> PathBuf {
        self.programs.path(name)
    }

    /// One of the grader's own trusted programs (a peer or probe), by name,
    /// started by the check itself: the grader's executable with `argv[0]`
    /// set to the name, and the token that lets a partner run.
    pub fn peer(&mut self, name: &str) -> Result<Cmd<'_, 'a>, Fail> {
        let exe = std::env::current_exe().map_err(Fail::infra)?;
        let mut cmd = Cmd::new(self, exe, None);
        cmd.spec.arg0 = Some(name.into());
        cmd.spec.env.push((peer::TOKEN_VAR.into(), crate::misuse::issue().into()));
        cmd.peer = Some(name.to_string());
        Ok(cmd)
    }

    /// Makes the grader's probe `name` callable by that name on the PATH of
    /// the programs this check runs (a link to the grader's own executable,
    /// which dispatches on its name), and returns its path. Only probes run
    /// this way: a partner started by a program under test refuses
    /// ([`crate::misuse`]).
    pub fn peer_on_path(&mut self, name: &str) -> Result<PathBuf, Fail> {
        let link = self.bin_dir.join(name);
        if !link.exists() {
            let exe = std::env::current_exe().map_err(Fail::infra)?;
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
        let mut spinner = self.peer(peer::SPIN)?.arg(spin_ms.as_str()).spawn()?;
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
    timeout: Option<Duration>,
}

impl<'c, 'a> Cmd<'c, 'a> {
    fn new(ctx: &'c mut Ctx<'a>, program: PathBuf, name: Option<String>) -> Cmd<'c, 'a> {
        let env = vec![
            (OsString::from(proc::TAG_VAR), OsString::from(&ctx.tag)),
            (OsString::from("PATH"), ctx.path_env.clone()),
            (OsString::from("LC_ALL"), OsString::from("C")),
            // A panic's message is what helps; a backtrace only buries it.
            (OsString::from("RUST_BACKTRACE"), OsString::from("0")),
            // Temporary files land in the check's own folder, removed after it.
            (OsString::from("TMPDIR"), ctx.dir.clone().into_os_string()),
        ];
        let spec = Spec {
            program,
            arg0: None,
            args: Vec::new(),
            cwd: ctx.dir.clone(),
            env,
            stdin: Input::Null,
            output_cap: DEFAULT_OUTPUT_CAP,
            inherit_stderr: false,
        };
        Cmd { ctx, name, peer: None, spec, stdin_desc: None, timeout: None }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.spec.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        self.spec.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
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

    /// The command as a person would type it.
    fn display(&self) -> String {
        let mut words = match (&self.name, &self.peer) {
            (Some(_), _) => vec![shell_quote(&self.spec.program.to_string_lossy())],
            // How a person runs a peer by hand, from the repository.
            (None, Some(peer)) => vec!["cargo grade --peer".to_string(), shell_quote(peer)],
            (None, None) => vec![shell_quote(&self.spec.program.file_name().unwrap_or_default().to_string_lossy())],
        };
        words.extend(self.spec.args.iter().map(|a| shown_arg(&a.to_string_lossy())));
        let cmd = words.join(" ");
        match &self.stdin_desc {
            Some(desc) if desc.ends_with('|') => format!("{desc} {cmd}"),
            Some(desc) => format!("{cmd} {desc}"),
            None => format!("{cmd} < /dev/null"),
        }
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
        self.ctx.log.push(command.clone());
        self.ctx.spawned.push(started.pid());
        let mut started = started;
        started.command = command;
        Ok(started)
    }

    /// Runs the program to the end (or the time limit) and collects its output.
    pub fn run(self) -> Result<Done, Fail> {
        let deadline = match self.timeout {
            Some(t) => self.ctx.within(t),
            None => self.ctx.deadline,
        };
        let limit = self.ctx.limit;
        let mut running = self.spawn()?;
        finish(&mut running, deadline, limit)
    }
}

impl Ctx<'_> {
    /// Waits for a program started with [`Cmd::spawn`] to end (killing it at
    /// the check's deadline) and collects its output.
    pub fn finish(&self, running: &mut Proc) -> Result<Done, Fail> {
        finish(running, self.deadline, self.limit)
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
            return Err(Fail::new(format!("still running {:.1}s after {after}", limit.as_secs_f64()))
                .kind(Kind::Timeout)
                .output_so_far(running));
        }
        self.finish(running)
    }
}

/// Waits for a spawned program to end (or kills it at `deadline`) and
/// collects its output.
fn finish(running: &mut Proc, deadline: Instant, limit: Duration) -> Result<Done, Fail> {
    let start = running.started;
    let Some(exit) = running.wait_until(deadline) else {
        running.kill_group();
        // What was still in the pipes when it died belongs to "so far".
        let drained = Instant::now() + Duration::from_millis(100);
        running.stdout.wait_eof(drained);
        running.stderr.wait_eof(drained);
        let waited = start.elapsed().as_secs_f64();
        let fail = if waited + 0.05 >= limit.as_secs_f64() {
            Fail::new(format!("did not finish within the check's time limit ({:.1}s)", limit.as_secs_f64()))
        } else {
            Fail::new(format!("did not finish within {waited:.1}s"))
        };
        return Err(fail.kind(Kind::Timeout).output_so_far(running));
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
    match std::str::from_utf8(bytes) {
        Ok(text) if bytes.len() <= 200 && !text.contains('\0') => format!("printf '%s' {} |", shell_quote(text)),
        _ => format!("({} bytes of input) |", bytes.len()),
    }
}

/// An argument as the command shown in reports prints it: quoted for a
/// shell, or, when it is huge (a 100 KiB TEXT), only its size.
fn shown_arg(arg: &str) -> String {
    const MAX: usize = 200;
    if arg.len() > MAX {
        return format!("ARG ({} bytes)", arg.len());
    }
    shell_quote(arg)
}

/// The entries of the grader's PATH that this user may search. A directory
/// the user cannot enter makes `execvp` fail with EACCES instead of ENOENT
/// for a missing program, which would blame a correct program for the
/// environment (a grader run by `su nobody` keeping root's PATH).
fn searchable_path() -> Vec<OsString> {
    use std::os::unix::ffi::OsStrExt;
    let Some(path) = std::env::var_os("PATH") else {
        return vec!["/usr/local/bin".into(), "/usr/bin".into(), "/bin".into()];
    };
    path.as_bytes()
        .split(|&b| b == b':')
        .filter(|entry| !entry.is_empty())
        .map(|entry| OsStr::from_bytes(entry).to_owned())
        .filter(|entry| nix::unistd::access(Path::new(entry), nix::unistd::AccessFlags::X_OK).is_ok())
        .collect()
}
