//! Lab `mmap`: Memory-mapped files and msync. Checks not written yet.

use crate::check::Check;
use crate::labs::Peer;

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["mmap-write", "mmap-read", "mmap-counter", "mmap-private", "mmap-copy"];

pub fn checks() -> Vec<Check> {
    Vec::new()
}

pub fn peers() -> Vec<Peer> {
    Vec::new()
}
