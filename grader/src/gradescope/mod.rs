//! The Gradescope autograder: `cargo grade --export-gradescope FILE.zip`
//! writes a zip an instructor uploads as it is.
//!
//! At its root: `setup.sh` (installs Rust if needed, builds the grader,
//! compiles the dependencies), `run_autograder` (grades one submission's
//! `starter/` and writes results.json, also when anything fails), and a
//! README for the instructor. Under `ipc-labs/`: the workspace the grading
//! happens in: common/, engine/, grader/ (hidden checks included: this zip
//! is instructor-side), rubric/, the untouched starter/ (replaced by each
//! submission's), and a Cargo.lock pruned to these crates.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use zip::write::SimpleFileOptions;

use crate::export::{copy_tree, prune_lockfile, workspace_manifest};

const SETUP: &str = include_str!("setup.sh");
const RUN: &str = include_str!("run_autograder");
const README: &str = include_str!("README.md");

/// Top-level entries of the repository the autograder's workspace holds.
const COPIED: &[&str] = &[
    ".cargo",
    "rustfmt.toml",
    "clippy.toml",
    "Cargo.lock",
    "common",
    "engine",
    "peers",
    "grader",
    "launcher",
    "starter",
];

/// Files of the grader it leaves out (tests need the reference or are solutions).
const LEFT_OUT: &[&str] = &["grader/tests"];

/// Writes the autograder zip for the repository at `root`, with the rubric
/// in `rubric_dir`.
/// `filters` (labs or `LAB::CHECK`s, all if empty) are the checks the
/// assignment grades: one Gradescope assignment per lab is common.
pub fn export(root: &Path, rubric_dir: &Path, zip_path: &Path, filters: &[String]) -> Result<()> {
    if zip_path.extension().is_none_or(|e| e != "zip") {
        bail!("{}: give a file name ending in .zip", zip_path.display());
    }
    let staging = tempfile::tempdir()?;
    let ws = staging.path().join("ipc-labs");
    for entry in COPIED {
        copy_tree(&root.join(entry), &ws.join(entry))?;
    }
    for gone in LEFT_OUT {
        let _ = std::fs::remove_dir_all(ws.join(gone));
    }
    copy_tree(rubric_dir, &ws.join("rubric"))?;
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    std::fs::write(
        ws.join("Cargo.toml"),
        workspace_manifest(&manifest, &["common", "starter", "engine", "peers", "grader", "launcher"])?,
    )?;
    prune_lockfile(&ws)?;

    let version = rust_version();
    // Written whole beside it, then renamed: a failed export leaves nothing.
    let parent = zip_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let partial = tempfile::Builder::new()
        .prefix(".autograder-")
        .suffix(".zip")
        .tempfile_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let mut zip = zip::ZipWriter::new(partial.reopen()?);
    let script = SimpleFileOptions::default().unix_permissions(0o755);
    let plain = SimpleFileOptions::default().unix_permissions(0o644);
    for (name, text, options) in
        [("setup.sh", SETUP, script), ("run_autograder", RUN, script), ("README.md", README, plain)]
    {
        zip.start_file(name, options)?;
        let quoted = filters.iter().map(|f| ipc_engine::text::shell_quote(f)).collect::<Vec<_>>().join(" ");
        let text = text.replace("@RUST_VERSION@", &version).replace("@FILTERS@", &quoted);
        zip.write_all(text.as_bytes())?;
    }
    add_tree(&mut zip, staging.path(), &ws)?;
    zip.finish()?;
    partial.persist(zip_path).with_context(|| format!("cannot write {}", zip_path.display()))?;
    Ok(())
}

/// The toolchain this grader was tested with (`rustc --version`), for setup.sh.
fn rust_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let spec = ipc_engine::proc::Spec::new(rustc, ["--version"], ".");
    ipc_engine::proc::output(spec, std::time::Duration::from_secs(30))
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_else(|| "stable".into())
}

fn add_tree(zip: &mut zip::ZipWriter<std::fs::File>, base: &Path, dir: &Path) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = path.strip_prefix(base)?.to_string_lossy().into_owned();
        if path.is_dir() {
            zip.add_directory(name, SimpleFileOptions::default().unix_permissions(0o755))?;
            add_tree(zip, base, &path)?;
        } else {
            zip.start_file(name, SimpleFileOptions::default().unix_permissions(0o644))?;
            zip.write_all(&std::fs::read(&path)?)?;
        }
    }
    Ok(())
}
