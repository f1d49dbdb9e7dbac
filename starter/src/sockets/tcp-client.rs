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
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    ipc_common::finish(PROGRAM, run(&args.host, args.port))
}

/// The lab. The steps:
///
/// 1. Resolve HOST with `(host, port).to_socket_addrs()` (getaddrinfo(3)) and
///    try `TcpStream::connect` (socket(2) + connect(2)) on each address until
///    one works. If none does, report the last error as
///    `tcp-client: HOST:PORT: REASON` (`ipc_common::fail` with
///    `ipc_common::os_reason(&err)`: no "(os error 111)").
/// 2. Send and receive AT THE SAME TIME. Writing all of stdin before reading
///    deadlocks on a big echo: the server's replies fill your receive buffer,
///    the server blocks writing and stops reading, and then your writes
///    block too. So: `stream.try_clone()` (dup(2)) and give the copy to a
///    thread that copies stdin to it (`std::io::copy`), then calls
///    `shutdown(Shutdown::Write)`: the server reads end of file, and you can
///    still read. (Do not close: that ends both directions.)
/// 3. Meanwhile the main thread copies the socket to stdout until `read`
///    returns 0 (the server closed); then exit 0.
fn run(host: &str, port: u16) -> ipc_common::Result<()> {
    let _ = (host, port);
    todo!("connect, then copy both ways at once (the steps above)")
}
