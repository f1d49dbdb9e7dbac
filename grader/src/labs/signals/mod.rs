//! Lab `signals`: Signal handlers. Checks not written yet.

use crate::check::Check;
use crate::labs::Peer;

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["sig-counter", "sig-reaper", "sig-segv", "timeout-run"];

pub fn checks() -> Vec<Check> {
    Vec::new()
}

pub fn peers() -> Vec<Peer> {
    Vec::new()
}
