//! The labs: each module holds one lab's checks (its trusted peers are in
//! the `ipc-peers` crate). Points, time limits and hints are in
//! `rubric/LAB.toml`.

//! A lab's hidden checks are in `grader/src/hidden/` (see there).

use ipc_engine::check::Check;

pub mod fifo;
pub mod mmap;
pub mod mq;
pub mod pipe;
pub mod ring;
pub mod rpc;
pub mod signals;
pub mod sockets;
pub mod sysv;

/// One lab.
pub struct Lab {
    pub name: &'static str,
    /// The contract's programs of this lab.
    pub programs: &'static [&'static str],
    pub checks: fn() -> Vec<Check>,
    /// The lab's rubric file, compiled in.
    pub rubric: &'static str,
}

impl Lab {
    /// Every check of the lab, with whether it is hidden: the lab's own,
    /// then its hidden ones.
    pub fn all_checks(&self) -> Vec<(Check, bool)> {
        let visible = (self.checks)().into_iter().map(|c| (c, false));
        visible.chain(crate::hidden::checks(self.name).into_iter().map(|c| (c, true))).collect()
    }
}

/// Every lab, in the order of the course.
pub static LABS: &[Lab] = &[
    Lab {
        name: "pipe",
        programs: pipe::PROGRAMS,
        checks: pipe::checks,
        rubric: include_str!("../../../rubric/pipe.toml"),
    },
    Lab {
        name: "fifo",
        programs: fifo::PROGRAMS,
        checks: fifo::checks,
        rubric: include_str!("../../../rubric/fifo.toml"),
    },
    Lab {
        name: "ring",
        programs: ring::PROGRAMS,
        checks: ring::checks,
        rubric: include_str!("../../../rubric/ring.toml"),
    },
    Lab {
        name: "sysv",
        programs: sysv::PROGRAMS,
        checks: sysv::checks,
        rubric: include_str!("../../../rubric/sysv.toml"),
    },
    Lab { name: "mq", programs: mq::PROGRAMS, checks: mq::checks, rubric: include_str!("../../../rubric/mq.toml") },
    Lab {
        name: "sockets",
        programs: sockets::PROGRAMS,
        checks: sockets::checks,
        rubric: include_str!("../../../rubric/sockets.toml"),
    },
    Lab { name: "rpc", programs: rpc::PROGRAMS, checks: rpc::checks, rubric: include_str!("../../../rubric/rpc.toml") },
    Lab {
        name: "signals",
        programs: signals::PROGRAMS,
        checks: signals::checks,
        rubric: include_str!("../../../rubric/signals.toml"),
    },
    Lab {
        name: "mmap",
        programs: mmap::PROGRAMS,
        checks: mmap::checks,
        rubric: include_str!("../../../rubric/mmap.toml"),
    },
];
