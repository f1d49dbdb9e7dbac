//! Landlock rulesets: which files student code may read, run and write.
//!
//! A ruleset is made in the grader (opening each path it grants) and
//! applied in the child between fork and exec (`landlock_restrict_self`
//! on its descriptor): the child and everything it starts are then held
//! to it for good. Everything not granted is denied: the grader's own
//! files, the rubric, the results, home folders, other checks' folders.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use landlock::{
    ABI, Access, AccessFs, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, Scope,
};

/// The rights the rulesets are written in (the kernel may know fewer:
/// Landlock's best effort drops what it does not know, and [`abi`] says
/// what it knows).
const WRITTEN_FOR: ABI = ABI::V6;

/// The kernel's Landlock ABI version, `None` without Landlock.
pub fn abi() -> Option<u32> {
    // SAFETY: landlock_create_ruleset(NULL, 0, VERSION) reads no memory and
    // returns the ABI version (or -1): no descriptor is made.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32, // LANDLOCK_CREATE_RULESET_VERSION
        )
    };
    (version > 0).then_some(version as u32)
}

/// What a grant allows under a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Read files and folders, run programs.
    Read,
    /// Read and write the files there (a device like /dev/null), nothing else.
    ReadWriteFiles,
    /// Everything: make, remove, rename, write, read, run.
    All,
}

impl Grant {
    fn access(self) -> BitFlags<AccessFs> {
        match self {
            Grant::Read => AccessFs::from_read(WRITTEN_FOR),
            Grant::ReadWriteFiles => AccessFs::from_file(WRITTEN_FOR),
            Grant::All => AccessFs::from_all(WRITTEN_FOR),
        }
    }
}

/// A ruleset made, ready to apply in a child; cheap to clone.
#[derive(Debug, Clone)]
pub struct Rules {
    fd: Arc<OwnedFd>,
}

impl Rules {
    /// A ruleset that grants `grants` (paths that do not exist are left
    /// out) and, if `scoped`, keeps its processes from signalling, or
    /// connecting to an abstract Unix socket of, any process outside their
    /// own sandbox. `Ok(None)` without Landlock.
    pub fn new(grants: &[(PathBuf, Grant)], scoped: bool) -> std::io::Result<Option<Rules>> {
        let roots: Vec<(Root, Grant)> = grants.iter().map(|(p, g)| (Root::Path(p.clone()), *g)).collect();
        Rules::with_roots(&roots, scoped)
    }

    /// As [`Rules::new`], with grants on folders already open too.
    pub fn with_roots(grants: &[(Root, Grant)], scoped: bool) -> std::io::Result<Option<Rules>> {
        if super::support().landlock.is_none() {
            return Ok(None);
        }
        let error = |e: landlock::RulesetError| std::io::Error::other(format!("Landlock: {e}"));
        let mut ruleset = Ruleset::default()
            .set_compatibility(CompatLevel::BestEffort)
            .handle_access(AccessFs::from_all(WRITTEN_FOR))
            .map_err(error)?;
        if scoped {
            ruleset = ruleset.scope(Scope::AbstractUnixSocket | Scope::Signal).map_err(error)?;
        }
        let mut created = ruleset.create().map_err(error)?;
        for (root, grant) in grants {
            let mut access = grant.access();
            match root {
                Root::Path(path) => {
                    let Ok(meta) = std::fs::metadata(path) else { continue };
                    if !meta.is_dir() {
                        access &= AccessFs::from_file(WRITTEN_FOR);
                    }
                    let fd =
                        PathFd::new(path).map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
                    created = created.add_rule(PathBeneath::new(fd, access)).map_err(error)?;
                }
                Root::Fd(fd) => created = created.add_rule(PathBeneath::new(*fd, access)).map_err(error)?,
            }
        }
        let fd: Option<OwnedFd> = created.into();
        Ok(fd.map(|fd| Rules { fd: Arc::new(fd) }))
    }

    /// The ruleset's descriptor, for `landlock_restrict_self` in a child.
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// What every sandboxed program may read and run: the system's programs,
/// libraries and configuration, and /proc and /sys (a program's view of
/// itself and of the machine; another process's private files there stay
/// closed by the kernel's own checks, which Landlock tightens to the
/// program's own sandbox).
const SYSTEM: &[&str] =
    &["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/nix/store", "/proc", "/sys"];

/// Devices every sandboxed program may read and write.
const DEVICES: &[&str] = &["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"];

/// The grants of the system and its devices.
pub fn system() -> Vec<(PathBuf, Grant)> {
    let mut grants: Vec<(PathBuf, Grant)> = SYSTEM.iter().map(|p| (PathBuf::from(p), Grant::Read)).collect();
    grants.extend(DEVICES.iter().map(|p| (PathBuf::from(p), Grant::ReadWriteFiles)));
    grants
}

/// The ruleset of a check's programs under test: the system, the
/// programs themselves (`programs`: files, or the folders given with
/// `--bin-dir`) and the peers executable (`peers`) to read and run, and
/// its folder, `/dev/shm` and the message queues to use as they like.
///
/// Message queues are files of the IPC namespace's own mqueue file
/// system, which Landlock checks like any other: they are granted through
/// the root of that file system, `queues` (a check's private one) or its
/// mount on `/dev/mqueue`.
pub fn for_programs(
    check_dir: &Path,
    programs: &[PathBuf],
    peers: &Path,
    queues: Option<&OwnedFd>,
) -> std::io::Result<Option<Rules>> {
    let mut grants: Vec<(Root, Grant)> = system().into_iter().map(|(p, g)| (Root::Path(p), g)).collect();
    grants.extend(programs.iter().map(|p| (Root::Path(p.clone()), Grant::Read)));
    grants.push((Root::Path(peers.to_owned()), Grant::Read));
    grants.push((Root::Path(check_dir.to_owned()), Grant::All));
    grants.push((Root::Path(PathBuf::from("/dev/shm")), Grant::All));
    grants.push(match queues {
        Some(fd) => (Root::Fd(fd), Grant::All),
        None => (Root::Path(PathBuf::from("/dev/mqueue")), Grant::All),
    });
    Rules::with_roots(&grants, true)
}

/// Where a grant applies: a path, or a folder already open.
pub enum Root<'f> {
    Path(PathBuf),
    Fd(&'f OwnedFd),
}
