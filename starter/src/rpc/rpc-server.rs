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
    // Given: a bad command line prints `usage: ...` on stderr and exits 2
    // (the contract's convention); `--help` prints clap's help.
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // Pitfalls:
    // - SIGPIPE: writing to a connection whose client is gone raises it,
    //   and its default action kills the whole server (signal(7)). Say in
    //   a comment why yours survives, or make sure that it does.
    // - SIGINT or SIGTERM: exit 0, and with --unix remove PATH first (a
    //   socket file outlives its process), but only once YOUR bind made
    //   it: a server that failed with `Address already in use` must not
    //   remove another server's file. `rpc::on_termination` is given.
    match (&args.unix, args.port) {
        (Some(path), _) => ipc_common::finish(PROGRAM, serve_unix(path)),
        (None, Some(port)) => ipc_common::finish(PROGRAM, serve_tcp(args.host.as_deref().unwrap_or("127.0.0.1"), port)),
        (None, None) => ipc_common::usage(USAGE),
    }
}

/// TCP, as in lab `sockets`: listen on HOST:PORT, print `listening on
/// ADDR` (the address really bound: port 0 lets the system choose) and
/// flush, then serve every connection as it comes (see
/// [`spawn_connection`]). Errors: `rpc-server: bind: REASON`, exit 1.
///
/// Read: bind(2), listen(2), accept(2); `rpc::resolve` and
/// `rpc::first_that_works` are given.
/// Stuck? `cargo grade --hint rpc-server` shows one hint at a time.
fn serve_tcp(host: &str, port: u16) -> ipc_common::Result<()> {
    let _ = (host, port);
    todo!("bind, print `listening on ADDR`, accept connections")
}

/// A Unix domain stream socket at `path` ([`bind_unix`]): print
/// `listening on PATH` (the path as given) and flush, then serve every
/// connection as over TCP. On an error: `rpc-server: PATH: REASON`, exit 1.
///
/// Read: unix(7).
fn serve_unix(path: &Path) -> ipc_common::Result<()> {
    let _ = path;
    todo!("bind_unix, print `listening on PATH`, accept connections")
}

/// socket(AF_UNIX, SOCK_STREAM) + bind + listen at `path`.
///
/// Pitfalls:
/// - bind(2) fails with EADDRINUSE whenever something is at `path`, and a
///   socket file stays behind after its server is gone (a crash, a
///   `kill -9`). The contract's three cases (man 7 unix):
///   - a socket file nobody listens on is stale: replace it;
///   - a socket a server listens on: leave it alone, and fail with bind's
///     error (`Address already in use`);
///   - not a socket at all: leave it alone, and fail with `File exists`.
///
///   How can the first two be told apart without harming either?
/// - Never remove `path` before trying bind: that would take the address
///   of a live server, or delete someone's file.
///
/// Read: unix(7), bind(2), connect(2), lstat(2);
/// handouts/rpc.md#unix-domain-sockets-and-stale-socket-files.
#[allow(dead_code)]
fn bind_unix(path: &Path) -> std::io::Result<std::os::unix::net::UnixListener> {
    let _ = path;
    todo!("bind; on EADDRINUSE, replace a stale socket only")
}

/// Serves one connection ([`serve`]) so that a slow call (a `sleep`) or an
/// idle client on one connection never delays another. (A server that
/// serves one connection at a time fails `server-concurrent`.)
#[allow(dead_code)]
fn spawn_connection<S: Read + Write + Send + 'static>(stream: S) {
    let _ = stream;
    todo!("serve the connection without holding up the others")
}

/// Answers the requests of one connection, one at a time, until the client
/// closes it. Generic over `Read + Write`: the same code serves a
/// `TcpStream` and a `UnixStream`.
///
/// Pitfalls:
/// - Whatever one client sends (a LEN out of bounds, a connection that
///   ends or is reset in the middle of a request, a client gone before its
///   reply) ends THAT connection only. Never `exit`, never `unwrap()` what
///   a client controls: the server never dies of what one client sends.
#[allow(dead_code)]
fn serve<S: Read + Write>(stream: S) {
    let _ = stream;
    todo!("read requests and write their replies until the client closes")
}

/// Why a call has no results: STATUS and its message.
type Failure = (u8, String);

/// The server stub: a request (ID, PROC, arguments) in, its reply out. The
/// reply echoes the request's ID (handouts/rpc.md#messages).
///
/// Pitfalls:
/// - `read_message` checked LEN >= 6, so ID and PROC are there; nothing
///   after them can be trusted.
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

/// Unmarshals PROC's arguments and calls it (the table in the handout).
///
/// Pitfalls:
/// - Arguments that do not fill the request exactly (too few bytes, extra
///   bytes) or a `str` that is not UTF-8 are `(rpc::BAD_ARGUMENTS, "bad
///   arguments")`.
/// - An unknown PROC is `(rpc::UNKNOWN_PROCEDURE, "unknown procedure")`: a
///   reply like any other, and the connection carries on.
/// - `sleep` above 10000 ms: bad arguments.
#[allow(dead_code)]
fn call(proc: u16, args: Unmarshal) -> Result<Results, Failure> {
    let _ = (proc, args);
    todo!("match on PROC, unmarshal its arguments, call its function")
}

// The procedures themselves: ordinary functions, which know nothing of the wire.

/// `a + b`.
///
/// Pitfalls:
/// - `a + b` may overflow (a panic in a debug build, a wrong answer in
///   release): that is STATUS 3, `overflow`.
#[allow(dead_code)]
fn add(a: i64, b: i64) -> Result<i64, Failure> {
    let _ = (a, b);
    todo!("a + b, or overflow")
}

/// ASCII letters only (`to_ascii_uppercase`): `é` and `ß` stay as they are.
#[allow(dead_code)]
fn upper(s: &str) -> String {
    let _ = s;
    todo!("ASCII a-z to A-Z")
}

/// The sum of `xs`.
///
/// Pitfalls:
/// - The exact total counts: `[i64::MAX, 1, -2]` sums to MAX - 1, which
///   fits, though a running `i64` sum overflows on the way. A total that
///   does not fit is STATUS 3, `overflow`.
#[allow(dead_code)]
fn sum(xs: &[i64]) -> Result<i64, Failure> {
    let _ = xs;
    todo!("sum exactly, then check that the total fits an i64")
}

/// Truncating division (q·b + r = a): `-7 / 2` is `-3` remainder `-1`,
/// which is what Rust's (and C's) `/` and `%` do.
///
/// Pitfalls:
/// - `b == 0`: `division by zero`.
/// - `i64::MIN / -1` is 2^63, which does not fit: STATUS 3, `overflow`.
#[allow(dead_code)]
fn div(a: i64, b: i64) -> Result<(i64, i64), Failure> {
    let _ = (a, b);
    todo!("quotient and remainder, or why not")
}

/// stat(2) of `path`: its size and its whole `st_mode` (file type bits
/// included: 0o100644 for a plain file). An error is STATUS 3 with the
/// OS's text (`ipc_common::os_reason`).
///
/// Pitfalls:
/// - stat follows symbolic links; lstat does not.
#[allow(dead_code)]
fn stat(path: &str) -> Result<(u64, u32), Failure> {
    let _ = path;
    todo!("the size and mode of path")
}
