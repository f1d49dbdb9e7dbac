//! `rpc-client [--timeout MS] [--repeat N] (--unix PATH | HOST PORT) PROC [ARG...]`
//!
//! The client stub on the command line: marshals the ARGs for PROC into a
//! request, sends it, waits for the reply, unmarshals the results; N times
//! on one connection; prints the last call's results on one line. Errors:
//! STATUS not 0 `rpc-client: PROC: MESSAGE` exit 3; no reply in time
//! `rpc-client: PROC: timed out` exit 4; connection closed before the reply
//! `... connection closed` exit 1; wrong ID or a reply that does not parse
//! `... bad reply` exit 1; cannot connect `rpc-client: ADDR: REASON` exit 1.
//! Read handouts/rpc.md first; `cargo grade rpc` checks it.

// This lab's shared code (src/rpc/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod rpc;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ipc_common::{fail, fail_with};
use rpc::Unmarshal;

/// Used in error messages: `rpc-client: CONTEXT: REASON`.
const PROGRAM: &str = "rpc-client";
const USAGE: &str = "rpc-client [--timeout MS] [--repeat N] (--unix PATH | HOST PORT) PROC [ARG...]";

/// Exit status when the server answered with a STATUS other than 0.
const STATUS_FAILED: u8 = 3;
/// Exit status when no reply came in time.
const STATUS_TIMED_OUT: u8 = 4;

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// How long to wait for each reply, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// How many times to make the call, on one connection (at least 1).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Connect to the Unix domain stream socket at PATH instead of HOST PORT.
    #[arg(long, value_name = "PATH")]
    unix: Option<PathBuf>,
    /// HOST PORT (without --unix), then PROC and its ARGs. Without
    /// `allow_negative_numbers`, clap would take the `-2` of `div 7 -2`
    /// for an option.
    #[arg(required = true, allow_negative_numbers = true)]
    words: Vec<String>,
}

/// A call, with its arguments parsed from the command line.
#[allow(dead_code)]
enum Call {
    Add(i64, i64),
    Upper(String),
    Sum(Vec<i64>),
    Div(i64, i64),
    Sleep(u32),
    Stat(String),
}

#[allow(dead_code)]
impl Call {
    /// `PROC ARG...` as the contract names them; `None` is a usage error
    /// (unknown PROC, the wrong number of ARGs, a number that does not parse).
    fn parse(words: &[String]) -> Option<Call> {
        let (name, args) = words.split_first()?;
        let int = |s: &String| s.parse::<i64>().ok();
        Some(match (name.as_str(), args) {
            ("add", [a, b]) => Call::Add(int(a)?, int(b)?),
            ("upper", [s]) => Call::Upper(s.clone()),
            ("sum", xs) => Call::Sum(xs.iter().map(int).collect::<Option<_>>()?),
            ("div", [a, b]) => Call::Div(int(a)?, int(b)?),
            ("sleep", [ms]) => Call::Sleep(ms.parse().ok()?),
            ("stat", [path]) => Call::Stat(path.clone()),
            _ => return None,
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Call::Add(..) => "add",
            Call::Upper(_) => "upper",
            Call::Sum(_) => "sum",
            Call::Div(..) => "div",
            Call::Sleep(_) => "sleep",
            Call::Stat(_) => "stat",
        }
    }

    /// The client stub's first half: the request for this call, ID `id`:
    /// `rpc::Marshal::message().u32(id).u16(PROC)`, then the arguments as
    /// the table says (add and div: two i64; upper and stat: a str; sum: a
    /// list; sleep: a u32, not an i64), then `.finish()`.
    fn request(&self, id: u32) -> Vec<u8> {
        let _ = (id, rpc::proc_number(self.name()));
        todo!("marshal ID, PROC and the arguments")
    }

    /// The client stub's second half: the results of a successful call
    /// (the fields after STATUS 0), as the line to print: add and sum the
    /// i64; upper the string; div `q r`; sleep `ok`; stat `SIZE MODE` with
    /// the mode in octal (`format!("{size} {mode:o}")`). `None` if they do
    /// not fill the reply exactly (`fields.end()`): a bad reply.
    fn results(&self, fields: Unmarshal) -> Option<String> {
        let _ = fields;
        todo!("unmarshal the results and format them")
    }
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    // Where to: `--unix PATH`, or the first two words, HOST and PORT.
    let (server, words) = match &args.unix {
        Some(path) => (Server::Unix(path.clone()), &args.words[..]),
        None => match &args.words[..] {
            [host, port, rest @ ..] => match port.parse::<u16>() {
                Ok(port) => (Server::Tcp(host.clone(), port), rest),
                Err(_) => return ipc_common::usage(USAGE),
            },
            _ => return ipc_common::usage(USAGE),
        },
    };
    let Some(call) = Call::parse(words) else { return ipc_common::usage(USAGE) };
    run(&server, &call, args.repeat, Duration::from_millis(args.timeout))
}

/// The lab. The steps:
///
/// 1. Connect ([`Server::connect`]). On failure: `rpc-client: ADDR: REASON`,
///    exit 1 (`fail(PROGRAM, server, ipc_common::os_reason(&e))`; ADDR is
///    `HOST:PORT` or PATH, which `Server`'s Display writes).
/// 2. `repeat` times, on that one connection: send a request and read its
///    reply ([`exchange`]), with a new ID for each call (any numbers will
///    do, e.g. 1, 2, 3...). If a call fails, report it
///    ([`Failure::report`]) and stop there.
/// 3. Print the last call's line on stdout (`println!`) and exit 0.
fn run(server: &Server, call: &Call, repeat: u32, timeout: Duration) -> ExitCode {
    let _ = (server, call, repeat, timeout);
    todo!("connect once, make the call `repeat` times, print the last results (the steps above)")
}

/// Where the server is.
enum Server {
    Tcp(String, u16),
    Unix(PathBuf),
}

impl Server {
    /// socket(2) + connect(2): over TCP, `rpc::resolve(host, port)` and
    /// `rpc::first_that_works(&addrs, TcpStream::connect)` (so `localhost`
    /// and `::1` work); with --unix, `UnixStream::connect(path)` (man 7 unix).
    #[allow(dead_code)]
    fn connect(&self) -> io::Result<Conn> {
        todo!("connect over TCP or to the socket file")
    }
}

/// A connection over either kind of stream socket. After connecting, the
/// same code serves both: `Conn` reads and writes like either stream.
#[allow(dead_code)]
enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
}

#[allow(dead_code)]
impl Conn {
    /// SO_RCVTIMEO and SO_SNDTIMEO (socket(7)): a read or write that waits
    /// longer fails with EAGAIN (`ErrorKind::WouldBlock`). `timeout` must not
    /// be zero.
    fn set_timeouts(&self, timeout: Duration) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.set_read_timeout(Some(timeout)).and_then(|()| s.set_write_timeout(Some(timeout))),
            Conn::Unix(s) => s.set_read_timeout(Some(timeout)).and_then(|()| s.set_write_timeout(Some(timeout))),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            Conn::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(buf),
            Conn::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl std::fmt::Display for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Server::Tcp(host, port) => write!(f, "{host}:{port}"),
            Server::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// How a call can fail.
#[allow(dead_code)]
enum Failure {
    /// The server answered with a STATUS other than 0, and this message.
    Status(String),
    /// No reply within the time-out.
    TimedOut,
    /// The server closed the connection before the whole reply came.
    Closed,
    /// A reply with another ID, or whose fields do not fit.
    BadReply,
    /// Anything else.
    Io(io::Error),
}

impl Failure {
    /// `rpc-client: PROC: WHAT` with the contract's exit status.
    #[allow(dead_code)]
    fn report(self, proc: &str) -> ExitCode {
        match self {
            Failure::Status(message) => fail_with(STATUS_FAILED, PROGRAM, proc, message),
            Failure::TimedOut => fail_with(STATUS_TIMED_OUT, PROGRAM, proc, "timed out"),
            Failure::Closed => fail(PROGRAM, proc, "connection closed"),
            Failure::BadReply => fail(PROGRAM, proc, "bad reply"),
            Failure::Io(e) => fail(PROGRAM, proc, ipc_common::os_reason(&e)),
        }
    }
}

/// One call on the connection: send `call.request(id)` with
/// `rpc::write_message`, read the reply with `rpc::read_message(..,
/// rpc::MIN_REPLY_LEN, u32::MAX)`, then unmarshal it: ID (must be `id`,
/// else `BadReply`), STATUS; if STATUS is not 0, one `str`, the message
/// (`Failure::Status`); else `call.results(fields)`.
///
/// What the errors mean:
/// - The time-out: set the socket's read (and write) timeout before you
///   read, to what is left of `timeout` for this call (`set_read_timeout`,
///   SO_RCVTIMEO in socket(7)). A read that times out fails with
///   `ErrorKind::WouldBlock` (or `TimedOut`): `Failure::TimedOut`. Pitfall:
///   the reply may come in several reads; the time-out is for the whole
///   reply, not for each read.
/// - `read_message` returning `Ok(None)` or `UnexpectedEof`, or a read or
///   write failing with `ConnectionReset` or `BrokenPipe`: the server closed
///   the connection, `Failure::Closed` (not a bad reply).
#[allow(dead_code)]
fn exchange(conn: &mut Conn, call: &Call, id: u32, timeout: Duration) -> Result<String, Failure> {
    let _ = (conn, call, id, timeout);
    todo!("send the request, read and unmarshal the reply")
}
