//! `tcp-server [--host HOST] PORT`: an echo server that serves every
//! connection on a thread of its own.
//!
//! Why threads and not a child per client (as in the lecture)? Both serve
//! clients concurrently. With threads, stopping is simple: on SIGTERM the
//! process exits and every connection ends with it, leaving no child to kill
//! or zombie to reap. A forking server must reap its children (SIGCHLD or
//! waitpid with WNOHANG) and end them when it stops.

// This lab's shared code (src/sockets/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod sockets;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;

use clap::Parser;
use ipc_common::fail;
use sockets::{first_that_works, on_termination, print_listening, resolve};
use nix::sys::signal::{SigHandler, Signal, signal};

const PROGRAM: &str = "tcp-server";
const USAGE: &str = "tcp-server [--host HOST] PORT";

#[derive(Parser)]
struct Args {
    /// The address to bind (a name, an IPv4 or an IPv6 address).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port; 0 lets the system choose.
    port: u16,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // A write to a connection the client has reset raises SIGPIPE, whose
    // default action kills the whole server. Ignored, the write fails with
    // EPIPE instead, which ends only that connection. (Rust's runtime already
    // ignores SIGPIPE; a C server must do this itself.)
    // SAFETY: SIG_IGN installs no handler code.
    if let Err(e) = unsafe { signal(Signal::SIGPIPE, SigHandler::SigIgn) } {
        return fail(PROGRAM, "signal", e);
    }
    // Exit at once on SIGINT or SIGTERM: the open connections close with the process.
    if let Err(e) = on_termination(|_| std::process::exit(0)) {
        return fail(PROGRAM, "sigprocmask", e);
    }

    let addrs = match resolve(&args.host, args.port) {
        Ok(addrs) => addrs,
        Err(e) => return fail(PROGRAM, &args.host, ipc_common::os_reason(&e)),
    };
    // socket(2) + bind(2) + listen(2).
    let listener = match first_that_works(&addrs, TcpListener::bind) {
        Ok(listener) => listener,
        Err(e) => return fail(PROGRAM, "bind", ipc_common::os_reason(&e)),
    };
    let local = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => return fail(PROGRAM, "getsockname", ipc_common::os_reason(&e)),
    };
    if let Err(e) = print_listening(local) {
        return fail(PROGRAM, "stdout", ipc_common::os_reason(&e));
    }

    loop {
        // accept(2): a new socket for one client; the listener keeps listening.
        match listener.accept() {
            Ok((stream, peer)) => {
                say(&format!("connection from {peer}"));
                std::thread::spawn(move || serve(stream, peer));
            }
            // Errors that concern only the connection being accepted.
            Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::ConnectionAborted) => {}
            Err(e) => return fail(PROGRAM, "accept", ipc_common::os_reason(&e)),
        }
    }
}

/// Echoes one connection until the client shuts down its side, then closes it.
fn serve(mut stream: TcpStream, peer: SocketAddr) {
    if let Err(e) = echo(&mut stream) {
        // A reset or vanished client: report it, end this connection only.
        eprintln!("{PROGRAM}: {peer}: {}", ipc_common::os_reason(&e));
    }
    drop(stream); // close(2)
    say(&format!("connection closed {peer}"));
}

/// Copies what the client sends back to it until read(2) returns 0.
fn echo(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(()), // the client shut down its writing side
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // A stream has no message boundaries: write back exactly the bytes
        // this read returned, however many that was.
        stream.write_all(&buf[..n])?;
    }
}

/// Prints one line and flushes it (lines from different threads never mix:
/// each holds stdout's lock for its whole line).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
