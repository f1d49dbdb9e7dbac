//! `udp-server [--host HOST] PORT`
//!
//! Binds a UDP socket to HOST:PORT (PORT 0: the system chooses), prints
//! `listening on ADDR` with the real address, then for each datagram prints
//! `from ADDR: MESSAGE` and replies `ack N: MESSAGE` (N counts from 1). On
//! SIGINT or SIGTERM prints `received N datagrams` and exits 0.
//! Read handouts/sockets.md first; `cargo grade sockets` checks it.

// This lab's shared code (src/sockets/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod sockets;

use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `udp-server: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "udp-server";
const USAGE: &str = "udp-server [--host HOST] PORT";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// The address to bind (a name, an IPv4 or an IPv6 address).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port; 0 lets the system choose. A `u16`: clap rejects 70000 for you.
    port: u16,
}

fn main() -> ExitCode {
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, serve(&args.host, args.port))
}

/// The lab: bind a UDP socket to HOST:PORT, say `listening on ADDR`, then
/// answer every datagram (`from ADDR: MESSAGE` printed, `ack N: MESSAGE`
/// sent back, N counting from 1); on SIGINT or SIGTERM print
/// `received N datagrams` and exit 0.
///
/// Pitfalls:
/// - Port 0 lets the system choose: print the address really bound, in
///   `SocketAddr`'s form (`[::1]:PORT` for IPv6), and flush.
/// - A datagram is one message of up to 64 KiB: a smaller buffer cuts it
///   short. An empty datagram is a datagram, not end of file.
/// - The signal comes while the main thread sleeps in a receive: a flag
///   set by a handler would never be looked at.
///
/// Read: udp(7), bind(2), getsockname(2), recvfrom(2), sendto(2),
/// getaddrinfo(3); handouts/sockets.md; `sockets::on_termination` is given.
/// Stuck? `cargo grade --hint udp-server` shows one hint at a time.
fn serve(host: &str, port: u16) -> ipc_common::Result<()> {
    let _ = (host, port);
    todo!("answer datagrams until SIGTERM")
}
