//! The sandbox of student code: what a program under test, a peer and a
//! build of a submission may do, and what the machine offers to confine
//! them.
//!
//! Every process the grader starts gets the same base (`proc::guard`): its
//! own process group, default signals, descriptors 0-2 only, a cleared
//! environment plus an allowlist, and the seccomp filter ([`filter`]:
//! no `kill(-1)`, no `ptrace`, no new user namespace). On top of it, where
//! the machine allows:
//!
//! - **Separate users** ([`identity`], when the grader is root): each check
//!   runs under a user id of its own, leased from a range no other process
//!   uses, and a build under another; they share one group per grading
//!   run. A check's processes are tracked by that user id, which they
//!   cannot change.
//! - **Landlock** ([`rules`]): a program under test reads the system's
//!   files, its own executable and the peers executable, and writes only
//!   its check's folder and `/dev/shm`; it cannot signal, or connect to an
//!   abstract socket of, any process outside its own sandbox (ABI 6). A
//!   build reads the toolchain, the dependencies and its sources, and
//!   writes only its own folder.
//! - **Private IPC** ([`namespace`], when the grader may create
//!   namespaces): each check gets an IPC namespace and a `/dev/shm` and
//!   `/dev/mqueue` of its own, made for the grading thread that runs it
//!   and inherited by everything it starts; they disappear with it.
//!
//! [`support`] says which of these this machine has; [`missing`] says, in
//! sentences for every report, what a grading here goes without.
//!
//! Peers (the grader's own partners) run under the check's user id and the
//! filter, without Landlock: they are trusted, and a program under test
//! can neither trace nor signal them.

use std::ffi::CString;
use std::sync::OnceLock;

pub mod build;
mod files;
pub mod filter;
pub mod identity;
pub mod namespace;
pub mod rules;

pub use files::{copy_folder, peers_for_checks, reachable_by_others};
pub use identity::Lease;
pub use rules::Rules;

/// What one process the grader starts gets on top of the base every
/// process gets (`proc::guard`).
#[derive(Debug, Clone, Default)]
pub struct Confine {
    /// Runs as this user id in this group, with no other group (root only).
    pub user: Option<(u32, u32)>,
    /// Held to this Landlock ruleset.
    pub rules: Option<Rules>,
    /// In a mount namespace of its own, these mounts, in order (where the
    /// grader may make namespaces): a build's view of its folder and the
    /// toolchain (`sandbox::build`).
    pub mounts: Vec<Mount>,
    /// Starts with this umask.
    pub umask: Option<u32>,
}

/// One step of a process's own view of the files.
#[derive(Debug, Clone)]
pub enum Mount {
    /// An empty tmpfs (mode 1777) on this folder.
    Tmpfs(CString),
    /// A new folder (mode 0755).
    Folder(CString),
    /// `source` bound on `target`, read-only if said. Every source is
    /// opened before the first step, so a tmpfs may then cover its path.
    Bind { source: CString, target: CString, read_only: bool },
}

/// What this machine offers to confine student code.
#[derive(Debug, Clone)]
pub struct Support {
    /// The grader runs as root and may change user ids: checks and builds
    /// run under user ids of their own.
    pub users: bool,
    /// The Landlock ABI version of the kernel (`None`: no Landlock).
    pub landlock: Option<u32>,
    /// Checks get a private IPC namespace, `/dev/shm` and `/dev/mqueue`.
    pub namespaces: bool,
    /// The seccomp filter can be installed.
    pub seccomp: bool,
    /// Landlock is there but left off: without a private namespace, only a
    /// mount on /dev/mqueue could grant programs their message queues.
    pub no_queue_mount: bool,
}

/// The Landlock ABI that scopes signals and abstract Unix sockets.
pub const LANDLOCK_SCOPES: u32 = 6;

/// What this machine offers, found once (a few system calls and one short
/// child process), less what [`WITHOUT_VAR`] turns off.
pub fn support() -> &'static Support {
    static SUPPORT: OnceLock<Support> = OnceLock::new();
    SUPPORT.get_or_init(|| {
        let without = std::env::var(WITHOUT_VAR).unwrap_or_default();
        let off = |part: &str| without.split(',').any(|p| p.trim() == part);
        let namespaces = !off("namespaces") && namespace::available();
        let landlock = if off("landlock") { None } else { rules::abi() };
        let no_queue_mount = landlock.is_some() && !namespaces && !namespace::queues_mounted();
        Support {
            users: !off("users") && identity::available(),
            landlock: landlock.filter(|_| !no_queue_mount),
            namespaces,
            seccomp: filter::works(),
            no_queue_mount,
        }
    })
}

/// In the grader's environment, a comma-separated list of protections to
/// go without, as on a machine that lacks them (`users`, `landlock`,
/// `namespaces`): for the tests that show each defence failing without
/// it. Every report then says what is missing. (Only whoever starts the
/// grader sets its environment; programs under test get a cleared one.)
pub const WITHOUT_VAR: &str = "IPC_GRADER_WITHOUT";

/// What a grading on this machine goes without, one sentence each, for
/// the first line of every report; empty when nothing is missing.
///
/// Separate users matter only where nothing else stands in for them:
/// Landlock (files, signals, abstract sockets) and private namespaces
/// (IPC, and tracking a check's processes by where they are) do.
pub fn missing() -> Vec<String> {
    let s = support();
    let mut missing = Vec::new();
    match s.landlock {
        None if s.no_queue_mount => missing.push(
            "Landlock left off: it would shut programs under test out of their message queues, which need \
             /dev/mqueue mounted here (as root: mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue)"
                .to_string(),
        ),
        None => missing.push(
            "no Landlock in this kernel (Linux 5.13 or later has it): programs under test can read and write \
             every file this user can"
                .to_string(),
        ),
        Some(abi) if abi < LANDLOCK_SCOPES && !s.users => missing.push(format!(
            "Landlock ABI {abi} (Linux 6.12 gives 6): programs under test may signal this user's other processes"
        )),
        Some(_) => {}
    }
    if !s.namespaces {
        missing.push(
            "no private IPC namespace (this kernel or a security module refuses the grader namespaces): programs \
             under test share shared memory, message queues and System V segments with this user's programs"
                .to_string(),
        );
        if !s.users {
            missing.push(
                "no separate user for programs under test: their processes are tracked by an environment variable \
                 they could change"
                    .to_string(),
            );
        }
    }
    if !s.seccomp {
        missing.push("no seccomp filter: programs under test may kill(-1) and ptrace".to_string());
    }
    missing
}

/// What confines programs under test here, in one sentence (the batch
/// overview's facts): the protections in force, then what is missing.
pub fn summary() -> String {
    let s = support();
    let mut have = Vec::new();
    if s.users {
        have.push("a user id of their own per check".to_string());
    }
    if let Some(abi) = s.landlock {
        have.push(format!("Landlock ABI {abi}"));
    }
    if s.namespaces {
        have.push("private IPC and mount namespaces".to_string());
    }
    if s.seccomp {
        have.push("a seccomp filter".to_string());
    }
    let have = match have.is_empty() {
        true => "nothing confines programs under test".to_string(),
        false => format!("programs under test run with {}", have.join(", ")),
    };
    match headline() {
        Some(line) => format!("{have}. {line}"),
        None => format!("{have}: complete."),
    }
}

/// One line for a report's top: what confines programs here, or, when
/// something is missing, what.
pub fn headline() -> Option<String> {
    let missing = missing();
    (!missing.is_empty()).then(|| format!("Sandbox incomplete on this machine: {}.", missing.join("; ")))
}
