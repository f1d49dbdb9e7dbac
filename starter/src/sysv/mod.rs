//! System V shared memory for `sysv-shm`: small safe functions around the
//! C library's calls. Write them first; `sysv-shm.rs` uses them as
//! `sysv::key(...)`, `sysv::get(...)` and so on.
//!
//! nix has no System V IPC, so you call the `libc` crate directly. Each
//! call is `unsafe`: keep every `unsafe` block to the one call, and write a
//! `// SAFETY:` comment above it saying why the call is sound (clippy
//! refuses an `unsafe` block without one). A model:
//!
//! ```ignore
//! // SAFETY: shmget takes plain values and touches no memory of ours.
//! let id = unsafe { libc::shmget(key, size, flags) };
//! if id == -1 {
//!     return Err(io::Error::last_os_error()); // errno, e.g. EINVAL
//! }
//! ```
//!
//! Every call returns -1 (or `(void *) -1` for shmat) and sets errno on
//! failure; `io::Error::last_os_error()` turns errno into an error whose
//! text `ipc_common::os_reason` prints as the contract wants.

use std::ffi::c_int;
use std::io;
use std::path::Path;
use std::ptr::NonNull;

/// A System V IPC key (`key_t`).
pub type Key = libc::key_t;

/// The key of `path` and `proj`: `ftok(3)`.
///
/// ftok stat(2)s the file and builds the key from its inode and device
/// numbers and `proj`, so every program that names the same file (and the
/// same `proj`) gets the same key: that is how unrelated programs meet at
/// one segment, as POSIX programs meet at a name like `/ring`.
/// - The path must be a C string: `CString::new(path.as_os_str().as_bytes())`
///   (`std::os::unix::ffi::OsStrExt`).
/// - ftok returns -1 when stat fails (a missing file: ENOENT). Check it!
///   A -1 passed on to shmget is a valid key, and a segment would be made.
pub fn key(path: &Path, proj: u8) -> io::Result<Key> {
    let _ = (path, proj);
    todo!("libc::ftok(cpath.as_ptr(), proj as c_int), -1 means errno (see above)")
}

/// The id of the segment of `key`: `shmget(2)`.
///
/// `flags` is `libc::IPC_CREAT | 0o644` to create the segment, `size` bytes
/// long, if there is none. The low 9 bits of the flags are the new
/// segment's mode, used as they are: unlike `open` or `shm_open`, System V
/// IPC never applies the umask (and `IPC_CREAT` alone gives mode 0000).
/// An existing segment is found whatever `size` asks, unless it is smaller:
/// then shmget fails with EINVAL.
pub fn get(key: Key, size: usize, flags: c_int) -> io::Result<c_int> {
    let _ = (key, size, flags);
    todo!("libc::shmget(key, size, flags), -1 means errno")
}

/// Removes the segment `id`: `shmctl(id, IPC_RMID, NULL)` (shmctl(2)).
///
/// The segment goes once the last process has detached it; its key is free
/// at once. Without this it stays until reboot: `ipcs -m` lists segments,
/// `ipcrm -m ID` removes one by hand.
pub fn remove(id: c_int) -> io::Result<()> {
    let _ = id;
    todo!("libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut())")
}

/// The first `len` bytes of a segment, attached read-write: `shmat(2)`.
/// Detach with [`Attached::detach`] (shmdt(2)).
pub struct Attached {
    addr: NonNull<u8>,
    len: usize,
}

impl Attached {
    /// Attaches segment `id`: `libc::shmat(id, std::ptr::null(), 0)`.
    ///
    /// A null address lets the kernel choose where. On failure shmat
    /// returns `(void *) -1`, not NULL: test `addr as isize == -1`.
    pub fn new(id: c_int, len: usize) -> io::Result<Attached> {
        let _ = (id, len);
        todo!("shmat the segment and keep its address")
    }

    /// The attached bytes: `std::slice::from_raw_parts(addr, len)`
    /// (`unsafe`: say why the pointer and length are valid).
    pub fn bytes(&self) -> &[u8] {
        let _ = (self.addr, self.len);
        todo!("a slice over the attached segment")
    }

    /// The attached bytes, to write into: `from_raw_parts_mut`.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        todo!("a mutable slice over the attached segment")
    }

    /// Detaches: `libc::shmdt(addr)`. It takes `self`, so no slice into the
    /// segment can be used after it.
    pub fn detach(self) -> io::Result<()> {
        todo!("shmdt the segment")
    }
}
