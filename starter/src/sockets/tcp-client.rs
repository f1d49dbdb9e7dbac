//! `tcp-client HOST PORT`
//!
//! Connects, copies stdin to the socket while copying the socket to stdout,
//! shuts down its writing side at the end of stdin, keeps reading until the
//! server closes, and exits 0. Connection refused:
//! `tcp-client: HOST:PORT: Connection refused`, exit 1.
//! Read handouts/sockets.md first; `cargo grade sockets` checks it.

// This lab's shared code (src/sockets/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod sockets;

use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `tcp-client: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "tcp-client";
const USAGE: &str = "tcp-client HOST PORT";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
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
    ipc_common::finish(PROGRAM, run(&args.host, args.port))
}

/// The lab: connect to HOST:PORT, send stdin while printing what comes
/// back, tell the server when stdin has ended, and exit 0 once the server
/// has closed.
///
/// Pitfalls:
/// - HOST may be a name with several addresses: try each until one
///   connects; report the last error as `tcp-client: HOST:PORT: REASON`
///   (the OS's text alone, not std's "(os error 111)").
/// - Writing all of stdin before reading deadlocks on a big echo: the
///   server's replies fill your receive buffer, the server blocks writing
///   and stops reading, and then your writes block too.
/// - Closing the socket ends both directions; the server must see end of
///   file while you can still read its last bytes.
///
/// Read: getaddrinfo(3), connect(2), shutdown(2), socket(7), tcp(7);
/// handouts/sockets.md (Why two threads, Half-closing).
/// Stuck? `cargo grade --hint tcp-client` shows one hint at a time.
fn run(host: &str, port: u16) -> ipc_common::Result<()> {
    let _ = (host, port);
    todo!("connect, then copy both ways at once")
}
