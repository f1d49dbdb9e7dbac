//! Tamper evidence for the student template.
//!
//! When the template is exported, the fingerprints (SHA-256) of the
//! grader's own files, the rubric and the grading workflow are written to
//! `grader/fingerprints.txt` and compiled into the grader. Every report then
//! says plainly which of those files differ from the export. It is evidence,
//! not a lock: the instructor's batch grading uses its own grader anyway.

use std::path::Path;

use sha2::{Digest, Sha256};

use ipc_engine::build::workspace_root;

/// `HEX  PATH` lines; empty in the instructor's repository.
const FINGERPRINTS: &str = include_str!("../fingerprints.txt");

/// The SHA-256 of a file's bytes, in hex.
pub fn fingerprint(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

/// Files (relative to the repository) that differ from their fingerprints.
pub fn changed(root: &Path, fingerprints: &str) -> Vec<String> {
    fingerprints
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let (hash, path) = line.split_once("  ")?;
            (fingerprint(&root.join(path)).as_deref() != Some(hash)).then(|| path.to_string())
        })
        .collect()
}

/// Whether this grader is a student template's (it was exported with
/// fingerprints).
pub fn is_template() -> bool {
    FINGERPRINTS.lines().any(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

/// Notes for reports: empty unless this is an exported template whose
/// grading files were changed.
pub fn notes() -> Vec<String> {
    let changed = changed(&workspace_root(), FINGERPRINTS);
    if changed.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "these grading files differ from the template as it was handed out: {} (the grade shown may not be the instructor's)",
        changed.join(", ")
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "one").unwrap();
        std::fs::write(dir.path().join("b.txt"), "two").unwrap();
        let list = format!(
            "{}  a.txt\n{}  b.txt\n",
            fingerprint(&dir.path().join("a.txt")).unwrap(),
            fingerprint(&dir.path().join("b.txt")).unwrap()
        );
        assert!(changed(dir.path(), &list).is_empty());
        std::fs::write(dir.path().join("b.txt"), "changed").unwrap();
        assert_eq!(changed(dir.path(), &list), ["b.txt"]);
        std::fs::remove_file(dir.path().join("a.txt")).unwrap();
        assert_eq!(changed(dir.path(), &list), ["a.txt", "b.txt"]);
    }
}
