//! Lab `sockets`: UDP and TCP clients and servers. Checks not written yet.

use crate::check::Check;
use crate::labs::Peer;

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["udp-server", "udp-client", "tcp-server", "tcp-client"];

pub fn checks() -> Vec<Check> {
    Vec::new()
}

pub fn peers() -> Vec<Peer> {
    Vec::new()
}
