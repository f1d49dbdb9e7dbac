//! System V shared memory for `sysv-shm`: small safe functions around the
//! C library's calls. Write them first; `sysv-shm.rs` uses them as
//! `sysv::key(...)`, `sysv::get(...)` and so on.
//!
//! nix has no System V IPC, so you call the `libc` crate directly. Each
//! call is `unsafe`: keep every `unsafe` block to the one call, and write a
//! `// SAFETY:` comment above it saying why the call is sound (clippy
//! refuses an `unsafe` block without one). Every call reports failure with
//! -1 (shmat with `(void *) -1`) and errno; `io::Error::last_os_error()`
//! reads errno, and `ipc_common::os_reason` prints it as the contract wants.

use std::ffi::c_int;
use std::io;
use std::path::Path;
use std::ptr::NonNull;

/// A System V IPC key (`key_t`).
pub type Key = libc::key_t;

/// The key of `path` and `proj`: ftok(3).
///
/// ftok stat(2)s the file and builds the key from its inode and device
/// numbers and `proj`, so every program that names the same file (and the
/// same `proj`) gets the same key: that is how unrelated programs meet at
/// one segment, as POSIX programs meet at a name like `/ring`.
///
/// Pitfalls:
/// - The C function wants a NUL-terminated path.
/// - ftok fails when stat fails (a missing file). Unchecked, its -1 goes on
///   to shmget, where it is a valid key, and a segment nobody asked for is
///   made.
///
/// Read: ftok(3), handouts/sysv.md#keys-and-ftok.
pub fn key(path: &Path, proj: u8) -> io::Result<Key> {
    let _ = (path, proj);
    todo!("the key of path and proj")
}

/// The id of the segment of `key`, created `size` bytes long if there is
/// none and `flags` ask for it: shmget(2).
///
/// Pitfalls:
/// - The low 9 bits of the flags are a new segment's mode, used as they
///   are: System V IPC never applies the umask, and creating with no mode
///   bits gives mode 0000.
/// - An existing segment is found whatever `size` asks, unless it is
///   smaller: then the call fails (EINVAL).
///
/// Read: shmget(2), handouts/sysv.md#finding-or-creating-a-segment.
pub fn get(key: Key, size: usize, flags: c_int) -> io::Result<c_int> {
    let _ = (key, size, flags);
    todo!("find or create the segment of key")
}

/// Removes the segment `id`: shmctl(2).
///
/// The segment goes once the last process has detached it; its key is free
/// at once. Without this it stays until reboot: `ipcs -m` lists segments,
/// `ipcrm -m ID` removes one by hand.
///
/// Read: shmctl(2) (IPC_RMID).
pub fn remove(id: c_int) -> io::Result<()> {
    let _ = id;
    todo!("remove the segment")
}

/// The first `len` bytes of a segment, attached read-write: `shmat(2)`.
/// Detach with [`Attached::detach`] (shmdt(2)).
pub struct Attached {
    addr: NonNull<u8>,
    len: usize,
}

impl Attached {
    /// Attaches segment `id`, read-write, wherever the kernel chooses.
    ///
    /// Pitfalls:
    /// - On failure shmat returns `(void *) -1`, not NULL.
    ///
    /// Read: shmat(2).
    pub fn new(id: c_int, len: usize) -> io::Result<Attached> {
        let _ = (id, len);
        todo!("shmat the segment and keep its address")
    }

    /// The attached bytes, as a slice that borrows `self`.
    ///
    /// Pitfalls:
    /// - Making a slice from a pointer is `unsafe`: the `// SAFETY:`
    ///   comment says why the pointer and the length are valid.
    pub fn bytes(&self) -> &[u8] {
        let _ = (self.addr, self.len);
        todo!("a slice over the attached segment")
    }

    /// The attached bytes, to write into.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        todo!("a mutable slice over the attached segment")
    }

    /// Detaches: shmdt(2). It takes `self`, so no slice into the segment
    /// can be used after it.
    pub fn detach(self) -> io::Result<()> {
        todo!("shmdt the segment")
    }
}
