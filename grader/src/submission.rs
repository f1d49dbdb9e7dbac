//! A student's submission, graded as untrusted data (Gradescope's
//! `run_autograder`, and each submission of a batch): only its `starter/`
//! is taken, copied without following a link, beside this grader's own
//! `common/`, `Cargo.lock` and workspace manifest, and built in the
//! sandbox of a build (`ipc_engine::sandbox::build`); its programs then
//! run in the checks' sandbox like any other.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use ipc_engine::build::{self, BuildError, Built};
use ipc_engine::sandbox::build::{BuildSandbox, Work};

/// The `starter/` folder of a submission: at its root, or one folder down
/// (a GitHub submission and an uploaded folder differ). A link is not a
/// folder here.
pub fn find_starter(submission: &Path) -> Option<PathBuf> {
    let is_starter = |p: &Path| {
        std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
            && std::fs::symlink_metadata(p.join("Cargo.toml")).is_ok_and(|m| m.is_file())
    };
    let at_root = submission.join("starter");
    if is_starter(&at_root) {
        return Some(at_root);
    }
    let mut below: Vec<PathBuf> = std::fs::read_dir(submission)
        .ok()?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path().join("starter"))
        .filter(|p| is_starter(p))
        .collect();
    below.sort();
    below.into_iter().next()
}

/// What taking a submission's starter left out: its links (never
/// followed) and special files, relative to `starter/`.
pub struct Taken {
    pub left_out: Vec<PathBuf>,
}

impl Taken {
    /// A note for the reports, if anything was left out.
    pub fn note(&self) -> Option<String> {
        if self.left_out.is_empty() {
            return None;
        }
        let names: Vec<String> = self.left_out.iter().map(|p| format!("starter/{}", p.display())).collect();
        Some(format!(
            "left out of your submission: {} (a submission is copied without its symbolic links and special files: \
             put the file itself in your repository)",
            names.join(", ")
        ))
    }
}

/// Copies `starter` into `work/ws/starter` (without `target/`), with this
/// grader's `common/`, lock file and a workspace of the two.
pub fn take(root: &Path, starter: &Path, work: &Work) -> Result<Taken> {
    let ws = work.workspace();
    if ws.exists() {
        std::fs::remove_dir_all(&ws).with_context(|| format!("cannot clear {}", ws.display()))?;
    }
    std::fs::create_dir_all(&ws)?;
    let mut left_out = ipc_engine::sandbox::copy_folder(starter, &ws.join("starter"))
        .with_context(|| format!("cannot copy {}", starter.display()))?;
    let copied_target = ws.join("starter/target");
    if copied_target.exists() {
        std::fs::remove_dir_all(&copied_target)?;
    }
    left_out.retain(|p| !p.starts_with("target"));
    crate::export::copy_tree(&root.join("common"), &ws.join("common"))?;
    std::fs::copy(root.join("Cargo.lock"), ws.join("Cargo.lock"))?;
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    std::fs::write(ws.join("Cargo.toml"), crate::export::workspace_manifest(&manifest, &["common", "starter"])?)?;
    Ok(Taken { left_out })
}

/// Copies a build cache (the target folder of a build of this grader's own
/// starter, made by [`prepare_cache`]) into `work`, so that the
/// dependencies are not compiled again. A copy, not links: the build may
/// write what it holds.
pub fn seed(cache: &Path, work: &Work) -> Result<()> {
    let target = work.target();
    if target.exists() {
        std::fs::remove_dir_all(&target)?;
    }
    let left_out = ipc_engine::sandbox::copy_folder(cache, &target)
        .with_context(|| format!("cannot copy the build cache {}", cache.display()))?;
    // Cargo's own links in a target folder (none in a plain build) are
    // not needed to reuse it.
    let _ = left_out;
    Ok(())
}

/// Builds the workspace in `work` in the build's sandbox (`programs`: only
/// those, if given).
pub fn build(work: &Work, time_limit: Duration, programs: Option<&[&str]>) -> std::result::Result<Built, BuildError> {
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let sandbox: BuildSandbox = ipc_engine::sandbox::build::prepare(work, color)
        .map_err(|e| BuildError::Cargo(format!("cannot prepare the build's sandbox: {e}")))?;
    let built = build::build_submission(work, &sandbox, time_limit, programs);
    // The build's user is done: nothing it started outlives the build.
    if let Some(lease) = &sandbox.lease {
        ipc_engine::proc::kill_user(lease.uid);
    }
    built
}

/// Removes from a build's `debug/` folder what every submission compiles
/// anew (the starter's programs and incremental state): a cache holds the
/// dependencies (a third of the size).
fn keep_only_dependencies(debug: &Path) -> Result<()> {
    let incremental = debug.join("incremental");
    if incremental.exists() {
        std::fs::remove_dir_all(&incremental)?;
    }
    for entry in std::fs::read_dir(debug)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    for entry in std::fs::read_dir(debug.join("deps"))? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        let dependency = name.starts_with("lib") && !name.starts_with("libipc_common");
        if !dependency && !name.ends_with(".d") {
            std::fs::remove_file(debug.join("deps").join(&*name))?;
        }
    }
    Ok(())
}

/// `--prepare-build-cache DIR`: builds this grader's own starter as a
/// submission would be built, and keeps its target folder as `DIR`, for
/// [`seed`].
pub fn prepare_cache(root: &Path, dir: &Path, time_limit: Duration) -> Result<()> {
    let work = Work { root: dir.join(".build") };
    if work.root.exists() {
        std::fs::remove_dir_all(&work.root)?;
    }
    std::fs::create_dir_all(&work.root)?;
    take(root, &root.join("starter"), &work)?;
    match build(&work, time_limit, None) {
        // The untouched starter compiles (its bodies are `todo!()`).
        Ok(_) => {}
        Err(BuildError::Compile { messages, .. }) => anyhow::bail!("the starter does not build:\n{messages}"),
        Err(BuildError::Cargo(why)) => anyhow::bail!("the starter could not be built: {why}"),
    }
    let target = dir.join("target");
    if target.exists() {
        std::fs::remove_dir_all(&target)?;
    }
    std::fs::rename(work.target(), &target)?;
    std::fs::remove_dir_all(&work.root)?;
    keep_only_dependencies(&target.join("debug"))?;
    // The build's user may be any later grader's: the cache is root's.
    if ipc_engine::sandbox::support().users {
        ipc_engine::sandbox::build::give(&target, 0, 0)?;
    }
    Ok(())
}
