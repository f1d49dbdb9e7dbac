//! Which checkout `cargo grade` grades, and which grader it runs.
//!
//! Cargo names a workspace member's build by its path *inside* the
//! workspace, so two checkouts of this repository that share a target
//! folder (`CARGO_TARGET_DIR`, or `build.target-dir` in a global cargo
//! config) share every build of it: after one builds, the other's sources
//! look older than the binaries and cargo reuses them, and its
//! `cargo grade` would build and run the first checkout's grader (rubric
//! and hidden checks) on the first checkout's starter. So:
//!
//! - the checkout is the one cargo ran this program for
//!   (`CARGO_MANIFEST_DIR` at run time, which `cargo run` sets), never
//!   the path compiled into it, which may be another checkout's;
//! - when the target folder is that checkout's own `target/`, the grader
//!   is built there, as always; otherwise into a folder of its own under
//!   it, `ipc-grade-checkouts/NAME-HASH/` (HASH of the checkout's path),
//!   where the grader then also builds the code it grades
//!   (`CARGO_TARGET_DIR`). A first `cargo grade` of a checkout there
//!   builds the grader's libraries once more.

use std::path::{Path, PathBuf};

/// Where the grader comes from and goes.
pub struct Checkout {
    /// The workspace's folder.
    pub root: PathBuf,
    /// The target folder to build the grader in, when it is not the one
    /// cargo used for this program (then also the grader's `CARGO_TARGET_DIR`).
    pub target_dir: Option<PathBuf>,
    /// The grader's executable once built.
    pub grader: PathBuf,
}

/// The checkout cargo ran this program for, and where its grader is built.
pub fn find() -> Result<Checkout, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find where cargo put this program: {e}"))?;
    let root = root();
    // This program lives in TARGET/PROFILE/ (debug for `cargo grade`).
    let profile = exe.parent().ok_or("this program lies in no folder")?;
    let target = profile.parent().ok_or("this program's folder lies in no target folder")?;
    let own = same(target, &root.join("target"));
    if own {
        return Ok(Checkout { root, target_dir: None, grader: profile.join("ipc-grader") });
    }
    let dir = target.join("ipc-grade-checkouts").join(key(&root));
    let grader = dir.join(profile.file_name().unwrap_or_else(|| "debug".as_ref())).join("ipc-grader");
    Ok(Checkout { root, target_dir: Some(dir), grader })
}

/// The workspace this program was run for: the parent of the launcher's
/// folder that `cargo run` names in `CARGO_MANIFEST_DIR`; the one it was
/// built in when it runs without cargo (or the variable names another
/// package).
fn root() -> PathBuf {
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run_for = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).filter(|dir| {
        std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|m| m.contains("name = \"ipc-grade\""))
    });
    let launcher = run_for.as_deref().unwrap_or(built_in);
    launcher.parent().unwrap_or(launcher).to_owned()
}

fn same(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// `NAME-HASH`: the checkout folder's name (letters, digits, `-` and `_`
/// kept) and an FNV-1a hash of its canonical path.
fn key(root: &Path) -> String {
    let path = root.canonicalize().unwrap_or_else(|_| root.to_owned());
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in path.as_os_str().as_encoded_bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let name: String = path
        .file_name()
        .map(|n| {
            n.to_string_lossy().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
        })
        .unwrap_or_default();
    format!("{name}-{hash:016x}")
}
