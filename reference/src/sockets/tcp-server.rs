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
use ipc_common::{Context, Error, fault};
use nix::sys::signal::{SigHandler, Signal, signal};
use sockets::{first_that_works, on_termination, print_listening, resolve};

/// Used in error messages: `tcp-server: CONTEXT: REASON`.
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
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, serve(&args.host, args.port))
}

/// The lab: listen, and echo every connection on a thread of its own until
/// SIGINT or SIGTERM.
fn serve(host: &str, port: u16) -> ipc_common::Result<()> {
    // A write to a connection the client has reset raises SIGPIPE, whose
    // default action kills the whole server. Ignored, the write fails with
    // EPIPE instead, which ends only that connection. (Rust's runtime already
    // ignores SIGPIPE; a C server must do this itself.)
    let action = if fault!("sigpipe-default") { SigHandler::SigDfl } else { SigHandler::SigIgn };
    // SAFETY: SIG_IGN (and SIG_DFL) install no handler code.
    unsafe { signal(Signal::SIGPIPE, action) }.context("signal")?;
    // Exit at once on SIGINT or SIGTERM: the open connections close with the process.
    on_termination(|_| {
        fault!("waits-for-clients" => sockets::faults::wait_for_connection_threads());
        std::process::exit(0)
    })
    .context("sigprocmask")?;

    let host = if fault!("ipv4-only") { "127.0.0.1" } else { host };
    let addrs = resolve(host, port).context(host)?;
    // socket(2) + bind(2) + listen(2).
    let listener = first_that_works(&addrs, TcpListener::bind).context("bind")?;
    let local = listener.local_addr().context("getsockname")?;
    // `print-port-zero`: the address asked for, not the one bound.
    print_listening(if fault!("print-port-zero") { addrs[0] } else { local }).context("stdout")?;

    loop {
        // accept(2): a new socket for one client; the listener keeps listening.
        match listener.accept() {
            Ok((stream, peer)) => {
                say(&format!("connection from {peer}"));
                fault!("sequential" => { serve_connection(stream, peer); continue }); // one client at a time
                std::thread::spawn(move || serve_connection(stream, peer));
            }
            // Errors that concern only the connection being accepted.
            Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::ConnectionAborted) => {}
            Err(e) => return Err(Error::new("accept", e)),
        }
    }
}

/// Echoes one connection until the client shuts down its side, then closes it.
fn serve_connection(mut stream: TcpStream, peer: SocketAddr) {
    if let Err(e) = echo(&mut stream) {
        // A reset or vanished client: report it, end this connection only.
        eprintln!("{PROGRAM}: {peer}: {}", ipc_common::reason(e));
    }
    drop(stream); // close(2)
    if !fault!("no-closed-line") {
        say(&format!("connection closed {peer}"));
    }
}

/// Copies what the client sends back to it until read(2) returns 0.
fn echo(stream: &mut TcpStream) -> std::io::Result<()> {
    fault!("fixed-buffer" => return sockets::faults::echo_first_16_mib(stream));
    let mut buf = vec![0u8; sockets::STREAM_BUFFER];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(()), // the client shut down its writing side
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // `sigpipe-default`: as C's `write(fd, buf, n)`: write(2) (std's
        // send uses MSG_NOSIGNAL), its result ignored.
        fault!("sigpipe-default" => { let _ = nix::unistd::write(&*stream, &buf[..n]); continue });
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
