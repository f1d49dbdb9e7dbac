//! The grader's own RPC client for lab `rpc`, in the check's process: it
//! sends requests to the student's `rpc-server` (whole, in pieces, cut
//! short, oversized) and checks every byte of every reply against what the
//! contract makes of the request (`wire.rs`). Every read and write has a
//! timeout, so nothing blocks past a check's deadline.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::socket::{self, sockopt};

use super::wire::{self, Call, Msg};
use ipc_engine::check::Fail;
use ipc_engine::text::os_reason;

/// The clue of a server that takes what one read returns for a whole
/// request (`Fail::clues`; the rubric's `one-read-per-request`).
pub const SHORT_READ: &str = "short-read";

/// Read and write timeout of the check's own sockets.
pub const IO_WAIT: Duration = Duration::from_secs(3);

/// Why a server may hang up on a correct request.
const HUNG_UP: &str = "a server closes a connection when LEN is below 6 or over 1048576: is LEN read big-endian \
                       (from_be_bytes)? Or it crashed: see its state below";

/// Where a server listens.
#[derive(Debug, Clone)]
pub enum Addr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Addr::Tcp(a) => write!(f, "{a}"),
            Addr::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// One connection of the grader's client.
pub struct Client {
    stream: Stream,
    pub addr: Addr,
}

impl Client {
    /// Connects, with read and write timeouts of [`IO_WAIT`].
    pub fn connect(addr: &Addr) -> Result<Client, Fail> {
        let cannot =
            |e: std::io::Error| Fail::new(format!("cannot connect to the server at {addr}: {}", os_reason(&e)));
        let stream = match addr {
            Addr::Tcp(a) => {
                let s = TcpStream::connect_timeout(a, IO_WAIT).map_err(cannot)?;
                // Pieces sent apart must leave apart (no Nagle coalescing).
                s.set_nodelay(true).map_err(Fail::infra)?;
                Stream::Tcp(s)
            }
            Addr::Unix(p) => Stream::Unix(UnixStream::connect(p).map_err(cannot)?),
        };
        let client = Client { stream, addr: addr.clone() };
        client.set_timeout(IO_WAIT)?;
        Ok(client)
    }

    pub fn set_timeout(&self, t: Duration) -> Result<(), Fail> {
        let t = Some(t.max(Duration::from_millis(1)));
        match &self.stream {
            Stream::Tcp(s) => s.set_read_timeout(t).and_then(|()| s.set_write_timeout(t)),
            Stream::Unix(s) => s.set_read_timeout(t).and_then(|()| s.set_write_timeout(t)),
        }
        .map_err(Fail::infra)
    }

    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.stream {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.stream {
            Stream::Tcp(s) => s.write_all(bytes),
            Stream::Unix(s) => s.write_all(bytes),
        }
    }

    /// Sends bytes; a failure is the server's (it closed or stopped reading).
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Fail> {
        self.write_all(bytes).map_err(|e| {
            Fail::new(format!("sending {} bytes to the server at {} failed: {}", bytes.len(), self.addr, os_reason(&e)))
                .note("the server closed the connection, or stopped reading it")
        })
    }

    /// Sends bytes in pieces cut at `cuts`, pausing `pause` between them.
    pub fn send_in_pieces(&mut self, bytes: &[u8], cuts: &[usize], pause: Duration) -> Result<(), Fail> {
        let mut start = 0;
        for &cut in cuts.iter().filter(|&&c| c > 0 && c < bytes.len()).chain(std::iter::once(&bytes.len())) {
            if cut > start {
                self.send(&bytes[start..cut])?;
                start = cut;
                if start < bytes.len() {
                    std::thread::sleep(pause);
                }
            }
        }
        Ok(())
    }

    /// Reads until `buf` is full, end of file, an error or the timeout.
    fn fill(&mut self, buf: &mut [u8]) -> (usize, Option<std::io::Error>) {
        let mut got = 0;
        while got < buf.len() {
            match self.read(&mut buf[got..]) {
                Ok(0) => return (got, None),
                Ok(n) => got += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return (got, Some(e)),
            }
        }
        (got, None)
    }

    /// Whatever else arrives within `wait` (at most `max` bytes), for a dump.
    fn drain(&mut self, max: usize, wait: Duration) -> Vec<u8> {
        let _ = self.set_timeout(wait);
        let mut more = vec![0u8; max];
        let (n, _) = self.fill(&mut more);
        more.truncate(n);
        let _ = self.set_timeout(IO_WAIT);
        more
    }

    /// Sends `call` with ID `id` and expects the contract's reply, byte for byte.
    pub fn call(&mut self, call: &Call, id: u32) -> Result<(), Fail> {
        let request = call.request(id);
        self.send(&request.bytes)?;
        let expected = call.outcome().reply(id);
        self.expect_reply(&expected, &format!("`{}`", call.describe()), IO_WAIT)
            .map_err(|f| f.note(format!("the request the grader sent: {}", request.dump(&request.bytes))))
    }

    /// Reads one reply (its LEN, then LEN bytes) within `wait` and expects
    /// exactly `expected`. A failure shows both cut at the contract's fields.
    pub fn expect_reply(&mut self, expected: &Msg, what: &str, wait: Duration) -> Result<(), Fail> {
        let started = Instant::now();
        self.set_timeout(wait)?;
        let mut got = vec![0u8; 4];
        let (n, err) = self.fill(&mut got);
        got.truncate(n);
        if n < 4 {
            let waited = started.elapsed().as_secs_f64();
            let _ = self.set_timeout(IO_WAIT);
            return Err(match err {
                Some(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    Fail::new(format!("no reply to {what} within {waited:.1}s"))
                        .timing(ipc_engine::check::Timing::Deadline)
                        .got(if n == 0 { "nothing".to_string() } else { format!("only {}", wire::hex(&got, 4)) })
                }
                Some(e) => {
                    Fail::new(format!("the connection failed while waiting for the reply to {what}: {}", os_reason(&e)))
                        .note(HUNG_UP)
                }
                None => Fail::new(format!("the server closed the connection instead of replying to {what}"))
                    .got(if n == 0 {
                        "end of file".to_string()
                    } else {
                        format!("{}, then end of file", wire::hex(&got, 4))
                    })
                    .note(HUNG_UP),
            }
            .expected(expected.dump(&expected.bytes)));
        }
        let len = u32::from_be_bytes([got[0], got[1], got[2], got[3]]) as usize;
        if len + 4 == expected.bytes.len() {
            got.resize(4 + len, 0);
            let (n, err) = self.fill(&mut got[4..]);
            got.truncate(4 + n);
            if n < len {
                let _ = self.set_timeout(IO_WAIT);
                let why = match err {
                    Some(e) => format!("({})", os_reason(&e)),
                    None => "(end of file)".to_string(),
                };
                return Err(Fail::new(format!(
                    "the reply to {what} stops after {} of the {} bytes its LEN announces {why}",
                    got.len(),
                    4 + len
                ))
                .expected(expected.dump(&expected.bytes))
                .got(expected.dump(&got)));
            }
        } else {
            // A wrong LEN: show what came, without waiting for it to be true.
            got.extend(self.drain(expected.bytes.len() + 60, Duration::from_millis(300)));
        }
        let _ = self.set_timeout(IO_WAIT);
        if got == expected.bytes {
            return Ok(());
        }
        Err(diff(expected, &got, &format!("the reply to {what}")))
    }

    /// Expects the server to close the connection (end of file or reset)
    /// within `wait`, sending nothing.
    pub fn expect_closed(&mut self, wait: Duration, after: &str) -> Result<(), Fail> {
        self.set_timeout(wait)?;
        let mut buf = [0u8; 64];
        let result = self.read(&mut buf);
        let _ = self.set_timeout(IO_WAIT);
        match result {
            Ok(0) => Ok(()),
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => Ok(()),
            Ok(n) => Err(Fail::new(format!("the server answered {after}, where it must close the connection"))
                .got(wire::hex(&buf[..n], 64))),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Err(Fail::new(format!(
                "the server neither closed the connection nor answered within {:.1}s {after}",
                wait.as_secs_f64()
            ))
            .timing(ipc_engine::check::Timing::Deadline)),
            Err(e) => Err(Fail::new(format!("reading {after} failed: {}", os_reason(&e)))),
        }
    }

    /// Half-closes: the server reads end of file.
    pub fn shutdown_write(&self) {
        let _ = match &self.stream {
            Stream::Tcp(s) => s.shutdown(Shutdown::Write),
            Stream::Unix(s) => s.shutdown(Shutdown::Write),
        };
    }

    /// Closes with a reset (TCP: SO_LINGER 0, so close sends RST, not FIN);
    /// a Unix socket just closes.
    pub fn reset(self) {
        if let Stream::Tcp(s) = &self.stream {
            let _ = socket::setsockopt(s, sockopt::Linger, &libc::linger { l_onoff: 1, l_linger: 0 });
        }
    }
}

/// A failure showing where `got` departs from `expected`, with the likely
/// cause for the commonest ones (byte order, a LEN counting itself, another
/// reply than the contract's).
pub fn diff(expected: &Msg, got: &[u8], what: &str) -> Fail {
    // A LEN that counts the bytes that followed it is right for the reply
    // the server meant: the difference that matters is in that reply.
    let consistent = got.len() >= 4 && u32::from_be_bytes([got[0], got[1], got[2], got[3]]) as usize + 4 == got.len();
    let body = |name: &str| !(consistent && name == "LEN");
    let field = expected
        .fields
        .iter()
        .find(|(name, r)| body(name) && got.get(r.clone()) != Some(&expected.bytes[r.clone()]))
        .map(|(name, _)| name.clone())
        .or_else(|| expected.first_difference(got))
        .unwrap_or_default();
    let mut fail = Fail::new(format!("{what} is not the contract's: it differs first in {field}"))
        .expected(expected.dump(&expected.bytes))
        .got(expected.dump(got));
    if let Some(note) = likely_cause(expected, got, consistent) {
        fail = fail.note(note);
    }
    if let Some((note, zeros)) = where_in_field(expected, got, &field) {
        fail = fail.note(note);
        if zeros {
            fail = fail.clue(SHORT_READ);
        }
    }
    fail
}

/// Where a field too long for the dumps (which show its first 24 bytes)
/// differs, with the bytes around it; and whether the rest of what came is
/// zeros (a buffer filled only up to there: a short read).
fn where_in_field(expected: &Msg, got: &[u8], field: &str) -> Option<(String, bool)> {
    let (_, range) = expected.fields.iter().find(|(name, _)| name == field)?;
    let want = &expected.bytes[range.clone()];
    let have = got.get(range.start..range.end.min(got.len()))?;
    if want.len() <= 24 {
        return None;
    }
    let at = want.iter().zip(have).position(|(a, b)| a != b).unwrap_or(want.len().min(have.len()));
    let from = at.saturating_sub(4);
    let window = |bytes: &[u8]| wire::hex(&bytes[from.min(bytes.len())..(at + 12).min(bytes.len())], 16);
    let mut note = format!(
        "{field} differs first at its byte {at} (byte {} of the message), after {at} equal bytes; from its byte {from}:\n  \
         expected: {}\n  got:      {}",
        range.start + at,
        window(want),
        window(have)
    );
    let zeros = at < have.len() && have[at..].iter().all(|&b| b == 0) && want[at..].iter().any(|&b| b != 0);
    if zeros {
        note.push_str(&format!(
            "\nfrom there to its end ({} bytes) the reply holds zeros: the server's buffer was filled only up to \
             byte {at}, as when one read returns only part of a request and its count is not checked",
            have.len() - at
        ));
    }
    Some((note, zeros))
}

fn likely_cause(expected: &Msg, got: &[u8], consistent: bool) -> Option<String> {
    if let Some(note) = another_status(expected, got, consistent) {
        return Some(note);
    }
    let (name, range) = expected.fields.iter().find(|(_, r)| got.get(r.clone()) != Some(&expected.bytes[r.clone()]))?;
    let want = &expected.bytes[range.clone()];
    let have = got.get(range.clone())?;
    let mut reversed = have.to_vec();
    reversed.reverse();
    if want.len() > 1 && reversed == want {
        return Some(format!(
            "{name} has the right bytes in the reverse order: integers on the wire are big-endian (to_be_bytes, from_be_bytes; htonl in C)"
        ));
    }
    if name == "LEN" {
        let want = u32::from_be_bytes(want.try_into().ok()?);
        let have = u32::from_be_bytes(have.try_into().ok()?);
        let follow = got.len() - 4;
        if have as usize == follow + 4 {
            return Some(format!(
                "LEN is {have}, 4 more than the {follow} bytes that follow it: LEN does not count itself"
            ));
        }
        if consistent {
            return Some(format!("LEN is {have}, and {follow} bytes follow it, where the contract's reply has {want}"));
        }
        return Some(format!("LEN is {have}, but {follow} bytes follow it (the contract's reply has {want})"));
    }
    None
}

/// A whole, well-framed reply with another STATUS than the contract's: the
/// server answered with an error (or a result) where the other was due.
fn another_status(expected: &Msg, got: &[u8], consistent: bool) -> Option<String> {
    let (_, range) = expected.fields.iter().find(|(name, _)| name == "STATUS")?;
    let (want, have) = (expected.bytes[range.start], *got.get(range.start)?);
    if !consistent || want == have {
        return None;
    }
    let status = |s: u8| match s {
        0 => "0 (ok, with the results)".to_string(),
        1 => "1 (unknown procedure)".to_string(),
        2 => "2 (bad arguments)".to_string(),
        3 => "3 (the call failed)".to_string(),
        s => format!("{s} (no status of the contract)"),
    };
    let message = got
        .get(range.end..range.end + 4)
        .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize)
        .and_then(|n| got.get(range.end + 4..range.end + 4 + n))
        .filter(|_| have != 0)
        .map(|m| format!(" with the message `{}`", ipc_engine::text::escape(m, true)))
        .unwrap_or_default();
    Some(format!(
        "the server answered STATUS {}{message}, where the contract's answer is STATUS {}; LEN counts that reply rightly",
        status(have),
        status(want)
    ))
}
