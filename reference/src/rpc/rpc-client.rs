//! `rpc-client [--timeout MS] [--repeat N] (--unix PATH | HOST PORT) PROC [ARG...]`:
//! the client stub on the command line. It marshals the ARGs for PROC into
//! a request, sends it, waits for the reply and unmarshals the results,
//! N times on one connection, and prints the last call's results.

// This lab's shared code (src/rpc/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod rpc;

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use ipc_common::{fail, fail_with};
use rpc::{Marshal, Unmarshal};

const PROGRAM: &str = "rpc-client";
const USAGE: &str = "rpc-client [--timeout MS] [--repeat N] (--unix PATH | HOST PORT) PROC [ARG...]";

/// Exit status when the server answered with a STATUS other than 0.
const STATUS_FAILED: u8 = 3;
/// Exit status when no reply came in time.
const STATUS_TIMED_OUT: u8 = 4;

#[derive(Parser)]
struct Args {
    /// How long to wait for each reply, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// How many times to make the call, on one connection.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Connect to the Unix domain stream socket at PATH instead of HOST PORT.
    #[arg(long, value_name = "PATH")]
    unix: Option<PathBuf>,
    /// HOST PORT (without --unix), then PROC and its ARGs. `-2` is an ARG,
    /// not an option.
    #[arg(required = true, allow_negative_numbers = true)]
    words: Vec<String>,
}

/// A call, with its arguments parsed from the command line.
enum Call {
    Add(i64, i64),
    Upper(String),
    Sum(Vec<i64>),
    Div(i64, i64),
    Sleep(u32),
    Stat(String),
}

impl Call {
    /// `PROC ARG...` as the contract names them; `None` is a usage error.
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

    /// The client stub's first half: the request for this call.
    fn request(&self, id: u32) -> Vec<u8> {
        let number = rpc::proc_number(self.name()).expect("every Call is in the table");
        let m = Marshal::message().u32(id).u16(number);
        ipc_common::fault!("str-without-count" => if let Call::Upper(s) | Call::Stat(s) = self { return rpc::faults::bytes_only(m, s).finish() });
        ipc_common::fault!("list-count-in-bytes" => if let Call::Sum(xs) = self { return rpc::faults::count_in_bytes(m, xs).finish() });
        match self {
            Call::Add(a, b) | Call::Div(a, b) => m.i64(*a).i64(*b),
            Call::Upper(s) | Call::Stat(s) => m.str(s),
            Call::Sum(xs) => m.list(xs),
            Call::Sleep(ms) if ipc_common::fault!("sleep-as-i64") => m.i64(i64::from(*ms)),
            Call::Sleep(ms) => m.u32(*ms),
        }
        .finish()
    }

    /// The client stub's second half: the results of a successful call, as
    /// the line to print. `None` if they do not fill the reply exactly.
    fn results(&self, mut fields: Unmarshal) -> Option<String> {
        let line = match self {
            Call::Add(..) | Call::Sum(_) => fields.i64()?.to_string(),
            Call::Upper(_) => fields.str()?.to_string(),
            Call::Div(..) if ipc_common::fault!("div-quotient-only") => fields.i64().zip(fields.i64())?.0.to_string(),
            Call::Div(..) => {
                let (q, r) = fields.i64().zip(fields.i64())?;
                format!("{q} {r}")
            }
            Call::Sleep(_) => "ok".to_string(),
            Call::Stat(_) => {
                let (size, mode) = fields.u64().zip(fields.u32())?;
                let mode = if ipc_common::fault!("mode-in-decimal") { mode.to_string() } else { format!("{mode:o}") };
                format!("{size} {mode}")
            }
        };
        fields.end()?;
        Some(line)
    }
}

fn main() -> ExitCode {
    ipc_common::fault!("negative-as-option" => if rpc::faults::has_negative_number() { return ipc_common::usage(USAGE) });
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) if code == ExitCode::SUCCESS || !ipc_common::fault!("usage-status-1") => return code,
        Err(_) => return ExitCode::from(ipc_common::ERROR_STATUS),
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

/// The lab: connect once, make the call `repeat` times on that connection,
/// print the last call's results.
fn run(server: &Server, call: &Call, repeat: u32, timeout: Duration) -> ExitCode {
    let mut conn = match server.connect() {
        Ok(conn) => conn,
        Err(e) => return connect_failed(server, &e),
    };
    let mut line = String::new();
    for n in 1..=repeat {
        ipc_common::fault!("reconnects-each-call" => if n > 1 { conn = match server.connect() { Ok(conn) => conn, Err(e) => return connect_failed(server, &e) } });
        // Any ID will do; a new one for every call tells the replies apart.
        match exchange(&mut conn, call, n, timeout) {
            Ok(results) => line = results,
            Err(failure) => return failure.report(call.name()),
        }
    }
    let mut out = io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(PROGRAM, "stdout", ipc_common::os_reason(&e)),
    }
}

/// Where the server is.
enum Server {
    Tcp(String, u16),
    Unix(PathBuf),
}

impl Server {
    /// socket(2) + connect(2): over TCP to each address of HOST in turn,
    /// until one answers; or to the socket file PATH.
    fn connect(&self) -> io::Result<Conn> {
        match self {
            Server::Tcp(host, port) => {
                let addrs = rpc::resolve(host, *port)?;
                let stream = rpc::first_that_works(&addrs, TcpStream::connect)?;
                // Each request goes out in one write: no need to wait for
                // more (Nagle), which only delays the next call's request.
                stream.set_nodelay(true)?;
                Ok(Conn::Tcp(stream))
            }
            Server::Unix(path) => Ok(Conn::Unix(UnixStream::connect(path)?)),
        }
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

/// `rpc-client: ADDR: REASON`, exit 1.
fn connect_failed(server: &Server, e: &io::Error) -> ExitCode {
    // `os-error-number`: Rust's Display, `Connection refused (os error 111)`.
    ipc_common::fault!("os-error-number" => { eprintln!("{PROGRAM}: {server}: {e}"); return ExitCode::FAILURE });
    fail(PROGRAM, server, ipc_common::os_reason(e))
}

/// A connection over either kind of stream socket.
enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Conn {
    /// SO_RCVTIMEO and SO_SNDTIMEO (socket(7)): a read or write that waits
    /// longer fails with EAGAIN (`ErrorKind::WouldBlock`).
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

/// The connection, with every read and write bounded by one call's deadline.
struct Timed<'a> {
    conn: &'a mut Conn,
    deadline: Instant,
}

impl Timed<'_> {
    /// What is left until the deadline; none left is a time-out.
    fn left(&self) -> io::Result<Duration> {
        ipc_common::fault!("no-timeout" => return Ok(Duration::from_secs(1 << 30)));
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        Ok(left)
    }
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.conn.set_timeouts(self.left()?)?;
        self.conn.read(buf)
    }
}

impl Write for Timed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.conn.set_timeouts(self.left()?)?;
        self.conn.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How a call can fail.
enum Failure {
    /// The server answered with this STATUS and message.
    Status(String),
    TimedOut,
    Closed,
    BadReply,
    Io(io::Error),
}

impl Failure {
    fn from_io(e: io::Error) -> Failure {
        let closed = matches!(e.kind(), ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe);
        ipc_common::fault!("closed-is-bad-reply" => if closed { return Failure::BadReply });
        match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => Failure::TimedOut,
            _ if closed => Failure::Closed,
            // A LEN too small for the ID and STATUS.
            ErrorKind::InvalidData => Failure::BadReply,
            _ => Failure::Io(e),
        }
    }

    /// `rpc-client: PROC: WHAT` with the contract's exit status.
    fn report(self, proc: &str) -> ExitCode {
        match self {
            Failure::Status(message) if ipc_common::fault!("status-exit-1") => fail(PROGRAM, proc, message),
            Failure::Status(message) => fail_with(STATUS_FAILED, PROGRAM, proc, message),
            Failure::TimedOut => fail_with(STATUS_TIMED_OUT, PROGRAM, proc, "timed out"),
            Failure::Closed => fail(PROGRAM, proc, "connection closed"),
            Failure::BadReply => fail(PROGRAM, proc, "bad reply"),
            Failure::Io(e) => fail(PROGRAM, proc, ipc_common::os_reason(&e)),
        }
    }
}

/// One call: sends the request with ID `id`, waits up to `timeout` for its
/// reply, and unmarshals it.
fn exchange(conn: &mut Conn, call: &Call, id: u32, timeout: Duration) -> Result<String, Failure> {
    let mut timed = Timed { conn, deadline: Instant::now() + timeout };
    rpc::write_message(&mut timed, &call.request(id)).map_err(Failure::from_io)?;
    let reply = match rpc::read_message(&mut timed, rpc::MIN_REPLY_LEN, u32::MAX) {
        Ok(Some(reply)) => reply,
        // The server closed the connection instead of replying.
        Ok(None) => return Err(Failure::from_io(ErrorKind::UnexpectedEof.into())),
        Err(e) => return Err(Failure::from_io(e)),
    };
    let mut fields = Unmarshal::new(&reply);
    let (Some(reply_id), Some(status)) = (fields.u32(), fields.u8()) else { return Err(Failure::BadReply) };
    if reply_id != id && !ipc_common::fault!("ignores-id") {
        return Err(Failure::BadReply);
    }
    if status != rpc::OK {
        let message = fields.str().ok_or(Failure::BadReply)?;
        let message = message.to_string();
        fields.end().ok_or(Failure::BadReply)?;
        return Err(Failure::Status(message));
    }
    call.results(fields).ok_or(Failure::BadReply)
}
