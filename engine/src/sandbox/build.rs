//! The sandbox of a submission's build: cargo, its build scripts, proc
//! macros and the linker are student code too.
//!
//! A build runs in a folder of its own (`work`): the workspace to build
//! (`work/ws`), its target folder, a `CARGO_HOME` and a temporary folder.
//! Under Landlock it reads the system, the toolchain and the downloaded
//! dependencies, and writes only `work`; where the grader is root it runs
//! under a user id of its own (a lease), which owns `work` and nothing
//! else. It gets no variable of the grader's environment, and it finds
//! the toolchain by the path given here, never through rustup (which would
//! read a `rust-toolchain.toml` of the submission's).
//!
//! Where the grader may make namespaces, the build sees its folder at one
//! path whatever it is ([`SEEN_AT`]: a target folder made by one build is
//! fresh for the next), with the toolchain and the registry bound in it
//! read-only (also where its user could not reach them: root's home).

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::rules::{Grant, Rules};
use super::{Confine, Mount, identity};

/// How to run cargo confined, for one build in `work`.
pub struct BuildSandbox {
    /// The cargo to run (a path in the build's view).
    pub cargo: PathBuf,
    /// Its whole environment.
    pub env: Vec<(OsString, OsString)>,
    pub confine: Arc<Confine>,
    /// The build's user, while it builds (root only).
    pub lease: Option<identity::Lease>,
    /// Where the build sees `work`, if not at its own path: paths cargo
    /// reports are translated back ([`BuildSandbox::outside`]).
    pub seen_at: Option<PathBuf>,
    /// Where `work` really is.
    pub work: PathBuf,
}

impl BuildSandbox {
    /// A path as the build reported it, as the grader finds it.
    pub fn outside(&self, path: &Path) -> PathBuf {
        match self.seen_at.as_ref().and_then(|inside| path.strip_prefix(inside).ok()) {
            Some(rest) => self.work.join(rest),
            None => path.to_owned(),
        }
    }
}

/// Where a build sees its folder when it has a mount namespace of its own:
/// the same path for every build, so that a target folder made by one
/// (the dependencies, compiled once) is fresh for the next. Under `/tmp`,
/// which the build sees as an empty tmpfs of its own.
pub const SEEN_AT: &str = "/tmp/ipc-build";

/// The toolchain the grader itself was built with: its sysroot (`rustc
/// --print sysroot`, asked once, in the grader's own workspace).
pub fn sysroot() -> std::io::Result<PathBuf> {
    static SYSROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    SYSROOT
        .get_or_init(|| {
            let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
            let spec = crate::proc::Spec::new(&rustc, ["--print", "sysroot"], crate::build::workspace_root());
            let out = crate::proc::output(spec, std::time::Duration::from_secs(60))
                .map_err(|e| format!("cannot run {}: {e}", rustc.to_string_lossy()))?;
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.exit != Some(crate::proc::Exit::Code(0)) || text.is_empty() {
                return Err(format!("rustc --print sysroot failed: {}", String::from_utf8_lossy(&out.stderr)));
            }
            Ok(PathBuf::from(text))
        })
        .clone()
        .map_err(std::io::Error::other)
}

/// The registry of downloaded crates (`$CARGO_HOME/registry`).
fn registry() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root")).join(".cargo")
    });
    home.join("registry")
}

/// The layout of a build's folder.
pub struct Work {
    pub root: PathBuf,
}

impl Work {
    pub fn workspace(&self) -> PathBuf {
        self.root.join("ws")
    }
    pub fn target(&self) -> PathBuf {
        self.root.join("target")
    }
    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }
    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }
    pub fn toolchain(&self) -> PathBuf {
        self.root.join("toolchain")
    }
}

/// Prepares `work` (its folders, given to the build's user) and the way to
/// run cargo in it. The workspace (`work/ws`) must be there already.
///
/// Where the grader may make namespaces, the build gets a mount namespace
/// of its own: an empty `/tmp`, its folder at [`SEEN_AT`], and the
/// toolchain and the registry bound read-only inside it. Elsewhere it
/// uses them where they are, which its user must be able to read.
pub fn prepare(work: &Work, color: bool) -> std::io::Result<BuildSandbox> {
    let sysroot = sysroot()?;
    let registry = registry();
    for dir in [work.target(), work.home(), work.tmp(), work.toolchain()] {
        std::fs::create_dir_all(dir)?;
    }
    let support = super::support();
    let lease = support.users.then(identity::lease);
    let own_view = support.namespaces;
    let (seen, toolchain, mounts) = if own_view {
        let seen = Work { root: PathBuf::from(SEEN_AT) };
        std::fs::create_dir_all(work.home().join("registry"))?;
        let bind = |source: &Path, target: &Path, read_only| -> std::io::Result<Mount> {
            Ok(Mount::Bind { source: cstring(source)?, target: cstring(target)?, read_only })
        };
        let mounts = vec![
            Mount::Tmpfs(cstring(Path::new("/tmp"))?),
            Mount::Folder(cstring(&seen.root)?),
            bind(&work.root, &seen.root, false)?,
            bind(&sysroot, &seen.toolchain(), true)?,
            bind(&registry, &seen.home().join("registry"), true)?,
        ];
        let toolchain = seen.toolchain();
        (seen, toolchain, mounts)
    } else {
        if support.users
            && !(super::reachable_by_others(&sysroot.join("bin/rustc")) && super::reachable_by_others(&registry))
        {
            return Err(std::io::Error::other(format!(
                "the Rust toolchain ({}) or the registry ({}) is where the build's user cannot read it, and this \
                 grader may not show it elsewhere (no mount namespace): install Rust where every user can read it \
                 (CARGO_HOME=/usr/local/cargo RUSTUP_HOME=/usr/local/rustup, as the autograder's setup.sh does)",
                sysroot.display(),
                registry.display()
            )));
        }
        std::os::unix::fs::symlink(&registry, work.home().join("registry"))?;
        (Work { root: work.root.clone() }, sysroot.clone(), Vec::new())
    };
    refuse_cargo_config_above(&seen.root)?;
    if let Some(lease) = &lease {
        // Its group (every check of this grading) may run what it builds.
        give(&work.root, lease.uid, lease.gid)?;
    }
    let mut grants = super::rules::system();
    grants.push((sysroot, Grant::Read));
    grants.push((registry, Grant::Read));
    grants.push((work.root.clone(), Grant::All));
    let rules = Rules::new(&grants, true)?;
    let bin = toolchain.join("bin");
    let mut path = OsString::from(&bin);
    path.push(":/usr/local/bin:/usr/bin:/bin");
    let mut env: Vec<(OsString, OsString)> = vec![
        ("PATH".into(), path),
        ("RUSTC".into(), bin.join("rustc").into()),
        ("CARGO_HOME".into(), seen.home().into()),
        ("HOME".into(), seen.home().into()),
        ("TMPDIR".into(), seen.tmp().into()),
        ("CARGO_NET_OFFLINE".into(), "true".into()),
        ("LC_ALL".into(), "C".into()),
    ];
    if color {
        env.push(("CARGO_TERM_COLOR".into(), "always".into()));
    }
    let confine = Confine {
        user: lease.as_ref().map(|l| (l.uid, l.gid)),
        rules,
        mounts,
        // Its files are its group's to read (the checks' users run its
        // programs), no one else's.
        umask: Some(0o027),
    };
    Ok(BuildSandbox {
        cargo: bin.join("cargo"),
        env,
        confine: Arc::new(confine),
        lease,
        seen_at: own_view.then(|| seen.root.clone()),
        work: work.root.clone(),
    })
}

/// Cargo reads a `.cargo/config.toml` in every folder above the one it runs
/// in: one planted in a shared folder (`/tmp/.cargo`) would choose the
/// build's linker. Refuses to build under one.
fn refuse_cargo_config_above(dir: &Path) -> std::io::Result<()> {
    for above in dir.ancestors().skip(1) {
        let planted = above.join(".cargo");
        if std::fs::symlink_metadata(&planted).is_ok() {
            return Err(std::io::Error::other(format!(
                "{} exists, and cargo would read it in every build below it: build somewhere else (or remove it)",
                planted.display()
            )));
        }
    }
    Ok(())
}

/// Gives `dir` and everything in it (made by the grader just now) to `uid`
/// in group `gid`, without following a link: its folders `rwxr-x---`, its
/// files `rw-r-----` (`rwxr-x---` if the owner could run them).
pub fn give(dir: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut todo = vec![dir.to_owned()];
    while let Some(path) = todo.pop() {
        std::os::unix::fs::lchown(&path, Some(uid), Some(gid))?;
        let meta = std::fs::symlink_metadata(&path)?;
        let mode = match () {
            _ if meta.file_type().is_symlink() => continue,
            _ if meta.is_dir() => 0o750,
            _ if meta.permissions().mode() & 0o100 != 0 => 0o750,
            _ => 0o640,
        };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                todo.push(entry?.path());
            }
        }
    }
    Ok(())
}

fn cstring(path: &Path) -> std::io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)
}
