//! The grader's trusted partners for lab `sockets`. Each prints what a
//! check needs to see and nothing else; all use loopback only.
//!
//! - `ipc-sockets-udp-server [--drop-first] [--forge] [--first N] [--host H] PORT`:
//!   replies `ack N: MESSAGE` (N counts replies, from 1, or from N with
//!   `--first`, as a server that has answered others before: a client cannot
//!   print the reply without receiving it). `--drop-first`: ignores the first copy
//!   of each distinct message and answers only the second (only a client that
//!   sends again gets a reply, and never two).
//!   `--forge`: before each reply, sends `ack 0: forged` to the client from
//!   another socket (a third party on another port).
//! - `ipc-sockets-tcp-server [--greeting TEXT] [--trailer TEXT] [--host H] PORT`:
//!   echo server, a thread per connection; prints `listening on ADDR`, then
//!   `eof from ADDR` when a client shuts down its side. `--greeting`: sends
//!   TEXT first, before any echo (a client cannot print it without reading
//!   the socket). `--trailer`: sends TEXT after the echo, once it has seen end
//!   of file (a client that closed instead of half-closing misses it).
//! - `ipc-sockets-tcp-client HOST PORT`: stdin to the socket (a thread, then
//!   shutdown(SHUT_WR)), the socket to stdout (the main thread).
//! - `ipc-sockets-resetter HOST PORT`: with a small receive buffer, sends data
//!   without reading the echo, half-closes, then resets (SO_LINGER 0 and close)
//!   while the server still has echo data to send.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::{FromRawFd, IntoRawFd};
use std::process::ExitCode;
use std::time::Duration;

use nix::sys::socket::{self, sockopt};

pub const UDP_SERVER: &str = "ipc-sockets-udp-server";
pub const TCP_SERVER: &str = "ipc-sockets-tcp-server";
pub const TCP_CLIENT: &str = "ipc-sockets-tcp-client";
pub const RESETTER: &str = "ipc-sockets-resetter";

/// Options (`--name` or `--name VALUE`) and positional words of a command line.
struct Words {
    flags: Vec<(String, Option<String>)>,
    positional: Vec<String>,
}

fn words(args: Vec<OsString>, with_value: &[&str]) -> Words {
    let mut args = args.into_iter().map(|a| a.to_string_lossy().into_owned());
    let mut w = Words { flags: Vec::new(), positional: Vec::new() };
    while let Some(a) = args.next() {
        if a.starts_with("--") {
            let value = if with_value.contains(&a.as_str()) { args.next() } else { None };
            w.flags.push((a, value));
        } else {
            w.positional.push(a);
        }
    }
    w
}

impl Words {
    fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|(f, _)| f == name)
    }
    fn value(&self, name: &str) -> Option<&str> {
        self.flags.iter().find(|(f, _)| f == name).and_then(|(_, v)| v.as_deref())
    }
}

fn die(peer: &str, what: impl std::fmt::Display) -> ExitCode {
    // Reports show this: the error's text, without Rust's `(os error N)`.
    eprintln!("{peer}: {}", ipc_engine::text::without_os_error(what.to_string()));
    ExitCode::from(1)
}

fn addr(host: &str, port: &str) -> Result<SocketAddr, String> {
    let port: u16 = port.parse().map_err(|_| format!("bad port {port}"))?;
    (host, port).to_socket_addrs().map_err(|e| e.to_string())?.next().ok_or_else(|| "no address".to_string())
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

pub fn udp_server(args: Vec<OsString>) -> ExitCode {
    let w = words(args, &["--host", "--first"]);
    let [port] = w.positional.as_slice() else {
        return die(UDP_SERVER, "usage: [--drop-first] [--forge] [--first N] PORT");
    };
    let Ok(first) = w.value("--first").unwrap_or("1").parse::<u64>() else {
        return die(UDP_SERVER, "--first N: N is a number");
    };
    let bind = match addr(w.value("--host").unwrap_or("127.0.0.1"), port) {
        Ok(a) => a,
        Err(e) => return die(UDP_SERVER, e),
    };
    let socket = match UdpSocket::bind(bind) {
        Ok(s) => s,
        Err(e) => return die(UDP_SERVER, e),
    };
    let forger = if w.flag("--forge") {
        match UdpSocket::bind(SocketAddr::new(bind.ip(), 0)) {
            Ok(s) => Some(s),
            Err(e) => return die(UDP_SERVER, e),
        }
    } else {
        None
    };
    match socket.local_addr() {
        Ok(a) => say(&format!("listening on {a}")),
        Err(e) => return die(UDP_SERVER, e),
    }
    let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut replies = first.saturating_sub(1);
    let mut buf = vec![0u8; 65536];
    loop {
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) => return die(UDP_SERVER, e),
        };
        let message = buf[..len].to_vec();
        say(&format!("from {from}: {}", String::from_utf8_lossy(&message)));
        if w.flag("--drop-first") {
            // Copies of this message so far, this one included: drop the
            // first, answer the second, ignore later ones (a reply that was
            // only slow must not be answered twice).
            let copies = seen.entry(message.clone()).or_insert(0);
            *copies += 1;
            if *copies != 2 {
                continue;
            }
        }
        if let Some(forger) = &forger {
            let _ = forger.send_to(b"ack 0: forged", from);
        }
        replies += 1;
        let mut reply = format!("ack {replies}: ").into_bytes();
        reply.extend_from_slice(&message);
        let _ = socket.send_to(&reply, from);
    }
}

pub fn tcp_server(args: Vec<OsString>) -> ExitCode {
    let w = words(args, &["--host", "--greeting", "--trailer"]);
    let [port] = w.positional.as_slice() else {
        return die(TCP_SERVER, "usage: [--greeting TEXT] [--trailer TEXT] PORT");
    };
    let bind = match addr(w.value("--host").unwrap_or("127.0.0.1"), port) {
        Ok(a) => a,
        Err(e) => return die(TCP_SERVER, e),
    };
    let listener = match TcpListener::bind(bind) {
        Ok(l) => l,
        Err(e) => return die(TCP_SERVER, e),
    };
    // Small socket buffers, inherited by every accepted connection: what this
    // server holds in flight stays far below the 20 MiB of the largest echo,
    // so a client that writes all its input before reading the echo stalls
    // here whatever the kernel's limits for growing buffers are.
    let small = socket::setsockopt(&listener, sockopt::RcvBuf, &(64 * 1024))
        .and_then(|()| socket::setsockopt(&listener, sockopt::SndBuf, &(64 * 1024)));
    if let Err(e) = small {
        return die(TCP_SERVER, e);
    }
    match listener.local_addr() {
        Ok(a) => say(&format!("listening on {a}")),
        Err(e) => return die(TCP_SERVER, e),
    }
    let greeting: Option<Vec<u8>> = w.value("--greeting").map(|t| t.as_bytes().to_vec());
    let trailer: Option<Vec<u8>> = w.value("--trailer").map(|t| t.as_bytes().to_vec());
    // Bounded: the checks connect a handful of clients at most.
    for _ in 0..256 {
        let Ok((mut stream, peer)) = listener.accept() else { continue };
        let (greeting, trailer) = (greeting.clone(), trailer.clone());
        std::thread::spawn(move || {
            if let Some(g) = greeting {
                if stream.write_all(&g).is_err() {
                    return;
                }
            }
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if stream.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
            say(&format!("eof from {peer}"));
            if let Some(t) = trailer {
                let _ = stream.write_all(&t);
            }
        });
    }
    ExitCode::SUCCESS
}

pub fn tcp_client(args: Vec<OsString>) -> ExitCode {
    let w = words(args, &[]);
    let [host, port] = w.positional.as_slice() else { return die(TCP_CLIENT, "usage: HOST PORT") };
    let server = match addr(host, port) {
        Ok(a) => a,
        Err(e) => return die(TCP_CLIENT, e),
    };
    let stream = match TcpStream::connect(server) {
        Ok(s) => s,
        Err(e) => return die(TCP_CLIENT, e),
    };
    let mut sending = match stream.try_clone() {
        Ok(s) => s,
        Err(e) => return die(TCP_CLIENT, e),
    };
    let sender = std::thread::spawn(move || {
        let copied = std::io::copy(&mut std::io::stdin().lock(), &mut sending);
        let _ = sending.shutdown(Shutdown::Write);
        copied.map(|_| ())
    });
    let mut reading = &stream;
    let mut out = std::io::stdout().lock();
    if let Err(e) = std::io::copy(&mut reading, &mut out) {
        return die(TCP_CLIENT, format!("receiving: {e}"));
    }
    let _ = out.flush();
    match sender.join() {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => die(TCP_CLIENT, format!("sending: {e}")),
        Err(_) => die(TCP_CLIENT, "sender panicked"),
    }
}

pub fn resetter(args: Vec<OsString>) -> ExitCode {
    let w = words(args, &[]);
    let [host, port] = w.positional.as_slice() else { return die(RESETTER, "usage: HOST PORT") };
    let server = match addr(host, port) {
        Ok(a) => a,
        Err(e) => return die(RESETTER, e),
    };
    // Where the server is still writing echo when our end of file and then our
    // reset arrive depends on its buffer sizes, which differ between kernels:
    // sweep the amount sent from 256 KiB to about 7 MiB in steps of 25%.
    let mut size = 256 * 1024usize;
    let mut done = 0;
    while size < 8 << 20 {
        match reset_mid_echo(server, size) {
            Ok(()) => done += 1,
            // A server that died of the previous reset refuses the next connection.
            Err(e) => return die(RESETTER, format!("after {done} resets, with {size} bytes: {e}")),
        }
        size += size / 4;
    }
    say(&format!("{done} connections reset"));
    ExitCode::SUCCESS
}

/// Sends `size` bytes (or what fits, if the buffers fill up), half-closes,
/// waits for the server to see our end of file, then resets the connection.
fn reset_mid_echo(server: SocketAddr, size: usize) -> std::io::Result<()> {
    let family = if server.is_ipv4() { socket::AddressFamily::Inet } else { socket::AddressFamily::Inet6 };
    let fd = socket::socket(family, socket::SockType::Stream, socket::SockFlag::SOCK_CLOEXEC, None)?;
    // A small receive buffer, set before connect so the window is small from
    // the start: the server's echo soon has nowhere to go and its write blocks.
    socket::setsockopt(&fd, sockopt::RcvBuf, &4096)?;
    socket::connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &socket::SockaddrStorage::from(server))?;
    // SAFETY: `into_raw_fd` gives up ownership, which the TcpStream takes over.
    let mut stream = unsafe { TcpStream::from_raw_fd(fd.into_raw_fd()) };
    stream.set_write_timeout(Some(Duration::from_millis(300)))?;
    let data = vec![b'r'; size];
    match stream.write_all(&data) {
        Ok(()) => {}
        // Everything is full: the rest stays unsent.
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        Err(e) => return Err(e),
    }
    // The server reads end of file once it has read everything before it
    // (its connection is then in CLOSE_WAIT); a write after the reset below
    // raises SIGPIPE there.
    stream.shutdown(Shutdown::Write)?;
    std::thread::sleep(Duration::from_millis(SETTLE_MS));
    // SO_LINGER with a zero timeout: close(2) sends RST instead of FIN.
    socket::setsockopt(&stream, sockopt::Linger, &libc::linger { l_onoff: 1, l_linger: 0 })?;
    drop(stream);
    Ok(())
}

const SETTLE_MS: u64 = 150;
