//! `udp-server [--host HOST] PORT`: answers every datagram with `ack N: MESSAGE`
//! and reports how many it received when told to stop.

// This lab's shared code (src/sockets/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod sockets;

use std::io::Write;
use std::net::UdpSocket;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Parser;
use ipc_common::{Context, Error, fault};
use sockets::{first_that_works, on_termination, print_listening, resolve};

/// Used in error messages: `udp-server: CONTEXT: REASON`.
const PROGRAM: &str = "udp-server";
const USAGE: &str = "udp-server [--host HOST] PORT";

/// The largest UDP payload: a smaller buffer would cut longer datagrams short.
const MAX_DATAGRAM: usize = 65536;

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
        Err(code) => return if fault!("usage-status-1") { ExitCode::FAILURE } else { code },
    };
    ipc_common::finish(PROGRAM, serve(&args.host, args.port))
}

/// The lab: answer every datagram with `ack N: MESSAGE` until SIGINT or
/// SIGTERM, then print how many came.
fn serve(host: &str, port: u16) -> ipc_common::Result<()> {
    // Counted by the main thread, read by the thread that waits for SIGTERM.
    let received = Arc::new(AtomicU64::new(0));
    let count = received.clone();
    on_termination(move |_| {
        let n = count.load(Ordering::SeqCst);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "received {n} datagrams");
        let _ = out.flush();
        // Ends every thread, the one blocked in recv_from included.
        std::process::exit(0)
    })
    .context("sigprocmask")?;

    let host = if fault!("ipv4-only") { "127.0.0.1" } else { host };
    let addrs = resolve(host, port).context(host)?;
    // socket(2) + bind(2).
    let socket = first_that_works(&addrs, UdpSocket::bind).context("bind")?;
    // With port 0 the kernel chose the port: getsockname(2) tells which.
    let local = socket.local_addr().context("getsockname")?;
    // `print-port-zero`: the address asked for, not the one bound.
    print_listening(if fault!("print-port-zero") { addrs[0] } else { local }).context("stdout")?;

    let mut buf = vec![0u8; if fault!("small-buffer") { 1024 } else { MAX_DATAGRAM }];
    loop {
        // One recvfrom(2) returns exactly one datagram, and who sent it.
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::new("recvfrom", e)),
        };
        fault!("skip-empty" => if len == 0 { continue });
        let message = &buf[..len];
        let n = received.fetch_add(1, Ordering::SeqCst) + if fault!("count-from-zero") { 0 } else { 1 };
        let mut out = std::io::stdout().lock();
        write!(out, "from {from}: ")
            .and_then(|()| out.write_all(message))
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
            .context("stdout")?;
        drop(out);
        let reply = [format!("ack {n}: ").as_bytes(), message].concat();
        // sendto(2): one datagram back to the sender. A failure concerns only
        // this sender (it may be gone): report it and keep serving.
        if let Err(e) = socket.send_to(&reply, from) {
            eprintln!("{PROGRAM}: sendto {from}: {}", ipc_common::reason(e));
        }
    }
}
