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
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, serve(&args.host, args.port))
}

/// The lab. The steps:
///
/// 1. First of all, before any thread exists: arrange for SIGINT/SIGTERM to
///    print `received N datagrams` and exit 0. `sockets::
///    on_termination(|_| ...)` runs your closure on its own thread; share the
///    count with it through an `Arc<AtomicU64>`. Flush stdout before
///    `std::process::exit(0)`.
/// 2. Find the address: `(host, port).to_socket_addrs()` (std::net::ToSocketAddrs)
///    calls getaddrinfo(3); `::1` gives an IPv6 address.
/// 3. `UdpSocket::bind(addr)` is socket(2) + bind(2). With port 0 the kernel
///    picks the port: `socket.local_addr()` (getsockname(2)) tells you which.
///    Print `listening on {addr}` (`SocketAddr`'s Display writes `[::1]:PORT`
///    for IPv6) and flush stdout: the grader waits for that line.
/// 4. Loop: `recv_from(&mut buf)` (recvfrom(2)) returns ONE datagram and its
///    sender. Use a 65536-byte buffer: a smaller one cuts long datagrams
///    short. An empty datagram is a datagram (0 bytes), not end of file.
/// 5. Print `from {sender}: ` then the bytes, then `\n`; reply with
///    `send_to(b"ack N: MESSAGE", sender)` (sendto(2)).
///
/// On a failed system call: `return ipc_common::fail(PROGRAM, "bind", reason)`,
/// with `ipc_common::os_reason(&err)` as the reason for a `std::io::Error`.
fn serve(host: &str, port: u16) -> ipc_common::Result<()> {
    let _ = (host, port);
    todo!("answer datagrams until SIGTERM (the steps above)")
}
