//! The student template: a standalone repository with the starter, the
//! grader, the handouts and the classroom workflow, and nothing of the
//! reference (`cargo grade --export-template DIR`).
//!
//! - Left out: `reference/`, `broken/`, the proof tests, this repository's CI.
//! - Hidden checks (`hidden = true` in the rubric) are left out of the rubric
//!   and of the grader's code: their registration line and their function.
//! - `grader/fingerprints.txt` records the SHA-256 of every grading file as
//!   exported; the template's grader reports any change (see `tamper`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::labs::LABS;
use crate::rubric::Rubric;
use crate::tamper::fingerprint;

/// Top-level entries copied as they are.
const COPIED: &[&str] = &[".cargo", ".gitignore", "rustfmt.toml", "Cargo.lock", "common", "starter", "handouts"];

/// Files of the grader left out of the template (they need the reference).
const GRADER_LEFT_OUT: &[&str] = &["grader/tests/proof.rs", "grader/tests/template.rs"];

/// Writes the template of the repository at `root` into `dest` (which must
/// not exist or be empty), with the rubric files of `rubric_dir` (parsed as
/// `rubric`). Returns the hidden checks left out.
pub fn export(root: &Path, rubric_dir: &Path, dest: &Path, rubric: &Rubric) -> Result<Vec<String>> {
    if dest.exists() && std::fs::read_dir(dest)?.next().is_some() {
        bail!("{} is not empty: give a new folder for the template", dest.display());
    }
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    for entry in COPIED {
        copy_tree(&root.join(entry), &dest.join(entry))?;
    }
    copy_tree(&root.join("grader"), &dest.join("grader"))?;
    for left_out in GRADER_LEFT_OUT {
        let _ = std::fs::remove_file(dest.join(left_out));
    }
    copy_tree(&root.join("template"), dest)?;
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    std::fs::write(dest.join("Cargo.toml"), workspace_manifest(&manifest, &["common", "starter", "grader"])?)?;

    // The rubric and the grader's code, without hidden checks.
    let mut hidden_all = Vec::new();
    std::fs::create_dir_all(dest.join("rubric"))?;
    for lab in LABS {
        let text = std::fs::read_to_string(rubric_dir.join(format!("{}.toml", lab.name)))?;
        let hidden: BTreeSet<String> =
            rubric.labs[lab.name].checks.iter().filter(|c| c.hidden).map(|c| c.name.clone()).collect();
        std::fs::write(dest.join("rubric").join(format!("{}.toml", lab.name)), without_entries(&text, &hidden))?;
        if !hidden.is_empty() {
            let module = dest.join("grader/src/labs").join(lab.name).join("mod.rs");
            let code = std::fs::read_to_string(&module)?;
            std::fs::write(&module, without_checks(&code, &hidden).with_context(|| module.display().to_string())?)?;
            hidden_all.extend(hidden.iter().map(|h| format!("{}::{h}", lab.name)));
        }
    }

    // Fingerprints of everything that decides a grade, as exported.
    let mut files = Vec::new();
    for dir in ["grader", "rubric", ".cargo", ".github"] {
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

/// A lab module's code without the hidden checks: the `Check::new("NAME",
/// function)` line and the top-level `fn function` with its doc comment.
fn without_checks(code: &str, hidden: &BTreeSet<String>) -> Result<String> {
    let mut lines: Vec<&str> = code.lines().collect();
    for name in hidden {
        let needle = format!("Check::new(\"{name}\", ");
        let at =
            lines.iter().position(|l| l.contains(&needle)).with_context(|| format!("no registration of `{name}`"))?;
        let rest = &lines[at][lines[at].find(&needle).expect("found") + needle.len()..];
        let function: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        lines.remove(at);
        let start = lines
            .iter()
            .position(|l| l.starts_with(&format!("fn {function}(")))
            .with_context(|| format!("no `fn {function}` for the hidden check `{name}`"))?;
        let end = start + lines[start..].iter().position(|l| *l == "}").context("no end of the function")?;
        let mut first = start;
        while first > 0 && (lines[first - 1].starts_with("///") || lines[first - 1].starts_with("#[")) {
            first -= 1;
        }
        lines.drain(first..=end);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

/// Copies a file or folder (skipping `target/` and `.git/`).
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<()> {
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

    #[test]
    fn hidden_checks_leave_the_code() {
        let code = "pub fn checks() -> Vec<Check> {\n    vec![\n        Check::new(\"a\", check_a),\n        Check::new(\"b\", check_b),\n    ]\n}\n\n/// A.\nfn check_a(ctx: &mut Ctx) -> Result<(), Fail> {\n    secret();\n}\n\n/// B.\nfn check_b(ctx: &mut Ctx) -> Result<(), Fail> {\n    ok();\n}\n";
        let out = without_checks(code, &BTreeSet::from(["a".to_string()])).unwrap();
        assert!(!out.contains("check_a") && !out.contains("secret"), "{out}");
        assert!(out.contains("Check::new(\"b\", check_b)") && out.contains("fn check_b"), "{out}");
    }
}
