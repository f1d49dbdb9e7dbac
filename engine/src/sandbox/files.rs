//! Files student code may reach: what another user can get to, copies
//! that follow no link, and the peers executable where checks can run it.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Whether a check's user (who owns nothing on the way, in the grading's
/// group) can run or read `path`: every folder above it lets others, or
/// that group, pass (`x`), and the file lets them read and run it (`rx`).
pub fn reachable_by_others(path: &Path) -> bool {
    let Ok(path) = std::fs::canonicalize(path) else { return false };
    let group = super::identity::group();
    let allows = |p: &Path, bits: u32| {
        std::fs::metadata(p)
            .is_ok_and(|m| m.mode() & bits == bits || (m.gid() == group && m.mode() & (bits << 3) == bits << 3))
    };
    path.ancestors().skip(1).all(|dir| allows(dir, 0o001)) && allows(&path, 0o005)
}

/// Copies the folder `from` into `to` (made if missing), file by file,
/// keeping permission bits: never through a symbolic link, in it or
/// above it (a link is left out, and returned), and only folders and
/// regular files (a FIFO, socket or device is left out, and returned).
/// Iterative: however deep the folder, the stack does not grow.
pub fn copy_folder(from: &Path, to: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut left_out = Vec::new();
    let mut folders = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        let dir = from.join(&rel);
        let meta = std::fs::symlink_metadata(&dir)?;
        if !meta.is_dir() {
            left_out.push(rel);
            continue;
        }
        let dest = to.join(&rel);
        std::fs::create_dir_all(&dest)?;
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(meta.mode() & 0o777 | 0o700))?;
        folders.push((dest, meta));
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let rel = rel.join(entry.file_name());
            let kind = entry.file_type()?;
            if kind.is_dir() {
                todo.push(rel);
            } else if kind.is_file() {
                copy_file(&from.join(&rel), &to.join(&rel))?;
            } else {
                left_out.push(rel);
            }
        }
    }
    // Times too (a build's target folder is fresh only if they are kept);
    // a folder's last, once nothing more is written in it.
    for (dest, meta) in folders.iter().rev() {
        set_times(dest, meta)?;
    }
    left_out.sort();
    Ok(left_out)
}

/// Gives `path` the access and modification times of `like`.
fn set_times(path: &Path, like: &std::fs::Metadata) -> std::io::Result<()> {
    let times = std::fs::FileTimes::new().set_accessed(like.accessed()?).set_modified(like.modified()?);
    std::fs::File::open(path)?.set_times(times)
}

/// Copies one regular file, opened without following a link, keeping its
/// permission bits.
fn copy_file(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut source = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(from)?;
    let meta = source.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other(format!("{} is not a regular file", from.display())));
    }
    let mut dest = std::fs::OpenOptions::new().write(true).create_new(true).mode(meta.mode() & 0o777).open(to)?;
    std::io::copy(&mut source, &mut dest)?;
    dest.set_times(std::fs::FileTimes::new().set_accessed(meta.accessed()?).set_modified(meta.modified()?))
}

/// The peers executable as the checks' users can run it: the one beside
/// the grader if they can reach it, else a copy in a folder of root's in
/// the temporary directory, named after its size and time (made once per
/// grader, kept for the next: the programs under test cannot change it).
pub fn peers_for_checks() -> std::io::Result<PathBuf> {
    static PEERS: OnceLock<PathBuf> = OnceLock::new();
    if let Some(path) = PEERS.get() {
        return Ok(path.clone());
    }
    let original = crate::peer::executable()?;
    let path = if !super::support().users || reachable_by_others(&original) {
        original
    } else {
        let meta = std::fs::metadata(&original)?;
        let dir = std::env::temp_dir().join(format!("ipc-grader-peers-{:x}-{:x}", meta.len(), meta.mtime()));
        let copy = dir.join(crate::peer::EXECUTABLE);
        // Root's, and writable by root only: no program under test made it.
        let ours = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.uid() == 0 && m.mode() & 0o022 == 0);
        if ours(&dir) && ours(&copy) {
            copy
        } else {
            let _ = std::fs::remove_dir_all(&dir);
            let temporary = tempfile::Builder::new().prefix("ipc-grader-peers-").tempdir()?;
            std::fs::set_permissions(temporary.path(), std::fs::Permissions::from_mode(0o755))?;
            copy_file(&original, &temporary.path().join(crate::peer::EXECUTABLE))?;
            let made = temporary.keep();
            let _ = std::fs::rename(&made, &dir);
            if ours(&dir) && ours(&copy) {
                let _ = std::fs::remove_dir_all(&made);
                copy
            } else {
                // Someone else's folder took the name: keep our own copy.
                made.join(crate::peer::EXECUTABLE)
            }
        }
    };
    Ok(PEERS.get_or_init(|| path).clone())
}
