//! A check's world: its temporary directory, its IPC names, its deadline,
//! and the way it starts programs.
//!
//! The context is here; `cmd.rs` builds and starts a command, `wait.rs`
//! waits for it to end, `cpu.rs` measures how a waiting program uses the
//! CPU, and `reproduction.rs` records the commands that reproduce a check
//! by hand.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::build::Programs;
use crate::check::{Fail, Kind};
use crate::peer;
use crate::proc::Members;
use crate::sandbox::{Confine, Rules};

mod cmd;
mod cpu;
mod reproduction;
mod wait;

pub use cmd::Cmd;
pub use cpu::{CpuUse, Usage};
use reproduction::Reproduction;
pub use reproduction::{Made, Shown, numbers_text, printf_format};

/// Bytes of stdout and of stderr kept per program unless a check asks for more.
pub const DEFAULT_OUTPUT_CAP: usize = 1 << 20;

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
