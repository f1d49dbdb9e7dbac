//! Lab `sockets`: UDP and TCP clients and servers (`udp-server`,
//! `udp-client`, `tcp-server`, `tcp-client`).
//!
//! Every server is started on port 0 and its `listening on ADDR` line gives
//! the real port. Loopback only (127.0.0.1 and ::1). Where the check itself
//! talks to a program it uses std::net sockets, always with read and write
//! timeouts so that nothing blocks past the check's deadline.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use ipc_engine::check::{Check, Done, Fail, Kind, ensure, listening_on_addr, mismatch};
use ipc_engine::ctx::{Cmd, Ctx};
use ipc_engine::proc::Proc;
use ipc_engine::proc::procfs::{self, InSyscall};
use ipc_engine::text::os_reason;

use ipc_peers::sockets as peers;
mod tcp;
mod udp;

use tcp::*;
use udp::*;

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["udp-server", "udp-client", "tcp-server", "tcp-client"];

pub fn checks() -> Vec<Check> {
    vec![
        Check::new("udp-server-listening", udp_server_listening),
        Check::new("udp-server-ipv6", udp_server_ipv6),
        Check::new("udp-server-replies", udp_server_replies),
        Check::new("udp-server-boundaries", udp_server_boundaries),
        Check::new("udp-server-count-on-signal", udp_server_count_on_signal),
        Check::new("udp-client-replies", udp_client_replies),
        Check::new("udp-client-retransmits", udp_client_retransmits),
        Check::new("udp-client-gives-up", udp_client_gives_up),
        Check::new("udp-client-ignores-others", udp_client_ignores_others),
        Check::new("udp-pair", udp_pair),
        Check::new("tcp-server-listening", tcp_server_listening),
        Check::new("tcp-server-ipv6", tcp_server_ipv6),
        Check::new("tcp-server-echo", tcp_server_echo),
        Check::new("tcp-server-echo-20mib", tcp_server_echo_20mib),
        Check::new("tcp-server-32-clients", tcp_server_32_clients),
        Check::new("tcp-server-idle-client", tcp_server_idle_client),
        Check::new("tcp-server-survives-reset", tcp_server_survives_reset),
        Check::new("tcp-server-exits-on-signal", tcp_server_exits_on_signal),
        Check::new("tcp-client-echo", tcp_client_echo),
        Check::new("tcp-client-echo-20mib", tcp_client_echo_20mib),
        Check::new("tcp-client-half-close", tcp_client_half_close),
        Check::new("tcp-client-refused", tcp_client_refused),
        Check::new("tcp-pair-echo", tcp_pair_echo),
        Check::new("clients-resolve-localhost", clients_resolve_localhost),
        Check::new("usage-errors", usage_errors),
    ]
}

/// Read and write timeout of the check's own sockets.
const IO_WAIT: Duration = Duration::from_secs(3);
const MIB20: usize = 20 << 20;

// ---------------------------------------------------------------------------
// Helpers.

/// A failure of the grader's own socket work (not the program's), in
/// words without `(os error N)`.
fn io_infra(e: std::io::Error) -> Fail {
    Fail::infra(os_reason(&e))
}

/// Starts a server and returns it with the address of its `listening on` line.
fn start_server(cmd: Cmd, ctx_deadline: Instant) -> Result<(Proc, SocketAddr), Fail> {
    let mut server = cmd.spawn()?;
    let addr = listening_on_addr(&mut server, ctx_deadline)?;
    Ok((server, addr))
}

/// A UDP socket of the check, bound on the loopback of `to`'s family.
fn udp_socket(to: SocketAddr) -> Result<UdpSocket, Fail> {
    let local: SocketAddr = if to.is_ipv4() { "127.0.0.1:0" } else { "[::1]:0" }.parse().expect("valid");
    let socket = UdpSocket::bind(local).map_err(io_infra)?;
    socket.set_read_timeout(Some(IO_WAIT)).map_err(io_infra)?;
    socket.set_write_timeout(Some(IO_WAIT)).map_err(io_infra)?;
    Ok(socket)
}

/// Receives one datagram (waits at most `IO_WAIT`).
fn recv_reply(socket: &UdpSocket, server: SocketAddr, sent: &str) -> Result<Vec<u8>, Fail> {
    let mut buf = vec![0u8; 70000];
    match socket.recv_from(&mut buf) {
        Ok((n, from)) => {
            ensure(from == server, || {
                Fail::new(format!("a reply came from {from}, not from the server's address {server}"))
            })?;
            Ok(buf[..n].to_vec())
        }
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
            Err(Fail::new(format!("no reply within {}s to the datagram {sent:?} sent to {server}", IO_WAIT.as_secs()))
                .kind(Kind::Timeout)
                .note("reply with sendto(2) to the address recvfrom(2) gave you"))
        }
        Err(e) => Err(Fail::new(format!(
            "no reply to the datagram {sent:?} sent to {server}: the grader's recv failed: {}",
            os_reason(&e)
        ))
        .note("reply with sendto(2) to the address recvfrom(2) gave you")),
    }
}

fn expect_reply(socket: &UdpSocket, server: SocketAddr, sent: &str, expected: &str) -> Result<(), Fail> {
    let got = recv_reply(socket, server, sent)?;
    ensure(got == expected.as_bytes(), || {
        Fail::new(format!("wrong reply to the datagram {sent:?}"))
            .expected(expected.to_string())
            .got(String::from_utf8_lossy(&got).into_owned())
    })
}

/// Sends and waits for the expected reply.
fn ask(socket: &UdpSocket, server: SocketAddr, message: &str, expected: &str) -> Result<(), Fail> {
    socket.send_to(message.as_bytes(), server).map_err(io_infra)?;
    expect_reply(socket, server, message, expected)
}

/// Waits until the process's stdout holds every line of `lines` (in order, as whole lines).
fn wait_lines(proc: &Proc, deadline: Instant, lines: &[String]) -> Result<(), Fail> {
    let found = proc.stdout.wait_for(deadline, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let mut have = text.lines();
        lines.iter().all(|want| have.any(|l| l == want)).then_some(())
    });
    found.ok_or_else(|| {
        Fail::new("the server's stdout lacks lines the contract names")
            .expected(lines.join("\n"))
            .got(ipc_engine::text::excerpt(&proc.stdout.bytes(), proc.stdout.total(), 12, 800))
            .command(&proc.command)
    })
}

/// Kills a server the check no longer needs (with its process group), so
/// that the runner finds nothing left.
fn stop(mut server: Proc) {
    server.kill_group();
}

fn random_bytes(len: usize, seed: u64) -> Arc<Vec<u8>> {
    let mut data = vec![0u8; len];
    fastrand::Rng::with_seed(seed).fill(&mut data);
    Arc::new(data)
}

/// A TCP connection of the check, with timeouts.
fn tcp_connect(server: SocketAddr) -> Result<TcpStream, Fail> {
    let stream = TcpStream::connect_timeout(&server, IO_WAIT)
        .map_err(|e| Fail::new(format!("cannot connect to the server at {server}: {}", os_reason(&e))))?;
    stream.set_read_timeout(Some(IO_WAIT)).map_err(io_infra)?;
    stream.set_write_timeout(Some(IO_WAIT)).map_err(io_infra)?;
    Ok(stream)
}

/// Sends `data` on `stream`, reads exactly its echo back (not waiting for the close).
fn exchange(stream: &mut TcpStream, data: &[u8], who: &str) -> Result<(), Fail> {
    stream.write_all(data).map_err(|e| Fail::new(format!("{who}: sending to the server failed: {}", os_reason(&e))))?;
    let mut back = vec![0u8; data.len()];
    stream.read_exact(&mut back).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                format!("did not come back within {}s", IO_WAIT.as_secs())
            }
            std::io::ErrorKind::UnexpectedEof => "did not come back: the server closed the connection".to_string(),
            _ => format!("did not come back: {}", os_reason(&e)),
        };
        Fail::new(format!("{who}: the echo of {} bytes {why}", data.len()))
            .kind(Kind::Timeout)
            .note("echo every byte as soon as you read it")
    })?;
    ensure(back == data, || mismatch("echo", data, &back, back.len() as u64))
}

/// Half-closes and expects the server to close in turn (read returns 0).
fn expect_close(stream: &mut TcpStream, who: &str) -> Result<(), Fail> {
    stream.shutdown(Shutdown::Write).map_err(io_infra)?;
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) if rest.is_empty() => Ok(()),
        Ok(_) => Err(Fail::new(format!("{who}: the server sent {} unexpected bytes after the echo", rest.len()))),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
            Err(Fail::new(format!(
                "{who}: after the client shut down its side, the server did not close the connection within {}s",
                IO_WAIT.as_secs()
            ))
            .timing(ipc_engine::check::Timing::Deadline)
            .note("read(2) returns 0 when the client shuts down: then close the connection"))
        }
        Err(e) => {
            Err(Fail::new(format!("{who}: after the client shut down its side, reading failed: {}", os_reason(&e)))
                .note("read(2) returns 0 when the client shuts down: then close the connection"))
        }
    }
}
