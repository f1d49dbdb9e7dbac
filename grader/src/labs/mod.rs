//! The labs: each module holds one lab's checks and the grader's trusted
//! peers for it. Points, time limits and hints are in `rubric/LAB.toml`.

use std::ffi::OsString;
use std::process::ExitCode;

use crate::check::Check;

pub mod mmap;
pub mod mq;
pub mod pipe;
pub mod ring;
pub mod rpc;
pub mod signals;
pub mod sockets;

/// One lab.
pub struct Lab {
    pub name: &'static str,
    /// The contract's programs of this lab.
    pub programs: &'static [&'static str],
    pub checks: fn() -> Vec<Check>,
    pub peers: fn() -> Vec<Peer>,
    /// The lab's rubric file, compiled in.
    pub rubric: &'static str,
}

/// A trusted program the grader runs as a partner or probe. It is the
/// grader's own executable, started under the peer's name (a link on the
/// check's PATH) or as `ipc-grader peer NAME ARGS...`.
pub struct Peer {
    pub name: &'static str,
    pub run: fn(Vec<OsString>) -> ExitCode,
}

/// Every lab, in the order of the course.
pub static LABS: &[Lab] = &[
    Lab {
        name: "pipe",
        programs: pipe::PROGRAMS,
        checks: pipe::checks,
        peers: pipe::peers,
        rubric: include_str!("../../../rubric/pipe.toml"),
    },
    Lab {
        name: "ring",
        programs: ring::PROGRAMS,
        checks: ring::checks,
        peers: ring::peers,
        rubric: include_str!("../../../rubric/ring.toml"),
    },
    Lab {
        name: "mq",
        programs: mq::PROGRAMS,
        checks: mq::checks,
        peers: mq::peers,
        rubric: include_str!("../../../rubric/mq.toml"),
    },
    Lab {
        name: "sockets",
        programs: sockets::PROGRAMS,
        checks: sockets::checks,
        peers: sockets::peers,
        rubric: include_str!("../../../rubric/sockets.toml"),
    },
    Lab {
        name: "signals",
        programs: signals::PROGRAMS,
        checks: signals::checks,
        peers: signals::peers,
        rubric: include_str!("../../../rubric/signals.toml"),
    },
    Lab {
        name: "mmap",
        programs: mmap::PROGRAMS,
        checks: mmap::checks,
        peers: mmap::peers,
        rubric: include_str!("../../../rubric/mmap.toml"),
    },
    Lab {
        name: "rpc",
        programs: rpc::PROGRAMS,
        checks: rpc::checks,
        peers: rpc::peers,
        rubric: include_str!("../../../rubric/rpc.toml"),
    },
];

/// The peer called `name`, in any lab.
pub fn peer(name: &str) -> Option<Peer> {
    LABS.iter().flat_map(|lab| (lab.peers)()).find(|p| p.name == name)
}
