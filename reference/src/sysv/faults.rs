//! Code that exists only for faults (broken/README.md): compiled into
//! broken/'s programs, never into the reference's.

use std::io;
use std::os::raw::c_int;

use super::Key;

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
