//! `rpc-server (--unix PATH | [--host HOST] PORT)`: the server stub. For
//! each request it unmarshals the arguments, calls the procedure, and
//! marshals the results into the reply. Every connection is served on a
//! thread of its own, over TCP or a Unix domain stream socket.

// This lab's shared code (src/rpc/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod rpc;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Duration;

use clap::Parser;
use ipc_common::{Context, Error};
use nix::sys::signal::{SigHandler, Signal, signal};
use rpc::{Marshal, Unmarshal};

const PROGRAM: &str = "rpc-server";
const USAGE: &str = "rpc-server (--unix PATH | [--host HOST] PORT)";

/// The longest `sleep` a client may ask for, in milliseconds.
const MAX_SLEEP_MS: u32 = 10_000;

#[derive(Parser)]
struct Args {
    /// Listen on a Unix domain stream socket at PATH instead of TCP.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["host", "port"])]
    unix: Option<PathBuf>,
    /// The address to bind (a name, an IPv4 or an IPv6 address); default 127.0.0.1.
    #[arg(long)]
    host: Option<String>,
    /// The TCP port; 0 lets the system choose.
    #[arg(required_unless_present = "unix")]
    port: Option<u16>,
}

/// The socket file this server made, removed when it stops.
static SOCKET_FILE: OnceLock<PathBuf> = OnceLock::new();

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) if code == ExitCode::SUCCESS || !ipc_common::fault!("usage-status-1") => return code,
        Err(_) => return ExitCode::from(ipc_common::ERROR_STATUS),
    };
    // A write to a connection whose client is gone raises SIGPIPE, whose
    // default action kills the whole server. Ignored, the write fails with
    // EPIPE instead and ends only that connection. (Rust's runtime already
    // ignores it, and std's TcpStream and UnixStream send with MSG_NOSIGNAL;
    // a C server, or one that writes to the descriptor with write(2), must
    // do this itself.)
    let disposition = if ipc_common::fault!("sigpipe-default") { SigHandler::SigDfl } else { SigHandler::SigIgn };
    // SAFETY: SIG_IGN and SIG_DFL install no handler code.
    if let Err(e) = unsafe { signal(Signal::SIGPIPE, disposition) } {
        return Error::new("signal", e).report(PROGRAM);
    }
    // Stop at once on SIGINT or SIGTERM: exiting ends every connection's
    // thread; only the socket file must go first.
    let stopping = rpc::on_termination(|_| {
        ipc_common::fault!("waits-for-connections" => std::thread::sleep(Duration::from_secs(30)));
        if let Some(path) = SOCKET_FILE.get() {
            if !ipc_common::fault!("keeps-socket-file") {
                let _ = std::fs::remove_file(path);
            }
        }
        std::process::exit(0)
    });
    if let Err(e) = stopping {
        return Error::new("sigprocmask", e).report(PROGRAM);
    }

    match (&args.unix, args.port) {
        (Some(path), _) => ipc_common::finish(PROGRAM, serve_unix(path)),
        (None, Some(port)) => ipc_common::finish(PROGRAM, serve_tcp(args.host.as_deref().unwrap_or("127.0.0.1"), port)),
        (None, None) => ipc_common::usage(USAGE),
    }
}

/// TCP, as in lab `sockets`: bind, print `listening on ADDR`, accept
/// connections, each served on a thread of its own.
fn serve_tcp(host: &str, port: u16) -> ipc_common::Result<()> {
    let host = if ipc_common::fault!("ipv4-only") { "127.0.0.1" } else { host };
    let addrs = rpc::resolve(host, port).context(host)?;
    // socket(2) + bind(2) + listen(2).
    let listener = rpc::first_that_works(&addrs, TcpListener::bind).context("bind")?;
    let local = listener.local_addr().context("getsockname")?;
    ipc_common::fault!("print-port-zero" => let local = std::net::SocketAddr::new(local.ip(), port));
    say_listening(&local).context("stdout")?;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                // `sigpipe-default`: write(2) on the descriptor, as a C server does: no MSG_NOSIGNAL.
                ipc_common::fault!("sigpipe-default" => { spawn_connection(rpc::faults::as_file(stream)); continue });
                spawn_connection(stream)
            }
            Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::ConnectionAborted) => {}
            Err(e) => return Err(Error::new("accept", e)),
        }
    }
}

/// A Unix domain stream socket at `path`, served as over TCP.
fn serve_unix(path: &Path) -> ipc_common::Result<()> {
    let listener = bind_unix(path).context(path.display())?;
    let _ = SOCKET_FILE.set(path.to_owned());
    say_listening(&path.display()).context("stdout")?;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                ipc_common::fault!("sigpipe-default" => { spawn_connection(rpc::faults::as_file(stream)); continue });
                spawn_connection(stream)
            }
            Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::ConnectionAborted) => {}
            Err(e) => return Err(Error::new("accept", e)),
        }
    }
}

/// socket(2) + bind(2) + listen(2) on a Unix domain stream socket at `path`.
///
/// bind fails with EADDRINUSE whatever is at `path`. A socket file that
/// nobody accepts on (connect says ECONNREFUSED) was left by a server that
/// is gone: remove it and bind again. A live server's socket stays, and so
/// does anything that is not a socket (EEXIST, `File exists`).
fn bind_unix(path: &Path) -> std::io::Result<std::os::unix::net::UnixListener> {
    ipc_common::fault!("unlinks-whatever-is-there" => let _ = std::fs::remove_file(path));
    match UnixListener::bind(path) {
        Err(e) if e.kind() == ErrorKind::AddrInUse && !ipc_common::fault!("no-stale-check") => {
            if !std::fs::symlink_metadata(path)?.file_type().is_socket() {
                return Err(std::io::Error::from_raw_os_error(libc::EEXIST));
            }
            match UnixStream::connect(path) {
                Err(refused) if refused.kind() == ErrorKind::ConnectionRefused => {
                    std::fs::remove_file(path)?;
                    UnixListener::bind(path)
                }
                _ => Err(e),
            }
        }
        bound => bound,
    }
}

/// Prints `listening on ADDR` and flushes it at once (the grader waits for it).
fn say_listening(addr: &dyn std::fmt::Display) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {addr}")?;
    out.flush()
}

/// Serves one connection on a thread of its own: a slow call on one
/// connection never delays another.
fn spawn_connection<S: Read + Write + Send + 'static>(stream: S) {
    ipc_common::fault!("sequential" => return serve(stream)); // one connection at a time
    std::thread::spawn(move || serve(stream));
}

/// Answers the requests of one connection, one at a time, until the client
/// closes it. Whatever goes wrong ends this connection only: a bad LEN, a
/// client that resets or vanishes, a reply that cannot be sent.
fn serve<S: Read + Write>(mut stream: S) {
    loop {
        let read = rpc::read_message(&mut stream, rpc::MIN_REQUEST_LEN, rpc::MAX_LEN);
        ipc_common::fault!("exits-on-bad-len" => if read.as_ref().is_err_and(|e| e.kind() == ErrorKind::InvalidData) { std::process::exit(1) });
        ipc_common::fault!("exits-on-broken-request" => if read.is_err() { std::process::exit(1) });
        let request = match read {
            Ok(Some(request)) => request,
            // The client closed between requests: done.
            Ok(None) => return,
            // A LEN out of bounds (closed unread), or the connection ended
            // or was reset in the middle of a request.
            Err(_) => return,
        };
        let reply = answer(&request);
        if rpc::write_message(&mut stream, &reply).is_err() {
            return;
        }
        ipc_common::fault!("one-call-per-connection" => return);
    }
}

/// Why a call has no results: STATUS and its message.
type Failure = (u8, String);

fn bad_arguments() -> Failure {
    (rpc::BAD_ARGUMENTS, "bad arguments".into())
}

fn failed(message: impl Into<String>) -> Failure {
    (rpc::FAILED, message.into())
}

/// The server stub: a request (ID, PROC, arguments) in, the reply out.
fn answer(request: &[u8]) -> Vec<u8> {
    let mut fields = Unmarshal::new(request);
    // read_message checked that LEN >= 6: ID and PROC are there.
    let (Some(id), Some(proc)) = (fields.u32(), fields.u16()) else {
        unreachable!("a request shorter than its ID and PROC")
    };
    let reply = Marshal::message().u32(id);
    match call(proc, fields) {
        Ok(Results::Int(n)) => reply.u8(rpc::OK).i64(n),
        Ok(Results::Str(s)) => reply.u8(rpc::OK).str(&s),
        Ok(Results::Quotient(q, r)) => reply.u8(rpc::OK).i64(q).i64(r),
        Ok(Results::Nothing) => reply.u8(rpc::OK),
        Ok(Results::Stat(size, mode)) => reply.u8(rpc::OK).u64(size).u32(mode),
        Err((status, message)) => reply.u8(status).str(&message),
    }
    .finish()
}

/// What a call returns, before it is marshalled.
enum Results {
    Int(i64),
    Str(String),
    Quotient(i64, i64),
    Nothing,
    Stat(u64, u32),
}

/// Unmarshals PROC's arguments and calls it. Each arm takes its fields in
/// order, then `end()`: arguments that do not fill the request exactly are
/// `bad arguments`, like a `str` that is not UTF-8.
fn call(proc: u16, mut args: Unmarshal) -> Result<Results, Failure> {
    match proc {
        1 => {
            let (a, b) = (args.i64(), args.i64());
            let (Some(a), Some(b), Some(())) = (a, b, args.end()) else { return Err(bad_arguments()) };
            add(a, b).map(Results::Int)
        }
        2 => {
            let s = args.str();
            let (Some(s), Some(())) = (s, args.end()) else { return Err(bad_arguments()) };
            Ok(Results::Str(upper(s)))
        }
        3 => {
            let xs = args.list();
            let (Some(xs), Some(())) = (xs, args.end()) else { return Err(bad_arguments()) };
            sum(&xs).map(Results::Int)
        }
        4 => {
            let (a, b) = (args.i64(), args.i64());
            let (Some(a), Some(b), Some(())) = (a, b, args.end()) else { return Err(bad_arguments()) };
            div(a, b).map(|(q, r)| Results::Quotient(q, r))
        }
        5 => {
            let ms = args.u32();
            let (Some(ms), Some(())) = (ms, args.end()) else { return Err(bad_arguments()) };
            if ms > MAX_SLEEP_MS && !ipc_common::fault!("no-sleep-limit") {
                return Err(bad_arguments());
            }
            std::thread::sleep(Duration::from_millis(u64::from(ms)));
            Ok(Results::Nothing)
        }
        6 => {
            let path = args.str();
            let (Some(path), Some(())) = (path, args.end()) else { return Err(bad_arguments()) };
            stat(path).map(|(size, mode)| Results::Stat(size, mode))
        }
        _ if ipc_common::fault!("unknown-procedure-closes") => panic!("unknown procedure {proc}"),
        _ => Err((rpc::UNKNOWN_PROCEDURE, "unknown procedure".into())),
    }
}

// The procedures themselves: ordinary functions, which know nothing of the wire.

fn add(a: i64, b: i64) -> Result<i64, Failure> {
    ipc_common::fault!("wrapping-add" => return Ok(a.wrapping_add(b)));
    a.checked_add(b).ok_or_else(|| failed("overflow"))
}

/// ASCII letters only: `é` and `ß` stay as they are.
fn upper(s: &str) -> String {
    ipc_common::fault!("unicode-upper" => return s.to_uppercase());
    s.to_ascii_uppercase()
}

/// The exact total, in 128 bits: a running `i64` sum would overflow on
/// `[MAX, 1, -1]`, whose total fits.
fn sum(xs: &[i64]) -> Result<i64, Failure> {
    ipc_common::fault!("checked-running-sum" => return xs.iter().try_fold(0i64, |acc, &x| acc.checked_add(x)).ok_or_else(|| failed("overflow")));
    let total: i128 = xs.iter().map(|&x| i128::from(x)).sum();
    i64::try_from(total).map_err(|_| failed("overflow"))
}

/// Truncating division, as Rust's `/` and `%` (and C's) do: `-7 / 2` is
/// `-3` remainder `-1`.
fn div(a: i64, b: i64) -> Result<(i64, i64), Failure> {
    if b == 0 {
        return Err(failed("division by zero"));
    }
    ipc_common::fault!("floor-division" => return Ok((a.div_euclid(b), a.rem_euclid(b))));
    // `i64::MIN / -1` is 2^63, one more than i64::MAX: checked_div says None.
    match (a.checked_div(b), a.checked_rem(b)) {
        (Some(q), Some(r)) => Ok((q, r)),
        _ => Err(failed("overflow")),
    }
}

/// stat(2) of `path` on this machine: its size and `st_mode`.
fn stat(path: &str) -> Result<(u64, u32), Failure> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(meta) if ipc_common::fault!("permission-bits-only") => Ok((meta.size(), meta.mode() & 0o7777)),
        Ok(meta) => Ok((meta.size(), meta.mode())),
        Err(e) => Err(failed(ipc_common::os_reason(&e))),
    }
}
