//! The student template: a standalone repository with the starter, the
//! grader, the handouts, the classroom workflow and the dev container, and
//! nothing of the reference (`cargo grade --export-template DIR`).
//!
//! - Left out: `reference/`, `broken/`, the proof tests, this repository's CI.
//! - Hidden checks are left out whole: their folder `grader/src/hidden/` is
//!   replaced by an empty one, their rubric entries (`hidden = true`) are
//!   dropped, and the handouts' tables are generated again without them.
//! - `grader/fingerprints.txt` records the SHA-256 of every grading file as
//!   exported; the template's grader reports any change (see `tamper`).
//! - The starter's comments and the hint ladders (`hints/`) are as the
//!   instructor's `--guidance` chooses (see `guidance`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::guidance::Guidance;
use crate::labs::LABS;
use crate::rubric::Rubric;
use crate::tamper::fingerprint;

/// Top-level entries copied as they are.
/// `.devcontainer` is this repository's own dev container: one definition,
/// the same in both.
const COPIED: &[&str] = &[
    ".cargo",
    ".devcontainer",
    ".gitignore",
    "rustfmt.toml",
    "clippy.toml",
    "Cargo.lock",
    "common",
    "starter",
    "launcher",
    "handouts",
    "hints",
];

/// What `grader/src/hidden/mod.rs` is in the template.
const HIDDEN_STUB: &str = "//! Hidden checks run only in the instructor's grading; this copy has none.\n\nuse ipc_engine::check::Check;\n\n/// The hidden checks of `lab`: none in the student template.\npub fn checks(lab: &str) -> Vec<Check> {\n    let _ = lab;\n    Vec::new()\n}\n";

/// Files of the grader left out of the template (they need the reference).
/// Files and folders of the grader left out of the template: tests that
/// need the reference or broken/, and independent implementations of the
/// labs (solutions, in C).
const GRADER_LEFT_OUT: &[&str] = &[
    "grader/tests/proof.rs",
    "grader/tests/mirror.rs",
    "grader/tests/by_hand.rs",
    "grader/tests/template.rs",
    "grader/tests/hostile.rs",
    "grader/tests/attacks.rs",
    "grader/tests/hostile",
    "grader/tests/batch.rs",
    "grader/tests/gradescope.rs",
    "grader/tests/devcontainer.rs",
    "grader/tests/diagnoses.rs",
    "grader/tests/explanations.rs",
    "grader/tests/independent",
];

/// [`export_with`] the default guidance: the hint ladder.
pub fn export(root: &Path, rubric_dir: &Path, dest: &Path, rubric: &Rubric) -> Result<Vec<String>> {
    export_with(root, rubric_dir, dest, rubric, Guidance::default())
}

/// Writes the template of the repository at `root` into `dest` (which must
/// not exist or be empty), with the rubric files of `rubric_dir` (parsed as
/// `rubric`) and the starter's comments and hints that `guidance` chooses.
/// Returns the hidden checks left out.
///
/// It is written whole into a folder beside `dest`, then renamed into
/// place: an export that fails leaves nothing behind.
pub fn export_with(
    root: &Path,
    rubric_dir: &Path,
    dest: &Path,
    rubric: &Rubric,
    guidance: Guidance,
) -> Result<Vec<String>> {
    if dest.exists() && std::fs::read_dir(dest)?.next().is_some() {
        bail!("{} is not empty: give a new folder for the template", dest.display());
    }
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let partial = tempfile::Builder::new()
        .prefix(".ipc-labs-template-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let hidden = write_template(root, rubric_dir, partial.path(), rubric, guidance)?;
    if dest.exists() {
        std::fs::remove_dir(dest).with_context(|| format!("cannot replace the empty folder {}", dest.display()))?;
    }
    std::fs::rename(partial.path(), dest).with_context(|| format!("cannot move the template to {}", dest.display()))?;
    let _ = partial.keep();
    Ok(hidden)
}

/// Writes the template into the empty folder `dest` (see [`export_with`]).
fn write_template(
    root: &Path,
    rubric_dir: &Path,
    dest: &Path,
    rubric: &Rubric,
    guidance: Guidance,
) -> Result<Vec<String>> {
    for entry in COPIED {
        copy_tree(&root.join(entry), &dest.join(entry))?;
    }
    copy_tree(&root.join("grader"), &dest.join("grader"))?;
    for left_out in GRADER_LEFT_OUT {
        let path = dest.join(left_out);
        let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
    }
    // Every test of a lab's independent implementation (`independent_LAB.rs`).
    for entry in std::fs::read_dir(dest.join("grader/tests"))? {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("independent")) {
            std::fs::remove_file(&path)?;
        }
    }
    copy_tree(&root.join("template"), dest)?;
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    copy_tree(&root.join("engine"), &dest.join("engine"))?;
    copy_tree(&root.join("peers"), &dest.join("peers"))?;
    std::fs::write(
        dest.join("Cargo.toml"),
        workspace_manifest(&manifest, &["common", "starter", "engine", "peers", "grader", "launcher"])?,
    )?;
    prune_lockfile(dest)?;

    // The rubric and the grader's code, without hidden checks.
    let mut hidden_all = Vec::new();
    std::fs::create_dir_all(dest.join("rubric"))?;
    for lab in LABS {
        let text = std::fs::read_to_string(rubric_dir.join(format!("{}.toml", lab.name)))?;
        let hidden: BTreeSet<String> =
            rubric.labs[lab.name].checks.iter().filter(|c| c.hidden).map(|c| c.name.clone()).collect();
        std::fs::write(dest.join("rubric").join(format!("{}.toml", lab.name)), without_entries(&text, &hidden))?;
        hidden_all.extend(hidden.iter().map(|h| format!("{}::{h}", lab.name)));
    }
    let hidden_dir = dest.join("grader/src/hidden");
    std::fs::remove_dir_all(&hidden_dir).with_context(|| format!("cannot clear {}", hidden_dir.display()))?;
    std::fs::create_dir_all(&hidden_dir)?;
    std::fs::write(hidden_dir.join("mod.rs"), HIDDEN_STUB)?;
    // The handouts' tables, from the rubric without hidden entries.
    let exported = Rubric::load(&dest.join("rubric"), LABS)?;
    crate::handouts::sync(dest, &exported, true)?;
    // The workflow's fallback result (when the grader cannot run) carries
    // the template's total, so Classroom shows 0 of the real total.
    let total: u32 = exported.labs.values().flat_map(|l| &l.checks).map(|c| c.points).sum();
    let workflow = dest.join(".github/workflows/classroom.yml");
    let text = std::fs::read_to_string(&workflow)?;
    if !text.contains("MAX_SCORE: 1\n") {
        bail!("template/.github/workflows/classroom.yml lost its `MAX_SCORE: 1` line, which the export fills in");
    }
    std::fs::write(&workflow, text.replace("MAX_SCORE: 1\n", &format!("MAX_SCORE: {total}\n")))?;
    crate::guidance::apply(dest, guidance)?;
    // The handouts' and hints' prose is written by people: refuse to export
    // one that names a hidden check.
    let hints = dest.join(crate::hints::DIR);
    let mut prose: Vec<PathBuf> =
        std::fs::read_dir(dest.join("handouts"))?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    if hints.is_dir() {
        prose.extend(std::fs::read_dir(&hints)?.map(|e| e.map(|e| e.path())).collect::<Result<Vec<_>, _>>()?);
    }
    for path in prose {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        for name in &hidden_all {
            let (lab, check) = name.split_once("::").expect("LAB::CHECK");
            if text.contains(name.as_str()) || (path.file_stem().is_some_and(|f| f == lab) && text.contains(check)) {
                let folder = path.parent().and_then(Path::file_name).unwrap_or_default();
                bail!(
                    "{} mentions the hidden check `{name}`: remove it from its text (students would see it), then export again",
                    root.join(folder).join(path.file_name().unwrap_or_default()).display()
                );
            }
        }
    }

    // Fingerprints of everything that decides a grade, as exported.
    let mut files = Vec::new();
    for dir in ["grader", "engine", "peers", "rubric", ".cargo", ".github"] {
        list_files(dest, &dest.join(dir), &mut files)?;
    }
    files.retain(|f| f != "grader/fingerprints.txt");
    files.sort();
    let mut lines =
        String::from("# SHA-256 of the grading files as the template was exported; the grader reports any change.\n");
    for f in &files {
        let hash = fingerprint(&dest.join(f)).context("cannot read an exported file")?;
        lines.push_str(&format!("{hash}  {f}\n"));
    }
    std::fs::write(dest.join("grader/fingerprints.txt"), lines)?;
    Ok(hidden_all)
}

/// Rewrites `dir/Cargo.lock` as cargo would for the workspace in `dir`:
/// entries of crates that are not in it (the reference, broken/) go, every
/// version stays. (Any cargo command would do it later, and leave a
/// student's fresh clone with a changed file.) Without cargo, so without
/// the network: see `crate::lockfile`.
pub fn prune_lockfile(dir: &Path) -> Result<()> {
    crate::lockfile::prune(dir)
}

/// The root manifest with only `members`.
pub(crate) fn workspace_manifest(text: &str, members: &[&str]) -> Result<String> {
    let mut doc: toml::Table = toml::from_str(text)?;
    let members = toml::Value::Array(members.iter().map(|m| toml::Value::from(*m)).collect());
    let ws = doc.get_mut("workspace").and_then(|w| w.as_table_mut()).context("no [workspace] in Cargo.toml")?;
    ws.insert("members".into(), members.clone());
    ws.insert("default-members".into(), members);
    Ok(format!(
        "# The student template of ipc-labs: your code is in starter/; `cargo grade` grades it.\n{}",
        toml::to_string(&doc)?
    ))
}

/// A rubric file's text without the `[[check]]` entries named in `hidden`.
fn without_entries(text: &str, hidden: &BTreeSet<String>) -> String {
    let mut out = String::new();
    let mut blocks = text.split("\n[[check]]");
    out.push_str(blocks.next().unwrap_or_default());
    for block in blocks {
        let name = block.lines().find_map(|l| l.trim().strip_prefix("name = ")).map(|n| n.trim_matches('"'));
        if name.is_some_and(|n| hidden.contains(n)) {
            continue;
        }
        out.push_str("\n[[check]]");
        out.push_str(block);
    }
    out
}

/// Copies a file or folder (skipping `target/` and `.git/`).
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(from).with_context(|| format!("cannot read {}", from.display()))?;
    if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let name = entry.file_name();
            if name == "target" || name == ".git" {
                continue;
            }
            copy_tree(&entry.path(), &to.join(&name))?;
        }
    } else {
        std::fs::copy(from, to).with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path: PathBuf = entry?.path();
        if path.is_dir() {
            list_files(root, &path, out)?;
        } else {
            out.push(path.strip_prefix(root)?.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_entries_leave_the_rubric() {
        let text = "lab = \"x\"\n\n[[check]]\nname = \"a\"\npoints = 1\n\n[[check]]\nname = \"b\"\npoints = 2\n";
        let hidden = BTreeSet::from(["a".to_string()]);
        assert_eq!(without_entries(text, &hidden), "lab = \"x\"\n\n[[check]]\nname = \"b\"\npoints = 2\n");
    }
}
