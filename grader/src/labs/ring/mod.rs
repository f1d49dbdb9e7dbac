//! Lab `ring`: A circular buffer in shared memory. Checks not written yet.

use crate::check::Check;
use crate::labs::Peer;

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["ring-producer", "ring-consumer", "ring-fork"];

pub fn checks() -> Vec<Check> {
    Vec::new()
}

pub fn peers() -> Vec<Peer> {
    Vec::new()
}
