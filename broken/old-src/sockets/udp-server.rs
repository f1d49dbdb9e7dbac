//! `udp-server` with faults (see broken/faults/sockets.toml).

use std::io::Write;
use std::net::UdpSocket;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Parser;
use ipc_broken::fault;
use ipc_common::fail;

use ipc_reference::sockets::{first_that_works, on_termination, print_listening, resolve};

const PROGRAM: &str = "udp-server";
const USAGE: &str = "udp-server [--host HOST] PORT";

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    port: u16,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(_) if fault("usage-status-1") => return fail(PROGRAM, "arguments", "bad"),
        Err(_) => return ipc_common::usage(USAGE),
    };
    let received = Arc::new(AtomicU64::new(0));
    let count = received.clone();
    if !fault("no-signal-handling") {
        let stopping = on_termination(move |_| {
            let n = count.load(Ordering::SeqCst);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "received {n} datagrams");
            let _ = out.flush();
            std::process::exit(0)
        });
        if let Err(e) = stopping {
            return fail(PROGRAM, "sigprocmask", e);
        }
    }
    let host = if fault("ipv4-only") { "127.0.0.1".to_string() } else { args.host };
    let addrs = match resolve(&host, args.port) {
        Ok(addrs) => addrs,
        Err(e) => return fail(PROGRAM, &host, ipc_common::os_reason(&e)),
    };
    let socket = match first_that_works(&addrs, UdpSocket::bind) {
        Ok(socket) => socket,
        Err(e) => return fail(PROGRAM, "bind", ipc_common::os_reason(&e)),
    };
    let local = match socket.local_addr() {
        Ok(addr) => addr,
        Err(e) => return fail(PROGRAM, "getsockname", ipc_common::os_reason(&e)),
    };
    let shown = if fault("print-port-zero") { addrs[0] } else { local };
    if let Err(e) = print_listening(shown) {
        return fail(PROGRAM, "stdout", ipc_common::os_reason(&e));
    }
    let mut buf = vec![0u8; if fault("small-buffer") { 1024 } else { 65536 }];
    loop {
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return fail(PROGRAM, "recvfrom", ipc_common::os_reason(&e)),
        };
        if len == 0 && fault("skip-empty") {
            continue;
        }
        let message = &buf[..len];
        let n = received.fetch_add(1, Ordering::SeqCst) + if fault("count-from-zero") { 0 } else { 1 };
        {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "from {from}: ");
            let _ = out.write_all(message);
            let _ = out.write_all(b"\n");
            let _ = out.flush();
        }
        let mut reply = format!("ack {n}: ").into_bytes();
        reply.extend_from_slice(message);
        if let Err(e) = socket.send_to(&reply, from) {
            eprintln!("{PROGRAM}: sendto {from}: {}", ipc_common::os_reason(&e));
        }
    }
}
