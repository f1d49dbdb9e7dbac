//! What a check left behind in the POSIX IPC namespaces, and removing it.
//!
//! Shared-memory objects are files in `/dev/shm`. Message queues are files
//! of the IPC namespace's mqueue file system, listed where it is mounted
//! (a check's private one, or `/dev/mqueue`); otherwise the grader probes
//! every name it handed out (`Ctx::ipc_name`).

use std::ffi::CString;
use std::path::Path;

use nix::mqueue::{MQ_OFlag, mq_close, mq_open, mq_unlink};
use nix::sys::mman::shm_unlink;
use nix::sys::stat::Mode;

/// Shared-memory objects whose names start with `prefix` (e.g. `/ipcl.1a.3.`).
fn shm_objects(prefix: &str) -> Vec<String> {
    list_prefixed(Path::new("/dev/shm"), prefix)
}

/// Message queues whose names start with `prefix`, listed in `dir` (the
/// queue file system) or `/dev/mqueue` where it is mounted, or else those
/// among `names` that exist.
fn queues(prefix: &str, names: &[String], dir: Option<&Path>) -> Vec<String> {
    if let Some(dir) = dir {
        return list_prefixed(dir, prefix);
    }
    if crate::sandbox::namespace::queues_mounted() {
        return list_prefixed(Path::new("/dev/mqueue"), prefix);
    }
    names.iter().filter(|name| queue_exists(name)).cloned().collect()
}

/// Whether a message queue of this name exists.
pub fn queue_exists(name: &str) -> bool {
    let Ok(cname) = CString::new(name) else { return false };
    match mq_open(cname.as_c_str(), MQ_OFlag::O_RDONLY | MQ_OFlag::O_NONBLOCK, Mode::empty(), None) {
        Ok(mqd) => {
            let _ = mq_close(mqd);
            true
        }
        Err(_) => false,
    }
}

/// Whether a shared-memory object of this name exists.
pub fn shm_exists(name: &str) -> bool {
    Path::new("/dev/shm").join(name.trim_start_matches('/')).exists()
}

/// Removes every shared-memory object and message queue under `prefix`
/// (queues listed in `queue_dir`, see [`queues`]),
/// and says what it removed, e.g. "the shared-memory object /ipcl.1a.3.ring",
/// leaving out of that list the objects named in `unblamed` (removed all
/// the same: the grader's own peers made them).
pub fn remove_all(prefix: &str, names: &[String], unblamed: &[String], queue_dir: Option<&Path>) -> Vec<String> {
    let mut removed = Vec::new();
    for name in shm_objects(prefix) {
        remove_shm(&name);
        if !unblamed.contains(&name) {
            removed.push(format!("the shared-memory object {name}"));
        }
    }
    for name in queues(prefix, names, queue_dir) {
        remove_queue(&name);
        if !unblamed.contains(&name) {
            removed.push(format!("the message queue {name}"));
        }
    }
    removed
}

/// Removes a shared-memory object (ignoring a missing one).
pub fn remove_shm(name: &str) {
    let _ = shm_unlink(name);
}

/// Removes a message queue (ignoring a missing one).
pub fn remove_queue(name: &str) {
    if let Ok(cname) = CString::new(name) {
        let _ = mq_unlink(cname.as_c_str());
    }
}

fn list_prefixed(dir: &Path, prefix: &str) -> Vec<String> {
    let bare = prefix.trim_start_matches('/');
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    // Objects are files: a folder there (a check's, where TMPDIR is
    // /dev/shm) is none.
    let mut found: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(bare))
        .map(|n| format!("/{n}"))
        .collect();
    found.sort();
    found
}
