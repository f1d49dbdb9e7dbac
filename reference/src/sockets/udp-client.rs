//! `udp-client [--timeout MS] [--retries R] HOST PORT`: sends each line of
//! stdin as one datagram and prints the server's reply, sending again when a
//! reply does not come in time.

// This lab's shared code (src/sockets/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod sockets;

use std::io::{BufRead, ErrorKind, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use ipc_common::{Context, Error, fault};
use sockets::{first_that_works, resolve};

/// Used in error messages: `udp-client: CONTEXT: REASON`.
const PROGRAM: &str = "udp-client";
const USAGE: &str = "udp-client [--timeout MS] [--retries R] HOST PORT";

const MAX_DATAGRAM: usize = 65536;

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// How long to wait for each reply, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// How many more times to send a datagram that got no reply.
    #[arg(long, value_name = "R", default_value_t = 3)]
    retries: u32,
    host: String,
    port: u16,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, run(args))
}

/// The lab: each line of stdin as one datagram, sent again up to RETRIES
/// more times when no reply comes within the timeout.
fn run(args: Args) -> ipc_common::Result<()> {
    let server = format!("{}:{}", args.host, args.port);
    let addrs = resolve(&args.host, args.port).context(&server)?;
    let socket = first_that_works(&addrs, open).context(&server)?;
    let timeout = Duration::from_millis(args.timeout);
    let retries = args.retries;
    fault!("no-retry" => let retries = 0);
    fault!("extra-retry" => let retries = retries + 1);

    let mut buf = vec![0u8; MAX_DATAGRAM];
    for line in std::io::stdin().lock().split(b'\n') {
        let line = line.context("stdin")?;
        fault!("skip-empty-lines" => if line.is_empty() { continue });
        let Some(len) = exchange(&socket, addrs[0], &line, timeout, retries, &mut buf).context(&server)? else {
            return Err(Error::plain(format!("no reply from {server}")));
        };
        let mut out = std::io::stdout().lock();
        out.write_all(b"Server says: ")
            .and_then(|()| out.write_all(&buf[..len]))
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
            .context("stdout")?;
    }
    Ok(())
}

/// A UDP socket of `server`'s family, connected to it.
///
/// connect(2) on a datagram socket sends nothing: it fixes the destination of
/// send(2) and makes the kernel drop datagrams from any other address and port,
/// which is how replies from a third party are ignored.
fn open(server: SocketAddr) -> std::io::Result<UdpSocket> {
    let any: SocketAddr = if server.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().expect("a valid address");
    let socket = UdpSocket::bind(any)?;
    if !fault!("unconnected") {
        socket.connect(server)?;
    }
    Ok(socket)
}

/// Sends `message` and waits up to `timeout` for the reply, at most
/// `1 + retries` times. `Ok(None)`: no reply came. (Only the fault
/// `unconnected` uses `server`: a connected socket knows where to send.)
fn exchange(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &[u8],
    timeout: Duration,
    retries: u32,
    buf: &mut [u8],
) -> std::io::Result<Option<usize>> {
    for _try in 0..=retries {
        // One datagram (`unconnected` sends it with sendto(2), then takes a reply from anyone).
        let sent = if fault!("unconnected") { socket.send_to(message, server) } else { socket.send(message) };
        sent?;
        // Wait until this try's deadline, however many recv calls it takes.
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            // SO_RCVTIMEO: recv(2) gives up after `left`.
            socket.set_read_timeout(Some(left))?;
            match socket.recv(buf) {
                Ok(len) => return Ok(Some(len)),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // An ICMP "port unreachable" for an earlier try: no server
                // there (yet). Keep waiting out this try.
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(None)
}
