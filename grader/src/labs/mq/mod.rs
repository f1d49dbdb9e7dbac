//! Lab `mq`: POSIX message queues. Checks not written yet.

use crate::check::Check;
use crate::labs::Peer;

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["mq-send", "mq-recv"];

pub fn checks() -> Vec<Check> {
    Vec::new()
}

pub fn peers() -> Vec<Peer> {
    Vec::new()
}
