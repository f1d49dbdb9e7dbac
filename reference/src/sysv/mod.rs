//! System V shared memory for `sysv-shm`: a key from a file, a segment
//! found or created by key, and an attachment that detaches itself.
//!
//! nix has no System V IPC, so these are the `libc` calls, each in a small
//! `unsafe` block behind a safe function.

use std::ffi::{CString, c_int};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::NonNull;

/// A System V IPC key (`key_t`).
pub type Key = libc::key_t;

/// The key of `path` and `proj` (ftok(3)): built from the file's device and
/// inode numbers, so every program that names the same file gets the same
/// key. Fails like stat(2) does (`ENOENT` for a missing file).
pub fn key(path: &Path, proj: u8) -> io::Result<Key> {
    let path = CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `path` is a NUL-terminated string that lives across the call;
    // ftok only reads it.
    let key = unsafe { libc::ftok(path.as_ptr(), c_int::from(proj)) };
    if key == -1 { Err(io::Error::last_os_error()) } else { Ok(key) }
}

/// The id of the segment of `key` (shmget(2)). With `IPC_CREAT` in `flags`
/// it is created with `size` bytes if there is none; the low 9 bits of
/// `flags` are its mode, taken as they are (no umask).
pub fn get(key: Key, size: usize, flags: c_int) -> io::Result<c_int> {
    // SAFETY: shmget takes plain values and touches no memory of ours.
    let id = unsafe { libc::shmget(key, size, flags) };
    if id == -1 { Err(io::Error::last_os_error()) } else { Ok(id) }
}

/// Marks the segment `id` for removal (shmctl(2) `IPC_RMID`): it goes once
/// the last process has detached it, and its key is free at once.
pub fn remove(id: c_int) -> io::Result<()> {
    // SAFETY: IPC_RMID reads no buffer, so a null `buf` is allowed.
    let status = unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
    if status == -1 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// The first `len` bytes of a segment, attached read-write (shmat(2)).
/// Detached when dropped, or with [`Attached::detach`] to see an error.
pub struct Attached {
    addr: NonNull<u8>,
    len: usize,
}

impl Attached {
    /// Attaches segment `id` at an address the kernel chooses. The segment
    /// must be at least `len` bytes (shmget with that size succeeded).
    pub fn new(id: c_int, len: usize) -> io::Result<Attached> {
        // SAFETY: a null address lets the kernel choose a free range, so no
        // existing mapping of ours is replaced.
        let addr = unsafe { libc::shmat(id, std::ptr::null(), 0) };
        if addr as isize == -1 {
            return Err(io::Error::last_os_error());
        }
        let addr = NonNull::new(addr.cast::<u8>()).ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        Ok(Attached { addr, len })
    }

    /// The attached bytes.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the attachment covers at least `len` readable bytes and
        // lives as long as `self`. Another process may write them meanwhile:
        // this program only copies them out.
        unsafe { std::slice::from_raw_parts(self.addr.as_ptr(), self.len) }
    }

    /// The attached bytes, to write into.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, attached read-write; `&mut self` makes this
        // the only reference into it from this process.
        unsafe { std::slice::from_raw_parts_mut(self.addr.as_ptr(), self.len) }
    }

    /// Detaches (shmdt(2)), reporting a failure.
    pub fn detach(self) -> io::Result<()> {
        let addr = self.addr;
        std::mem::forget(self);
        detach(addr)
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        let _ = detach(self.addr);
    }
}

fn detach(addr: NonNull<u8>) -> io::Result<()> {
    // SAFETY: `addr` is what shmat returned, and the caller gives up its
    // `Attached`, so no slice into the segment outlives this call.
    let status = unsafe { libc::shmdt(addr.as_ptr().cast()) };
    if status == -1 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// What exists only for broken/ (its fault hooks, broken/README.md).
#[cfg(ipc_faults)]
pub mod faults;
