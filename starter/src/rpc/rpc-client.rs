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
#[allow(unused_imports)]
use ipc_common::{fail, fail_with};
use rpc::Unmarshal;

/// Used in error messages: `rpc-client: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "rpc-client";
const USAGE: &str = "rpc-client [--timeout MS] [--repeat N] (--unix PATH | HOST PORT) PROC [ARG...]";

/// Exit status when the server answered with a STATUS other than 0.
#[allow(dead_code)]
const STATUS_FAILED: u8 = 3;
/// Exit status when no reply came in time.
#[allow(dead_code)]
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

    /// The client stub's first half: the request for this call, with ID
    /// `id`, as the contract's table of procedures says
    /// (handouts/rpc.md#messages).
    ///
    /// Pitfalls:
    /// - `sleep`'s argument is a `u32`, not an `i64` like the others.
    fn request(&self, id: u32) -> Vec<u8> {
        let _ = (id, rpc::proc_number(self.name()));
        todo!("marshal ID, PROC and the arguments")
    }

    /// The client stub's second half: the results of a successful call
    /// (the fields after STATUS 0), as the line the contract says to print
    /// (handouts/rpc.md#rpc-client). `None` if they do not fill the reply
    /// exactly: a bad reply.
    ///
    /// Pitfalls:
    /// - `stat`'s mode is printed in octal, as `ls` and `chmod` write it.
    fn results(&self, fields: Unmarshal) -> Option<String> {
        let _ = fields;
        todo!("unmarshal the results and format them")
    }
}

fn main() -> ExitCode {
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
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

/// The lab: connect once, make the call `repeat` times on that one
/// connection, and print the last call's line.
///
/// Pitfalls:
/// - Cannot connect: `rpc-client: ADDR: REASON`, exit 1 (ADDR as
///   `Server`'s Display writes it). A failed call is reported (see
///   [`Failure::report`]) and ends the program.
/// - Each call on the connection has a new ID: a reply to another ID is
///   not this call's.
///
/// Read: handouts/rpc.md (rpc-client, What a client can do when the
/// server crashes).
/// Stuck? `cargo grade --hint rpc-client` shows one hint at a time.
fn run(server: &Server, call: &Call, repeat: u32, timeout: Duration) -> ExitCode {
    let _ = (server, call, repeat, timeout);
    todo!("connect once, make the call `repeat` times, print the last results")
}

/// Where the server is.
enum Server {
    Tcp(String, u16),
    Unix(PathBuf),
}

impl Server {
    /// Connects: socket(2) + connect(2), over TCP or to the Unix domain
    /// socket at PATH.
    ///
    /// Pitfalls:
    /// - HOST may have several addresses (`localhost`: `::1` and
    ///   `127.0.0.1`), and a server may listen on only one: try each.
    ///
    /// Read: connect(2), unix(7), getaddrinfo(3); `rpc::resolve` and
    /// `rpc::first_that_works` are given.
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
    /// Makes each read and write on the connection give up after
    /// `timeout` (then it fails with `ErrorKind::WouldBlock`, or
    /// `TimedOut`).
    ///
    /// Pitfalls:
    /// - std refuses a timeout of zero.
    ///
    /// Read: socket(7) (SO_RCVTIMEO, SO_SNDTIMEO).
    fn set_timeouts(&self, timeout: Duration) -> io::Result<()> {
        let _ = timeout;
        todo!("a time limit on each read and write")
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
    /// Reports the failure as the contract says (handouts/rpc.md#rpc-client):
    /// `rpc-client: PROC: WHAT` on stderr, and the exit status for that
    /// kind of failure.
    #[allow(dead_code)]
    fn report(self, proc: &str) -> ExitCode {
        let _ = proc;
        todo!("the contract's line and exit status for each failure")
    }
}

/// One call on the connection: send `call`'s request with ID `id`, read
/// its reply, and unmarshal it into the line to print, or a [`Failure`].
///
/// Pitfalls:
/// - The reply must carry the request's ID, and fields that fit: anything
///   else is a bad reply.
/// - STATUS other than 0 carries the server's message.
/// - The time-out is for the whole reply, not for each read: the reply may
///   come in several reads.
/// - The server closing the connection (the stream ends, or a read or
///   write is reset or hits a broken pipe) is `Closed`, not a bad reply.
///
/// Read: handouts/rpc.md (Messages, What a client can do when the server
/// crashes); `rpc::write_message` and `rpc::read_message` are yours, in
/// src/rpc/mod.rs.
#[allow(dead_code)]
fn exchange(conn: &mut Conn, call: &Call, id: u32, timeout: Duration) -> Result<String, Failure> {
    let _ = (conn, call, id, timeout);
    todo!("send the request, read and unmarshal the reply")
}
