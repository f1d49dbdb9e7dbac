//! Code shared by the programs of lab `rpc`: the wire format (marshalling
//! fields big-endian, framing messages with a length prefix), the table of
//! procedures, finding addresses, and stopping a server on SIGINT or SIGTERM.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};

/// The largest LEN a server reads: 1 MiB. Anything larger, and anything
/// below [`MIN_REQUEST_LEN`], closes the connection unread.
pub const MAX_LEN: u32 = 1 << 20;
/// A request's ID and PROC: the least a request can hold after LEN.
pub const MIN_REQUEST_LEN: u32 = 6;
/// A reply's ID and STATUS.
pub const MIN_REPLY_LEN: u32 = 5;

/// The procedures, by number.
pub const PROCS: &[(u16, &str)] = &[(1, "add"), (2, "upper"), (3, "sum"), (4, "div"), (5, "sleep"), (6, "stat")];

/// The number of the procedure called `name`.
pub fn proc_number(name: &str) -> Option<u16> {
    PROCS.iter().find(|(_, n)| *n == name).map(|(number, _)| *number)
}

/// STATUS values of a reply.
pub const OK: u8 = 0;
pub const UNKNOWN_PROCEDURE: u8 = 1;
pub const BAD_ARGUMENTS: u8 = 2;
pub const FAILED: u8 = 3;

/// An integer field's bytes in wire order: big-endian (network byte order),
/// whatever the machine's own order is. `to_be_bytes` gives them; the same
/// call undoes it on the way in (`from_be_bytes`).
fn wire<const N: usize>(be: [u8; N]) -> [u8; N] {
    // `little-endian`: the machine's (x86's) order, what a plain memcpy of the integer sends.
    ipc_common::fault!("little-endian" => let be = faults::reversed(be));
    be
}

/// Marshalling: a message built field by field.
///
/// It starts with four bytes kept for LEN, which [`Marshal::finish`] fills
/// in once the size is known: the whole message then goes out in one write.
pub struct Marshal(Vec<u8>);

impl Marshal {
    pub fn message() -> Marshal {
        Marshal(vec![0; 4])
    }

    pub fn u8(mut self, v: u8) -> Marshal {
        self.0.push(v);
        self
    }

    pub fn u16(mut self, v: u16) -> Marshal {
        self.0.extend_from_slice(&wire(v.to_be_bytes()));
        self
    }

    pub fn u32(mut self, v: u32) -> Marshal {
        self.0.extend_from_slice(&wire(v.to_be_bytes()));
        self
    }

    pub fn u64(mut self, v: u64) -> Marshal {
        self.0.extend_from_slice(&wire(v.to_be_bytes()));
        self
    }

    pub fn i64(mut self, v: i64) -> Marshal {
        self.0.extend_from_slice(&wire(v.to_be_bytes()));
        self
    }

    /// A `str`: its byte count, then its bytes.
    pub fn str(self, s: &str) -> Marshal {
        let mut m = self.u32(len_u32(s.len()));
        m.0.extend_from_slice(s.as_bytes());
        m
    }

    /// A `list`: the number of items, then each `i64`.
    pub fn list(self, xs: &[i64]) -> Marshal {
        xs.iter().fold(self.u32(len_u32(xs.len())), |m, &x| m.i64(x))
    }

    /// The message with its LEN: the number of bytes after the LEN field.
    pub fn finish(mut self) -> Vec<u8> {
        let len = self.0.len() - 4;
        ipc_common::fault!("len-counts-itself" => let len = len + 4);
        self.0[..4].copy_from_slice(&wire(len_u32(len).to_be_bytes()));
        self.0
    }
}

/// A length as a `u32` field. Every message is capped far below 4 GiB (a
/// request at 1 MiB, a reply by the request it answers), so this never fails.
fn len_u32(len: usize) -> u32 {
    u32::try_from(len).expect("a message field over 4 GiB")
}

/// Unmarshalling: fields taken off the front of a message body. Every
/// method returns `None` when too few bytes are left; [`Unmarshal::end`]
/// says whether the fields filled the body exactly.
pub struct Unmarshal<'a> {
    rest: &'a [u8],
}

impl<'a> Unmarshal<'a> {
    pub fn new(body: &'a [u8]) -> Unmarshal<'a> {
        Unmarshal { rest: body }
    }

    /// The next N bytes of an integer field, in the machine's order.
    fn int<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (field, rest) = self.rest.split_first_chunk::<N>()?;
        self.rest = rest;
        Some(wire(*field))
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.int().map(u8::from_be_bytes)
    }

    pub fn u16(&mut self) -> Option<u16> {
        self.int().map(u16::from_be_bytes)
    }

    pub fn u32(&mut self) -> Option<u32> {
        self.int().map(u32::from_be_bytes)
    }

    pub fn u64(&mut self) -> Option<u64> {
        self.int().map(u64::from_be_bytes)
    }

    pub fn i64(&mut self) -> Option<i64> {
        self.int().map(i64::from_be_bytes)
    }

    /// A `str`; `None` if its bytes are missing or are not UTF-8.
    pub fn str(&mut self) -> Option<&'a str> {
        let n = usize::try_from(self.u32()?).ok()?;
        let bytes = self.rest.get(..n)?;
        self.rest = &self.rest[n..];
        match std::str::from_utf8(bytes) {
            Ok(s) => Some(s),
            // Invalid UTF-8 let through, as if it were text.
            Err(_) if ipc_common::fault!("lossy-utf8") => Some("\u{fffd}"),
            Err(_) => None,
        }
    }

    /// A `list` of `i64`. The count comes from the other side: checked
    /// arithmetic, so that a count of 4 billion cannot overflow `count * 8`.
    pub fn list(&mut self) -> Option<Vec<i64>> {
        let count = usize::try_from(self.u32()?).ok()?;
        if count.checked_mul(8)? > self.rest.len() {
            return None;
        }
        (0..count).map(|_| self.i64()).collect()
    }

    /// `Some(())` if every byte was taken: the fields filled the body exactly.
    pub fn end(self) -> Option<()> {
        (self.rest.is_empty() || ipc_common::fault!("ignores-extra-bytes")).then_some(())
    }
}

/// Reads into `buf` until it is full or the stream ends; returns how many
/// bytes came. A stream has no message boundaries: one `read` may return
/// any part of what the other side wrote, so a field is read in a loop.
fn read_full(stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        ipc_common::fault!("single-read" => break);
    }
    Ok(got)
}

/// Reads one framed message: a `u32` LEN, then exactly LEN bytes, which it
/// returns. `Ok(None)`: the stream ended cleanly, before a message began.
/// A LEN outside `min..=max` is `InvalidData` (the body is not read); a
/// stream that ends inside a message is `UnexpectedEof`.
pub fn read_message(stream: &mut impl Read, min: u32, max: u32) -> io::Result<Option<Vec<u8>>> {
    let mut field = [0u8; 4];
    match read_full(stream, &mut field)? {
        0 => return Ok(None),
        4 => {}
        _ => return Err(ErrorKind::UnexpectedEof.into()),
    }
    let len = u32::from_be_bytes(wire(field));
    ipc_common::fault!("len-counts-itself" => let len = len.saturating_sub(4));
    if (len < min || len > max) && !ipc_common::fault!("no-len-limit") {
        return Err(io::Error::new(ErrorKind::InvalidData, format!("LEN {len} is outside {min}..={max}")));
    }
    // `take` + `read_to_end` grows the buffer only as bytes arrive: a peer
    // announcing 4 GiB and sending nothing costs no memory.
    ipc_common::fault!("one-read-body" => return faults::one_read(stream, len).map(Some));
    let mut body = Vec::new();
    stream.take(u64::from(len)).read_to_end(&mut body)?;
    if body.len() < len as usize {
        return Err(ErrorKind::UnexpectedEof.into());
    }
    Ok(Some(body))
}

/// Writes a whole message (made by [`Marshal::finish`]) in one call.
pub fn write_message(stream: &mut impl Write, message: &[u8]) -> io::Result<()> {
    stream.write_all(message)?;
    stream.flush()
}

/// Every address of `host:port`, in getaddrinfo(3)'s order. `host` may be a
/// name (`localhost`), an IPv4 or an IPv6 address (`::1`, without brackets).
pub fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    // `no-getaddrinfo`: only an address written as numbers; `localhost` fails.
    ipc_common::fault!("no-getaddrinfo" => return faults::parse_ip(host, port));
    // `(host, port).to_socket_addrs()` calls getaddrinfo(3).
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(ErrorKind::NotFound, "no address found"));
    }
    Ok(addrs)
}

/// What exists only for broken/ (its fault hooks, broken/README.md).
#[cfg(ipc_faults)]
pub mod faults;

/// Given complete, in common/src/lib.rs (see its documentation there).
#[allow(unused_imports)]
pub use ipc_common::first_that_works;

/// Given complete, in common/src/lib.rs (see its documentation there).
#[allow(unused_imports)]
pub use ipc_common::on_termination;
