//! Code that exists only for faults (broken/README.md): compiled into
//! broken/'s programs, never into the reference's.

use std::io;
use std::net::SocketAddr;

/// `no-getaddrinfo`: only an address written as numbers; `localhost` fails.
pub fn parse_ip(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let ip: std::net::IpAddr = host.parse().map_err(|_| io::Error::other("not an IP address"))?;
    Ok(vec![SocketAddr::new(ip, port)])
}

/// `sigpipe-default`: the connection as a plain file, whose writes are
/// write(2) (std's sockets send with MSG_NOSIGNAL).
pub fn as_file(stream: impl Into<std::os::fd::OwnedFd>) -> std::fs::File {
    std::fs::File::from(stream.into())
}

/// `negative-as-option`: a `-2` among the arguments taken for an option.
pub fn has_negative_number() -> bool {
    std::env::args().any(|a| a.len() > 1 && a.starts_with('-') && a.as_bytes()[1].is_ascii_digit())
}

/// `little-endian`: the machine's (x86's) order, what a plain memcpy of the
/// integer sends.
pub fn reversed<const N: usize>(mut bytes: [u8; N]) -> [u8; N] {
    bytes.reverse();
    bytes
}

/// `str-without-count`: a string's bytes without the `u32` count before them.
pub fn bytes_only(message: super::Marshal, s: &str) -> super::Marshal {
    s.bytes().fold(message, super::Marshal::u8)
}

/// `list-count-in-bytes`: a list's count in bytes (8 per item), not items.
pub fn count_in_bytes(message: super::Marshal, xs: &[i64]) -> super::Marshal {
    xs.iter().fold(message.u32(8 * xs.len() as u32), |m, &x| m.i64(x))
}

/// `one-read-body`: the body read with one `read` into a buffer of LEN
/// zeros, as `read(fd, buf, len)` whose count nobody checks: a request
/// that arrives in parts leaves zeros at its end, and its rest is read as
/// the next request.
#[allow(clippy::unused_io_amount)] // the count unchecked is the fault
pub fn one_read(stream: &mut impl io::Read, len: u32) -> io::Result<Vec<u8>> {
    let mut body = vec![0u8; len as usize];
    stream.read(&mut body)?;
    Ok(body)
}
