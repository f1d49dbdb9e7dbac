//! `udp-client [--timeout MS] [--retries R] HOST PORT`
//!
//! Sends each line of stdin (without its newline, empty lines too) as one
//! datagram to HOST:PORT and prints the reply as `Server says: REPLY`. With no
//! reply within MS milliseconds (default 500) it sends the same datagram
//! again, at most R more times (default 3); then
//! `udp-client: no reply from HOST:PORT`, exit 1.
//! Read handouts/sockets.md first; `cargo grade sockets` checks it.

// This lab's shared code (src/sockets/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod sockets;

use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `udp-client: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "udp-client";
const USAGE: &str = "udp-client [--timeout MS] [--retries R] HOST PORT";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// How long to wait for each reply, in milliseconds (at least 1).
    #[arg(long, value_name = "MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// How many more times to send a datagram that got no reply.
    #[arg(long, value_name = "R", default_value_t = 3)]
    retries: u32,
    host: String,
    port: u16,
}

fn main() -> ExitCode {
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, run(args))
}

/// The lab: send each line of stdin (empty ones too, without their
/// newline) as one datagram to HOST:PORT and print each reply as
/// `Server says: REPLY`; a datagram without a reply in time is sent again,
/// up to `retries` more times, then `udp-client: no reply from HOST:PORT`.
///
/// Pitfalls:
/// - HOST may be a name (`localhost`), an IPv4 or an IPv6 address: the
///   local socket must be of the server's family.
/// - Replies from anyone but the server must be ignored.
/// - UDP loses datagrams: a receive must not wait forever.
/// - A socket that knows its peer may report an earlier datagram's ICMP
///   "port unreachable" on a later receive (ECONNREFUSED): that is not a
///   reply, and not a reason to stop early; the contract counts tries and
///   their time.
///
/// Read: udp(7), socket(7) (SO_RCVTIMEO), connect(2) on a datagram socket,
/// send(2), recv(2), getaddrinfo(3); handouts/sockets.md.
/// Stuck? `cargo grade --hint udp-client` shows one hint at a time.
fn run(args: Args) -> ipc_common::Result<()> {
    let _ = (args.timeout, args.retries, args.host, args.port);
    todo!("send each line, with retransmission")
}
