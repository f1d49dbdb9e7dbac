//! The grader's trusted programs for the labs: partners that stand in for a
//! student's program (a ring consumer, an echo server, an RPC server) and
//! probes that observe (what a pipeline stage inherits). All of them are one
//! executable, `ipc-grader-peers`, that runs the peer its `argv[0]` names (see
//! `ipc_engine::peer`).
//!
//! This crate knows each lab's wire format and nothing of rubrics, points
//! or hidden checks: the `ipc-grader-peers` executable, which programs under test
//! may run (a probe on a pipeline's PATH), holds none of the grader's
//! secrets. The grader's checks use the formats from here.

use std::ffi::OsString;
use std::process::ExitCode;

use ipc_engine::peer::Peer;

pub mod fifo;
pub mod mmap;
pub mod mq;
pub mod pipe;
pub mod ring;
pub mod rpc;
pub mod sockets;

/// Every lab's peers.
pub fn all() -> Vec<Peer> {
    vec![
        Peer::probe(pipe::NAME, pipe::main),
        Peer::partner(fifo::SERVER, fifo::server),
        Peer::partner(fifo::CLIENT, fifo::client),
        Peer::probe(fifo::UMASK, fifo::umask_exec),
        Peer::partner(ring::PRODUCER, ring::producer),
        Peer::partner(ring::CONSUMER, ring::consumer),
        Peer::partner(mq::NAME, mq::main),
        Peer::partner(sockets::UDP_SERVER, sockets::udp_server),
        Peer::partner(sockets::TCP_SERVER, sockets::tcp_server),
        Peer::partner(sockets::TCP_CLIENT, sockets::tcp_client),
        Peer::partner(sockets::RESETTER, sockets::resetter),
        Peer::partner(rpc::server::SERVER, rpc::server::server),
        Peer::probe(mmap::NAME, mmap::main),
    ]
}

/// The `ipc-grader-peers` executable: the peer named by `argv[0]`, or, as
/// `ipc-grader --peer NAME ARGS...` (the name the commands that reproduce a
/// check use), a peer by hand.
pub fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let peers = all();
    if let Some(code) = ipc_engine::peer::dispatch(&argv, &peers) {
        return code;
    }
    if argv.get(1).is_some_and(|a| a == "--peer") {
        let name = argv.get(2).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        return ipc_engine::peer::run_by_hand(&name, argv.get(3..).unwrap_or_default().to_vec(), &peers);
    }
    eprintln!(
        "ipc-grader-peers: the grader's own programs, started under a peer's name; by hand: ipc-grader --peer NAME ARGS..."
    );
    ExitCode::from(2)
}
