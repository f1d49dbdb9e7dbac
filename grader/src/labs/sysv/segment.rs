//! The grader's own side of a System V segment: finding it by key without
//! creating it, its size, mode and bytes (`IPC_STAT`, a read-only attach),
//! and creating one with known content for a program to read.
//!
//! nix has no System V IPC: these are `libc` calls, each in a small
//! `unsafe` block.

use std::mem::MaybeUninit;

use ipc_engine::check::Fail;

/// What the grader sees of a segment.
#[derive(Debug, Clone)]
pub struct Observed {
    pub id: i32,
    pub size: usize,
    /// The permission bits (`shm_perm.mode & 0o777`).
    pub mode: u32,
    pub bytes: Vec<u8>,
}

/// The segment of `key`, if there is one: `shmget(key, 0, 0)` (which never
/// creates), `shmctl(IPC_STAT)` for its size and mode, and its bytes through
/// a read-only attach.
pub fn observe(key: libc::key_t) -> Result<Option<Observed>, Fail> {
    // Past its mode: a segment made with the wrong one must still be seen.
    ipc_engine::sandbox::identity::overriding(|| observe_as_is(key))
}

fn observe_as_is(key: libc::key_t) -> Result<Option<Observed>, Fail> {
    // SAFETY: shmget takes plain values and touches no memory of ours.
    let id = unsafe { libc::shmget(key, 0, 0) };
    if id == -1 {
        let err = std::io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(libc::ENOENT) => Ok(None),
            _ => Err(Fail::infra(format!("shmget of key {key:#010x}: {err}"))),
        };
    }
    let mut ds = MaybeUninit::<libc::shmid_ds>::zeroed();
    // SAFETY: IPC_STAT writes one shmid_ds into `ds`, which is that big.
    if unsafe { libc::shmctl(id, libc::IPC_STAT, ds.as_mut_ptr()) } == -1 {
        return Err(Fail::infra(format!("shmctl IPC_STAT of segment {id}: {}", std::io::Error::last_os_error())));
    }
    // SAFETY: zero-initialised, then filled in by a successful IPC_STAT.
    let ds = unsafe { ds.assume_init() };
    let size = ds.shm_segsz;
    // SAFETY: a null address lets the kernel choose; SHM_RDONLY maps it
    // read-only, so nothing the program under test sees can change.
    let addr = unsafe { libc::shmat(id, std::ptr::null(), libc::SHM_RDONLY) };
    if addr as isize == -1 {
        return Err(Fail::infra(format!("shmat of segment {id}: {}", std::io::Error::last_os_error())));
    }
    // SAFETY: the attachment covers the whole segment, `size` readable bytes,
    // and is detached only after this copy.
    let bytes = unsafe { std::slice::from_raw_parts(addr.cast::<u8>(), size) }.to_vec();
    // SAFETY: `addr` is what shmat returned; no slice into it is left.
    unsafe { libc::shmdt(addr) };
    Ok(Some(Observed { id, size, mode: u32::from(ds.shm_perm.mode) & 0o777, bytes }))
}

/// Creates the segment of `key` (it must not exist) with `size` bytes and
/// mode 0644, holding `content` at its start.
pub fn create(key: libc::key_t, size: usize, content: &[u8]) -> Result<(), Fail> {
    assert!(content.len() <= size, "content larger than the segment");
    // SAFETY: shmget takes plain values and touches no memory of ours.
    let id = unsafe { libc::shmget(key, size, libc::IPC_CREAT | libc::IPC_EXCL | 0o644) };
    if id == -1 {
        return Err(Fail::infra(format!("shmget(IPC_CREAT) of key {key:#010x}: {}", std::io::Error::last_os_error())));
    }
    // SAFETY: a null address lets the kernel choose a free range.
    let addr = unsafe { libc::shmat(id, std::ptr::null(), 0) };
    if addr as isize == -1 {
        return Err(Fail::infra(format!("shmat of segment {id}: {}", std::io::Error::last_os_error())));
    }
    // SAFETY: the segment has `size` >= content.len() writable bytes at `addr`,
    // attached read-write until the shmdt below.
    unsafe { std::ptr::copy_nonoverlapping(content.as_ptr(), addr.cast::<u8>(), content.len()) };
    // SAFETY: `addr` is what shmat returned; nothing refers into it any more.
    unsafe { libc::shmdt(addr) };
    Ok(())
}
