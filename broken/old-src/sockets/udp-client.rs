//! `udp-client` with faults (see broken/faults/sockets.toml).

use std::io::{BufRead, ErrorKind, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use ipc_broken::fault;
use ipc_common::fail;

use ipc_reference::sockets::{first_that_works, resolve};

const PROGRAM: &str = "udp-client";
const USAGE: &str = "udp-client [--timeout MS] [--retries R] HOST PORT";

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    #[arg(long, default_value_t = 3)]
    retries: u32,
    host: String,
    port: u16,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let server = format!("{}:{}", args.host, args.port);
    let addrs = if fault("no-getaddrinfo") {
        match args.host.parse::<std::net::IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, args.port)],
            Err(e) => return fail(PROGRAM, &server, e),
        }
    } else {
        match resolve(&args.host, args.port) {
            Ok(addrs) => addrs,
            Err(e) => return fail(PROGRAM, &server, ipc_common::os_reason(&e)),
        }
    };
    let socket = match first_that_works(&addrs, open) {
        Ok(socket) => socket,
        Err(e) => return fail(PROGRAM, &server, ipc_common::os_reason(&e)),
    };
    let target = addrs[0];
    let timeout = Duration::from_millis(args.timeout);
    let retries = if fault("no-retry") {
        0
    } else if fault("extra-retry") {
        args.retries + 1
    } else {
        args.retries
    };
    let mut buf = vec![0u8; 65536];
    for line in std::io::stdin().lock().split(b'\n') {
        let Ok(line) = line else { return fail(PROGRAM, "stdin", "read error") };
        if line.is_empty() && fault("skip-empty-lines") {
            continue;
        }
        let reply = match exchange(&socket, target, &line, timeout, retries, &mut buf) {
            Ok(Some(len)) => &buf[..len],
            Ok(None) => {
                eprintln!("{PROGRAM}: no reply from {server}");
                return ExitCode::from(1);
            }
            Err(e) => return fail(PROGRAM, &server, ipc_common::os_reason(&e)),
        };
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(b"Server says: ");
        let _ = out.write_all(reply);
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }
    ExitCode::SUCCESS
}

fn open(server: SocketAddr) -> std::io::Result<UdpSocket> {
    let any: SocketAddr = if server.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().expect("a valid address");
    let socket = UdpSocket::bind(any)?;
    if !fault("unconnected") {
        socket.connect(server)?;
    }
    Ok(socket)
}

fn exchange(
    socket: &UdpSocket,
    target: SocketAddr,
    message: &[u8],
    timeout: Duration,
    retries: u32,
    buf: &mut [u8],
) -> std::io::Result<Option<usize>> {
    for _try in 0..=retries {
        if fault("unconnected") {
            socket.send_to(message, target)?;
        } else {
            socket.send(message)?;
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            socket.set_read_timeout(Some(left))?;
            // Unconnected: takes a datagram from anyone.
            match socket.recv_from(buf) {
                Ok((len, _)) => return Ok(Some(len)),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(None)
}
