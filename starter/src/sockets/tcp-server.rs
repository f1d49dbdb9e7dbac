//! `tcp-server [--host HOST] PORT`
//!
//! An echo server: prints `listening on ADDR`, then for each connection
//! prints `connection from ADDR`, sends back every byte it receives until the
//! client shuts down its side, closes, and prints `connection closed ADDR`.
//! Clients are served concurrently; a client that resets ends only its own
//! connection; SIGINT or SIGTERM: exit 0 within a second.
//! Read handouts/sockets.md first; `cargo grade sockets` checks it.

// This lab's shared code (src/sockets/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod sockets;

use std::process::ExitCode;

use clap::Parser;

/// Used in error messages: `tcp-server: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "tcp-server";
const USAGE: &str = "tcp-server [--host HOST] PORT";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// The address to bind (a name, an IPv4 or an IPv6 address).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port; 0 lets the system choose.
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

/// The lab: an echo server on HOST:PORT that serves every client at the
/// same time, and exits 0 within a second of SIGINT or SIGTERM.
///
/// Pitfalls:
/// - Print `listening on ADDR` with the real address (port 0: the system
///   chose one) and flush: the grader waits for that line.
/// - An idle or slow client must never hold up the others.
/// - A stream has no message boundaries: never expect one read per write
///   of the client. Send back exactly the bytes read, all of them.
/// - A client that resets, or vanishes while you write, ends its own
///   connection only. Writing to such a socket raises SIGPIPE, whose
///   default action kills the whole server: say in a comment why yours
///   does not die (or make sure of it).
/// - A signal must end the server even while it sleeps in accept.
///
/// Read: socket(7), tcp(7), bind(2), listen(2), accept(2), signal(7);
/// handouts/sockets.md; `sockets::on_termination` is given.
/// Stuck? `cargo grade --hint tcp-server` shows one hint at a time.
fn serve(host: &str, port: u16) -> ipc_common::Result<()> {
    let _ = (host, port);
    todo!("accept connections and echo each, all at the same time")
}
