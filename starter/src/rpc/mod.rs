//! Code shared by the programs of lab `rpc`: the wire format (marshalling
//! fields big-endian, framing messages with a length prefix), the table of
//! procedures, finding addresses, and stopping a server on SIGINT or SIGTERM.
//!
//! Both programs use it as `rpc::...`. Write the marshalling and framing
//! here once; the client stub and the server stub both need them. The parts
//! that are not this lab's subject (getaddrinfo, signals) are given complete.
//! Read handouts/rpc.md first.

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

/// Marshalling: a message built field by field, every integer big-endian
/// (network byte order), whatever the machine's own order is (x86 and ARM
/// are little-endian: copying an integer's memory would send it backwards).
///
/// `Marshal::message()` starts with four zero bytes kept for LEN;
/// [`Marshal::finish`] fills them in once the size is known, so that the
/// whole message goes out in one write:
///
/// ```ignore
/// let request = Marshal::message().u32(id).u16(1).i64(2).i64(3).finish();
/// ```
pub struct Marshal(Vec<u8>);

impl Marshal {
    pub fn message() -> Marshal {
        Marshal(vec![0; 4])
    }

    pub fn u8(mut self, v: u8) -> Marshal {
        self.0.push(v);
        self
    }

    /// An example for the others: `to_be_bytes` gives an integer's bytes
    /// most significant first, `0x0102` as `[0x01, 0x02]`.
    pub fn u16(mut self, v: u16) -> Marshal {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn u32(self, v: u32) -> Marshal {
        let _ = v;
        todo!("4 bytes, big-endian, like u16 above")
    }

    pub fn u64(self, v: u64) -> Marshal {
        let _ = v;
        todo!("8 bytes, big-endian")
    }

    /// `i64::to_be_bytes` gives two's complement, as the contract wants.
    pub fn i64(self, v: i64) -> Marshal {
        let _ = v;
        todo!("8 bytes, big-endian")
    }

    /// A `str`: its byte count as a `u32` (`s.len()` counts bytes, not
    /// characters: `ö` is two), then its bytes.
    pub fn str(self, s: &str) -> Marshal {
        let _ = s;
        todo!("the u32 byte count, then the bytes")
    }

    /// A `list`: the number of items as a `u32` (not the number of bytes),
    /// then each item as an `i64`.
    pub fn list(self, xs: &[i64]) -> Marshal {
        let _ = xs;
        todo!("the u32 count, then each i64")
    }

    /// The message with its LEN: the number of bytes AFTER the LEN field
    /// (LEN does not count its own 4 bytes), big-endian, in the first four
    /// bytes.
    pub fn finish(self) -> Vec<u8> {
        todo!("write LEN into self.0[..4] and return the bytes")
    }
}

/// Unmarshalling: fields taken off the front of a message body. Every
/// method returns `None` when too few bytes are left: the other side's
/// bytes are never trusted. [`Unmarshal::end`] says whether the fields
/// filled the body exactly.
pub struct Unmarshal<'a> {
    rest: &'a [u8],
}

impl<'a> Unmarshal<'a> {
    pub fn new(body: &'a [u8]) -> Unmarshal<'a> {
        Unmarshal { rest: body }
    }

    pub fn u8(&mut self) -> Option<u8> {
        let (&first, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(first)
    }

    /// An example for the others: `split_first_chunk::<2>()` takes two
    /// bytes off the front as an array (`None` if there are fewer), and
    /// `from_be_bytes` undoes `to_be_bytes`.
    pub fn u16(&mut self) -> Option<u16> {
        let (field, rest) = self.rest.split_first_chunk::<2>()?;
        self.rest = rest;
        Some(u16::from_be_bytes(*field))
    }

    pub fn u32(&mut self) -> Option<u32> {
        todo!("4 bytes, big-endian, like u16 above")
    }

    pub fn u64(&mut self) -> Option<u64> {
        todo!("8 bytes, big-endian")
    }

    pub fn i64(&mut self) -> Option<i64> {
        todo!("8 bytes, big-endian")
    }

    /// A `str`: a `u32` byte count, then that many bytes, which must be
    /// UTF-8 (`std::str::from_utf8`). `None` if the bytes are missing or
    /// are not UTF-8 (the server answers `bad arguments`).
    pub fn str(&mut self) -> Option<&'a str> {
        todo!("the count, then the bytes, checked to be UTF-8")
    }

    /// A `list` of `i64`: a `u32` count, then that many `i64`.
    ///
    /// Pitfall: the count comes from the other side and may be anything,
    /// 4294967295 included. Check that `count * 8` bytes are really there
    /// before taking them, with checked arithmetic (`checked_mul`): never
    /// allocate or loop on an unchecked count.
    pub fn list(&mut self) -> Option<Vec<i64>> {
        todo!("the count, checked against what is left, then each i64")
    }

    /// `Some(())` if every byte was taken: arguments that do not fill the
    /// request exactly are `bad arguments`, extra bytes included.
    pub fn end(self) -> Option<()> {
        todo!("no byte may be left over")
    }
}

/// Reads one framed message: a `u32` LEN, then exactly LEN bytes, which it
/// returns (without LEN). `Ok(None)`: the stream ended cleanly, before a
/// message began (the other side closed between messages).
///
/// Pitfalls:
/// - A stream has no message boundaries: one `read` may return 1 byte of
///   LEN, or half a request, or the end of one request and the start of
///   the next (man 2 read: "it is not an error if this number is smaller
///   than the number of bytes requested").
/// - A stream that ends inside LEN or inside the body is an error
///   (`ErrorKind::UnexpectedEof`), not a clean end.
/// - LEN comes from the other side: a LEN outside `min..=max` is
///   `ErrorKind::InvalidData`, returned WITHOUT reading the body, and
///   before anything is allocated: a LEN of 4294967295 must not cost 4 GiB.
///
/// Read: read(2), handouts/rpc.md (Framing a stream with a length prefix,
/// Reading exactly N bytes).
pub fn read_message(stream: &mut impl Read, min: u32, max: u32) -> io::Result<Option<Vec<u8>>> {
    let _ = (stream, min, max);
    todo!("read LEN, check it, then read exactly LEN bytes")
}

/// Writes a whole message (made by [`Marshal::finish`]). `write_all` loops
/// until every byte is written; one call per message keeps a request in one
/// piece on the wire.
pub fn write_message(stream: &mut impl Write, message: &[u8]) -> io::Result<()> {
    let _ = (stream, message);
    todo!("write_all, then flush")
}

/// Every address of `host:port`, in getaddrinfo(3)'s order. `host` may be a
/// name (`localhost`), an IPv4 or an IPv6 address (`::1`, without brackets).
pub fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    // `(host, port).to_socket_addrs()` calls getaddrinfo(3).
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(ErrorKind::NotFound, "no address found"));
    }
    Ok(addrs)
}

/// Given complete, in common/src/lib.rs (see its documentation there).
#[allow(unused_imports)]
pub use ipc_common::first_that_works;

/// Given complete, in common/src/lib.rs (see its documentation there).
#[allow(unused_imports)]
pub use ipc_common::on_termination;
