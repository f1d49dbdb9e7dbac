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
/// 1. SIGPIPE: writing to a connection the client has reset raises it, and
///    its default action kills the whole server. Rust's runtime sets it to
///    SIG_IGN before `main`, and std's `TcpStream::write` passes MSG_NOSIGNAL;
///    say so in a comment, or set it yourself with `nix::sys::signal::signal`.
/// 2. Stopping: `sockets::on_termination(|_| std::process::exit(0))`
///    first thing (before any thread). Exiting ends every thread, and so
///    every connection: no need to wait for clients.
/// 3. `TcpListener::bind(addr)` is socket(2) + bind(2) + listen(2) (resolve
///    HOST with `(host, port).to_socket_addrs()`). Print `listening on
///    {listener.local_addr()}` and flush stdout.
/// 4. Loop on `accept()` (accept(2)): a NEW socket for one client. Print
///    `connection from {peer}` and hand the socket to a thread
///    (`std::thread::spawn(move || ...)`) at once, so an idle client never
///    blocks the others. (Or fork a child per client as in the lecture; then
///    you must reap children, and end them on SIGTERM.)
/// 5. In the thread: `read` into a buffer and `write_all` exactly the bytes
///    read, until `read` returns 0 (the client shut down its side). A stream
///    has no message boundaries: never expect one read per client write.
///    On an error (ECONNRESET, EPIPE) end only this connection. Then drop
///    the socket (close(2)) and print `connection closed {peer}`.
fn serve(host: &str, port: u16) -> ipc_common::Result<()> {
    let _ = (host, port);
    todo!("accept connections and echo each on its own thread (the steps above)")
}
