//! Code that exists only for faults (broken/README.md): compiled into
//! broken/'s programs, never into the reference's.

use std::io::{self, BufRead, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::thread::JoinHandle;

/// `no-getaddrinfo`: takes HOST for an IP address (inet_pton): `localhost`
/// is an error.
pub fn parse_ip(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let ip: IpAddr = host.parse().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    Ok(vec![SocketAddr::new(ip, port)])
}

/// `os-error-number`: Rust's Display of the error, `Connection refused (os
/// error 111)`, and exit 1.
pub fn exit_with_rust_error(connected: &io::Result<TcpStream>, server: &str) {
    if let Err(e) = connected {
        eprintln!("tcp-client: {server}: {e}");
        std::process::exit(1);
    }
}

/// `adds-newline`: line by line, each sent with a newline: a last line
/// without one gains it.
pub fn send_lines(stream: &mut TcpStream) -> io::Result<()> {
    for line in io::stdin().lock().lines() {
        writeln!(stream, "{}", line?)?;
    }
    stream.shutdown(std::net::Shutdown::Write)
}

/// `write-then-read`: sends all of stdin before reading any echo.
pub fn wait_for<T>(sender: &JoinHandle<T>) {
    while !sender.is_finished() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// `waits-for-clients`: waits until every connection's thread has ended
/// (all but main and the signal's).
pub fn wait_for_connection_threads() {
    while std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count) > 2 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// `fixed-buffer`: collects the whole stream in a fixed 16 MiB buffer, then
/// echoes it: whatever comes after the first 16 MiB is lost.
pub fn echo_first_16_mib(stream: &mut TcpStream) -> io::Result<()> {
    use std::io::Read;
    let mut all = Vec::new();
    Read::take(&mut *stream, 16 << 20).read_to_end(&mut all)?;
    stream.write_all(&all)
}
