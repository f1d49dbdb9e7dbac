//! `rpc-server (--unix PATH | [--host HOST] PORT)`
//!
//! The server stub: listens on TCP (first line `listening on ADDR`) or on a
//! Unix domain stream socket (`listening on PATH`), serves every connection
//! on its own, and for each request unmarshals the arguments, calls the
//! procedure, and marshals the results into the reply. A client's mistakes
//! end its own connection only. SIGINT or SIGTERM: remove PATH, exit 0.
//! Read handouts/rpc.md first; `cargo grade rpc` checks it.

// This lab's shared code (src/rpc/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod rpc;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use rpc::Unmarshal;

/// Used in error messages: `rpc-server: CONTEXT: REASON`.
#[allow(dead_code)]
const PROGRAM: &str = "rpc-server";
const USAGE: &str = "rpc-server (--unix PATH | [--host HOST] PORT)";

/// The longest `sleep` a client may ask for, in milliseconds.
#[allow(dead_code)]
const MAX_SLEEP_MS: u32 = 10_000;

/// The command line, parsed by clap: `--unix PATH` excludes `--host` and
/// PORT, and PORT is required without `--unix`.
#[derive(Parser)]
struct Args {
    /// Listen on a Unix domain stream socket at PATH instead of TCP.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["host", "port"])]
    unix: Option<PathBuf>,
    /// The address to bind (a name, an IPv4 or an IPv6 address); default 127.0.0.1.
    #[arg(long)]
    host: Option<String>,
    /// The TCP port; 0 lets the system choose. A `u16`: clap rejects 70000 for you.
    #[arg(required_unless_present = "unix")]
    port: Option<u16>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        // The contract: a usage error prints ONE line on stderr and exits
        // with status 2. `ipc_common::usage(USAGE)` does exactly that.
        Err(_) => todo!("report the usage error: `usage: {USAGE}` (see the comment above)"),
    };
    // 1. SIGPIPE. Writing to a connection whose client is gone raises it,
    //    and its default action kills the whole server (signal(7)). Rust's
    //    runtime sets it to SIG_IGN before `main`, and std's TcpStream and
    //    UnixStream send with MSG_NOSIGNAL; a C server, or one that writes
    //    to the raw descriptor with write(2), must ignore it itself. Say so
    //    here, or set it yourself: `nix::sys::signal::signal(Signal::SIGPIPE,
    //    SigHandler::SigIgn)` (unsafe: it installs a disposition; SIG_IGN
    //    runs no code of yours, say so in a `// SAFETY:` comment).
    // 2. Stopping: `rpc::on_termination(|_| { ...; std::process::exit(0) })`
    //    first (before any thread). With --unix, remove PATH there first
    //    (`std::fs::remove_file`): a socket file outlives its process. Only
    //    remove the file once YOUR bind made it (e.g. keep its path in a
    //    `static OnceLock<PathBuf>` set after bind): a server that failed
    //    with `Address already in use` must not remove another server's file.
    match (&args.unix, args.port) {
        (Some(path), _) => ipc_common::finish(PROGRAM, serve_unix(path)),
        (None, Some(port)) => ipc_common::finish(PROGRAM, serve_tcp(args.host.as_deref().unwrap_or("127.0.0.1"), port)),
        (None, None) => ipc_common::usage(USAGE),
    }
}

/// TCP, as in lab `sockets`: `rpc::resolve(host, port)`, then
/// `rpc::first_that_works(&addrs, TcpListener::bind)` (socket + bind +
/// listen), print `listening on {listener.local_addr()}` and flush. Then
/// accept in a loop and hand each connection to [`spawn_connection`].
/// Errors: `ipc_common::fail(PROGRAM, "bind", ipc_common::os_reason(&e))`.
fn serve_tcp(host: &str, port: u16) -> ipc_common::Result<()> {
    let _ = (host, port);
    todo!("bind, print `listening on ADDR`, accept connections (the steps above)")
}

/// A Unix domain stream socket at `path`: [`bind_unix`], then print
/// `listening on PATH` (the path as given) and flush, then accept in a loop
/// (`UnixListener::accept`) exactly as over TCP. On an error:
/// `rpc-server: PATH: REASON`, exit 1.
fn serve_unix(path: &Path) -> ipc_common::Result<()> {
    let _ = path;
    todo!("bind_unix, print `listening on PATH`, accept connections")
}

/// socket(AF_UNIX, SOCK_STREAM) + bind + listen at `path`: `UnixListener::bind`.
///
/// Pitfall: bind(2) fails with EADDRINUSE whenever something is at `path`,
/// and a socket file stays behind after its server is gone (a crash, a
/// kill -9). Three cases (man 7 unix):
/// - a socket file nobody listens on: `UnixStream::connect(path)` fails with
///   ECONNREFUSED (`ErrorKind::ConnectionRefused`). It is stale: remove it
///   and bind again;
/// - a socket a server listens on (connect works): leave it alone and fail
///   with bind's error (`Address already in use`);
/// - not a socket at all (`std::fs::symlink_metadata(path)`, then
///   `file_type().is_socket()` from `std::os::unix::fs::FileTypeExt`): leave
///   it alone and fail with EEXIST (`std::io::Error::from_raw_os_error(libc::EEXIST)`,
///   whose text is `File exists`).
///
/// Never remove `path` before trying bind: that would take the address of a
/// live server, or delete someone's file.
#[allow(dead_code)]
fn bind_unix(path: &Path) -> std::io::Result<std::os::unix::net::UnixListener> {
    let _ = path;
    todo!("bind; on EADDRINUSE, replace a stale socket only (the cases above)")
}

/// Serves one connection on a thread of its own: `std::thread::spawn(move ||
/// serve(stream))`, at once, so that a slow call (a `sleep`) or an idle
/// client on one connection never delays another. (A server that serves
/// one connection at a time fails `server-concurrent`.)
#[allow(dead_code)]
fn spawn_connection<S: Read + Write + Send + 'static>(stream: S) {
    let _ = stream;
    todo!("a thread per connection")
}

/// Answers the requests of one connection, one at a time, until the client
/// closes it. Generic over `Read + Write`: the same code serves a
/// `TcpStream` and a `UnixStream`.
///
/// Loop: `rpc::read_message(&mut stream, rpc::MIN_REQUEST_LEN, rpc::MAX_LEN)`;
/// `Ok(None)`: the client closed, return. Any error (a LEN out of bounds, a
/// connection that ends or is reset in the middle of a request) ends THIS
/// connection: return from the thread. Never `exit`, never `unwrap()` what
/// a client controls: the server never dies of what one client sends.
/// Otherwise `rpc::write_message(&mut stream, &answer(&request))`; if that
/// fails (the client is gone: EPIPE, ECONNRESET), return too.
#[allow(dead_code)]
fn serve<S: Read + Write>(stream: S) {
    let _ = stream;
    todo!("read requests and write their replies until the client closes")
}

/// Why a call has no results: STATUS and its message.
type Failure = (u8, String);

/// The server stub: a request (ID, PROC, arguments) in, the reply out.
///
/// Unmarshal ID (`u32`) and PROC (`u16`): `read_message` checked LEN >= 6,
/// so they are there. The reply: `Marshal::message().u32(id)`, then
/// `.u8(rpc::OK)` and the results, or `.u8(status).str(&message)`, then
/// `.finish()`. The reply echoes the request's ID.
#[allow(dead_code)]
fn answer(request: &[u8]) -> Vec<u8> {
    let _ = request;
    todo!("unmarshal ID and PROC, call, marshal the reply")
}

/// What a call returns, before it is marshalled. (Or marshal the results
/// in `call` directly: any structure will do.)
#[allow(dead_code)]
enum Results {
    Int(i64),
    Str(String),
    Quotient(i64, i64),
    Nothing,
    Stat(u64, u32),
}

/// Unmarshals PROC's arguments and calls it (see the table in the handout).
/// Take the fields in order, then `args.end()`: arguments that do not fill
/// the request exactly (too few bytes, extra bytes) or a `str` that is not
/// UTF-8 are `(rpc::BAD_ARGUMENTS, "bad arguments")`. An unknown PROC is
/// `(rpc::UNKNOWN_PROCEDURE, "unknown procedure")`: a reply like any other,
/// and the connection carries on. `sleep` above 10000 ms: bad arguments.
#[allow(dead_code)]
fn call(proc: u16, args: Unmarshal) -> Result<Results, Failure> {
    let _ = (proc, args);
    todo!("match on PROC, unmarshal its arguments, call its function")
}

// The procedures themselves: ordinary functions, which know nothing of the wire.

/// Pitfall: `a + b` overflows (a panic in a debug build, a wrong answer in
/// release). `checked_add` returns `None` on overflow: that is STATUS 3,
/// `overflow`.
#[allow(dead_code)]
fn add(a: i64, b: i64) -> Result<i64, Failure> {
    let _ = (a, b);
    todo!("checked_add")
}

/// ASCII letters only (`to_ascii_uppercase`): `é` and `ß` stay as they are.
#[allow(dead_code)]
fn upper(s: &str) -> String {
    let _ = s;
    todo!("ASCII a-z to A-Z")
}

/// The exact total: `[i64::MAX, 1, -2]` sums to MAX - 1, which fits, though
/// a running i64 sum overflows on the way. Add in 128 bits (`i128::from`),
/// then `i64::try_from(total)`: an error is `overflow`.
#[allow(dead_code)]
fn sum(xs: &[i64]) -> Result<i64, Failure> {
    let _ = xs;
    todo!("sum exactly, then check that the total fits an i64")
}

/// Truncating division (q·b + r = a): `-7 / 2` is `-3` remainder `-1`,
/// which is what Rust's (and C's) `/` and `%` do. `b == 0`: `division by
/// zero`. `i64::MIN / -1` is 2^63, which does not fit: `checked_div` and
/// `checked_rem` return `None`, STATUS 3 `overflow`.
#[allow(dead_code)]
fn div(a: i64, b: i64) -> Result<(i64, i64), Failure> {
    let _ = (a, b);
    todo!("division by zero, overflow, then / and %")
}

/// stat(2) of `path`: `std::fs::metadata(path)` (it follows symbolic links,
/// as stat does); `MetadataExt::size()` and `MetadataExt::mode()` (the whole
/// `st_mode`, file type bits included: 0o100644 for a plain file). An error
/// is STATUS 3 with the OS's text: `ipc_common::os_reason(&e)`.
#[allow(dead_code)]
fn stat(path: &str) -> Result<(u64, u32), Failure> {
    let _ = path;
    todo!("metadata, size and mode")
}
