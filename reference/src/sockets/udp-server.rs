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
use ipc_common::{fail, fault};
use sockets::{first_that_works, on_termination, print_listening, resolve};

const PROGRAM: &str = "udp-server";
const USAGE: &str = "udp-server [--host HOST] PORT";

/// The largest UDP payload: a smaller buffer would cut longer datagrams short.
const MAX_DATAGRAM: usize = 65536;

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
        Err(_) if fault!("usage-status-1") => return fail(PROGRAM, "arguments", "bad"),
        Err(code) => return code,
    };
    // Counted by the main thread, read by the thread that waits for SIGTERM.
    let received = Arc::new(AtomicU64::new(0));
    let count = received.clone();
    let stopping = on_termination(move |_| {
        let n = count.load(Ordering::SeqCst);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "received {n} datagrams");
        let _ = out.flush();
        // Ends every thread, the one blocked in recv_from included.
        std::process::exit(0)
    });
    if let Err(e) = stopping {
        return fail(PROGRAM, "sigprocmask", e);
    }

    let host = if fault!("ipv4-only") { "127.0.0.1" } else { args.host.as_str() };
    let addrs = match resolve(host, args.port) {
        Ok(addrs) => addrs,
        Err(e) => return fail(PROGRAM, host, ipc_common::os_reason(&e)),
    };
    // socket(2) + bind(2).
    let socket = match first_that_works(&addrs, UdpSocket::bind) {
        Ok(socket) => socket,
        Err(e) => return fail(PROGRAM, "bind", ipc_common::os_reason(&e)),
    };
    // With port 0 the kernel chose the port: getsockname(2) tells which.
    let local = match socket.local_addr() {
        Ok(addr) => addr,
        Err(e) => return fail(PROGRAM, "getsockname", ipc_common::os_reason(&e)),
    };
    // Fault `print-port-zero`: the address asked for, not the one bound.
    if let Err(e) = print_listening(if fault!("print-port-zero") { addrs[0] } else { local }) {
        return fail(PROGRAM, "stdout", ipc_common::os_reason(&e));
    }

    let mut buf = vec![0u8; if fault!("small-buffer") { 1024 } else { MAX_DATAGRAM }];
    loop {
        // One recvfrom(2) returns exactly one datagram, and who sent it.
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return fail(PROGRAM, "recvfrom", ipc_common::os_reason(&e)),
        };
        if fault!("skip-empty") && len == 0 {
            continue;
        }
        let message = &buf[..len];
        let n = received.fetch_add(1, Ordering::SeqCst) + if fault!("count-from-zero") { 0 } else { 1 };
        {
            let mut out = std::io::stdout().lock();
            let printed = write!(out, "from {from}: ")
                .and_then(|()| out.write_all(message))
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.flush());
            if let Err(e) = printed {
                return fail(PROGRAM, "stdout", ipc_common::os_reason(&e));
            }
        }
        let mut reply = format!("ack {n}: ").into_bytes();
        reply.extend_from_slice(message);
        // sendto(2): one datagram back to the sender. A failure concerns only
        // this sender (it may be gone): report it and keep serving.
        if let Err(e) = socket.send_to(&reply, from) {
            eprintln!("{PROGRAM}: sendto {from}: {}", ipc_common::os_reason(&e));
        }
    }
}
