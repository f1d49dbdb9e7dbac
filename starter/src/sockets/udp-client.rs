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
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, run(args))
}

/// The lab. The steps:
///
/// 1. Resolve HOST: `(host, port).to_socket_addrs()` calls getaddrinfo(3), so
///    `localhost` works. Use the first address that works.
/// 2. `UdpSocket::bind("0.0.0.0:0")` (or `"[::]:0"` for an IPv6 server), then
///    `connect(server)`. On a UDP socket connect(2) sends nothing: it fixes
///    where `send` goes, and the kernel then drops datagrams from anyone else
///    (the contract: ignore replies from a third party).
/// 3. For each line of stdin (`BufRead::split(b'\n')` keeps empty lines):
///    `send(line)`, then wait for the reply with a timeout:
///    `set_read_timeout(Some(ms))` (SO_RCVTIMEO, socket(7)); `recv` then fails
///    with `ErrorKind::WouldBlock` (or `TimedOut`) when the time is up, and
///    you send again: 1 + R tries in all.
///    A CONNECTED UDP socket may also see `ErrorKind::ConnectionRefused`
///    from `recv` (ECONNREFUSED): the kernel got an ICMP "port unreachable"
///    for an earlier datagram, because nothing listened at HOST:PORT then.
///    That is not a reply and not a reason to stop: treat it as "no reply
///    yet", wait out the rest of this try's MS milliseconds (sleep until the
///    try's deadline), and send again as after a time-out. Exiting at once
///    would break the contract's count of tries and its time.
/// 4. Print `Server says: ` and the reply's bytes, then `\n`.
/// 5. No reply after the last try: `udp-client: no reply from HOST:PORT` on
///    stderr, exit 1 (HOST and PORT as given on the command line).
fn run(args: Args) -> ipc_common::Result<()> {
    let _ = (args.timeout, args.retries, args.host, args.port);
    todo!("send each line, with retransmission (the steps above)")
}
