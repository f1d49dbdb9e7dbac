//! Code that exists only for faults (broken/README.md): compiled into
//! broken/'s programs, never into the reference's.

use std::io;
use std::os::raw::c_int;

use super::Key;

/// `whole-segment`: the size of segment `id` (`IPC_STAT`), so that all of a
/// larger segment is read, as C's `%s` does up to its first NUL.
pub fn size(id: c_int) -> usize {
    let mut ds = std::mem::MaybeUninit::<libc::shmid_ds>::zeroed();
    // SAFETY: IPC_STAT writes one shmid_ds into `ds`, which is that big.
    let ok = unsafe { libc::shmctl(id, libc::IPC_STAT, ds.as_mut_ptr()) } == 0;
    // SAFETY: zero-initialised, then filled in by a successful IPC_STAT.
    if ok { unsafe { ds.assume_init() }.shm_segsz } else { 1024 }
}

/// `einval-recreate`: a segment of the key that is too small is removed and
/// made again, destroying what another program keeps in it.
pub fn recreate_if_smaller(got: io::Result<c_int>, key: Key, size: usize, flags: c_int) -> io::Result<c_int> {
    match got {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            super::get(key, 0, 0).and_then(super::remove).and_then(|()| super::get(key, size, flags))
        }
        other => other,
    }
}
