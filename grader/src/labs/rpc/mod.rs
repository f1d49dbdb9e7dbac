//! Lab `rpc`: remote procedure calls over TCP and Unix domain stream
//! sockets (`rpc-server`, `rpc-client`).
//!
//! Each program is checked against the grader's own partner, so that a bug
//! shows up in the program that has it: the student's `rpc-client` against
//! the grader's server (`peer.rs`, a separate process that checks every
//! field of every request and can misbehave on purpose), the student's
//! `rpc-server` against the grader's client (`client.rs`, in the check's
//! process, which checks every byte of every reply). Both use the grader's
//! own implementation of the wire format (`wire.rs`). Servers listen on
//! port 0 of the loopback, or on a socket file in the check's folder.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use ipc_engine::check::{Check, Done, Fail, ensure, listening_on_addr, listening_on_path};
use ipc_engine::ctx::{Cmd, Ctx};
use ipc_engine::proc::{Exit, Proc};

pub mod client;
use ipc_peers::rpc::server as peer;
pub use ipc_peers::rpc::wire;

use client::{Addr, Client, IO_WAIT};
use wire::{Call, Msg, Outcome};

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["rpc-server", "rpc-client"];

pub fn checks() -> Vec<Check> {
    vec![
        Check::new("client-add", client_add),
        Check::new("client-upper", client_upper),
        Check::new("client-sum", client_sum),
        Check::new("client-div", client_div),
        Check::new("client-sleep", client_sleep),
        Check::new("client-stat", client_stat),
        Check::new("client-unix", client_unix),
        Check::new("client-request-bytes", client_request_bytes),
        Check::new("client-error-status", client_error_status),
        Check::new("client-repeat", client_repeat),
        Check::new("client-split-reply", client_split_reply),
        Check::new("client-timeout", client_timeout),
        Check::new("client-connection-closed", client_connection_closed),
        Check::new("client-bad-reply", client_bad_reply),
        Check::new("client-refused", client_refused),
        Check::new("client-resolves-hosts", client_resolves_hosts),
        Check::new("client-usage-errors", client_usage_errors),
        Check::new("server-listening", server_listening),
        Check::new("server-ipv6", server_ipv6),
        Check::new("server-add", server_add),
        Check::new("server-upper", server_upper),
        Check::new("server-sum", server_sum),
        Check::new("server-div", server_div),
        Check::new("server-sleep", server_sleep),
        Check::new("server-stat", server_stat),
        Check::new("server-failures", server_failures),
        Check::new("server-unknown-procedure", server_unknown_procedure),
        Check::new("server-bad-arguments", server_bad_arguments),
        Check::new("server-reply-bytes", server_reply_bytes),
        Check::new("server-unix", server_unix),
        Check::new("server-repeat", server_repeat),
        Check::new("server-split-request", server_split_request),
        Check::new("server-concurrent", server_concurrent),
        Check::new("server-oversized-len", server_oversized_len),
        Check::new("server-survives-reset", server_survives_reset),
        Check::new("server-survives-sigpipe", server_survives_sigpipe),
        Check::new("server-exits-on-signal", server_exits_on_signal),
        Check::new("server-unix-stale", server_unix_stale),
        Check::new("server-unix-in-use", server_unix_in_use),
        Check::new("server-unix-not-socket", server_unix_not_socket),
        Check::new("server-unix-cleanup", server_unix_cleanup),
        Check::new("server-usage-errors", server_usage_errors),
        Check::new("pair", pair),
    ]
}

/// How long a server may take to exit after SIGINT or SIGTERM: the
/// contract's second, plus slack for a loaded machine.
const EXIT_WAIT: Duration = Duration::from_millis(1500);

// ---------------------------------------------------------------------------
// Servers: the student's and the grader's.

#[derive(Clone, Copy, PartialEq)]
enum Transport {
    Tcp,
    Ipv6,
    Unix,
}

/// A server the check started, and where it listens.
struct Server {
    proc: Proc,
    addr: Addr,
}

impl Server {
    /// The words that make `rpc-client` reach it.
    fn words(&self) -> Vec<String> {
        match &self.addr {
            Addr::Tcp(a) => vec![a.ip().to_string(), a.port().to_string()],
            Addr::Unix(p) => vec!["--unix".into(), p.display().to_string()],
        }
    }

    /// Everything the grader's server printed.
    fn log(&self) -> String {
        String::from_utf8_lossy(&self.proc.stdout.bytes()).into_owned()
    }

    /// The grader's server's log once `done` holds of it, or after 2 s.
    /// (It prints each event before it replies, but the grader reads its
    /// stdout on a thread of its own: a line may still be on the way when
    /// the client has already exited.)
    fn log_when(&self, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(2);
        self.proc
            .stdout
            .wait_for(deadline, |bytes| {
                let log = String::from_utf8_lossy(bytes);
                done(&log).then(|| log.into_owned())
            })
            .unwrap_or_else(|| self.log())
    }

    /// What the grader's server saw, for a failure: every request it could
    /// not frame or decode, else its last few lines.
    fn saw(&self) -> String {
        let log = self.log();
        let bad: Vec<&str> = log.lines().filter(|l| l.starts_with("bad ") || l.starts_with("broken ")).collect();
        let lines: Vec<&str> = if bad.is_empty() {
            let all: Vec<&str> = log.lines().filter(|l| !l.starts_with("listening")).collect();
            all[all.len().saturating_sub(4)..].to_vec()
        } else {
            bad.into_iter().take(4).collect()
        };
        if lines.is_empty() {
            return "the grader's server saw no connection".into();
        }
        format!("the grader's server saw:\n{}", ipc_engine::text::cut(&lines.join("\n"), 1500))
    }

    /// A failure of the student's server, with whether it is still running
    /// (a server that is dying gets a moment to finish).
    fn state(&mut self) -> String {
        match self.proc.wait_timeout(Duration::from_millis(300)) {
            None => "the server is still running".into(),
            Some(exit) => {
                let err = self.proc.stderr.bytes();
                format!(
                    "the server ended ({exit}); its stderr: {}",
                    ipc_engine::text::excerpt(&err, self.proc.stderr.total(), 4, 400)
                )
            }
        }
    }

    fn stop(mut self) {
        self.proc.kill_group();
    }
}

/// A socket file in the check's folder (well under sun_path's 108 bytes).
fn socket_path(ctx: &Ctx, name: &str) -> Result<PathBuf, Fail> {
    let path = ctx.path(name);
    ensure(path.as_os_str().len() < 100, || {
        Fail::infra(format!("the temporary folder's path is too long for a socket file: {}", path.display()))
    })?;
    Ok(path)
}

/// Starts a server and waits for its `listening on` line.
fn start(cmd: Cmd, deadline: Instant, unix: Option<&Path>) -> Result<Server, Fail> {
    let mut proc = cmd.spawn()?;
    let addr = match unix {
        Some(path) => {
            listening_on_path(&mut proc, path, deadline)?;
            Addr::Unix(path.to_owned())
        }
        None => Addr::Tcp(listening_on_addr(&mut proc, deadline)?),
    };
    Ok(Server { proc, addr })
}

/// Starts the student's `rpc-server` on port 0 of the loopback, or on a
/// socket file in the check's folder.
fn student_server(ctx: &mut Ctx, transport: Transport) -> Result<Server, Fail> {
    let deadline = ctx.deadline();
    match transport {
        Transport::Tcp => start(ctx.program("rpc-server").arg("0"), deadline, None),
        Transport::Ipv6 => start(ctx.program("rpc-server").args(["--host", "::1", "0"]), deadline, None),
        Transport::Unix => {
            let path = socket_path(ctx, "rpc.sock")?;
            start(ctx.program("rpc-server").arg("--unix").arg(&path), deadline, Some(&path))
        }
    }
}

/// Starts the grader's server with `modes` (see `peer.rs`).
fn peer_server(ctx: &mut Ctx, transport: Transport, modes: &[&str]) -> Result<Server, Fail> {
    // A socket file of its own for each: a check may start several.
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = match transport {
        Transport::Unix => Some(socket_path(ctx, &format!("grader{}.sock", NEXT.fetch_add(1, Ordering::Relaxed)))?),
        _ => None,
    };
    let deadline = ctx.deadline();
    let cmd = ctx.peer(peer::SERVER)?.args(modes);
    match (transport, &path) {
        (Transport::Unix, Some(path)) => start(cmd.arg("--unix").arg(path), deadline, Some(path)),
        (Transport::Ipv6, _) => start(cmd.args(["--host", "::1", "0"]), deadline, None),
        _ => start(cmd.arg("0"), deadline, None),
    }
}

/// Runs the student's server checks in `body` against a fresh server; a
/// failure says whether the server is still running.
fn with_server(
    ctx: &mut Ctx,
    transport: Transport,
    body: impl FnOnce(&mut Ctx, &mut Server) -> Result<(), Fail>,
) -> Result<(), Fail> {
    let mut server = student_server(ctx, transport)?;
    match body(ctx, &mut server) {
        Ok(()) => {
            server.stop();
            Ok(())
        }
        Err(fail) => {
            let note = server.state();
            server.stop();
            Err(fail.note(note))
        }
    }
}

/// IDs whose four bytes all differ, so that a byte-order mistake shows.
fn id(n: u32) -> u32 {
    0x0102_0304_u32.wrapping_add(n.wrapping_mul(0x0101_0101))
}

// ---------------------------------------------------------------------------
// rpc-client against the grader's server.

/// `rpc-client` with the words that reach `server`, then `options` and `words`.
fn client<'c, 'a>(ctx: &'c mut Ctx<'a>, server: &Server, options: &[&str], words: &[String]) -> Cmd<'c, 'a> {
    ctx.program("rpc-client").args(options).args(server.words()).args(words)
}

/// What `rpc-client` prints for `call` when the server answers as the contract says.
fn printed(call: &Call) -> String {
    match call.outcome() {
        Outcome::Ok(_) if matches!(call, Call::Sleep(_)) => "ok".into(),
        Outcome::Ok(values) => Call::printed(&values),
        Outcome::Failed(..) => unreachable!("a call expected to succeed"),
    }
}

/// Runs `rpc-client` for `call` against the grader's server: it must print
/// the contract's results and exit 0, and the grader's server must have
/// decoded exactly this call.
fn client_call(ctx: &mut Ctx, server: &Server, options: &[&str], call: &Call) -> Result<Done, Fail> {
    let line = format!("{}\n", printed(call));
    let calls_before = server.log().lines().filter(|l| l.starts_with("call ")).count();
    let done = client(ctx, server, options, &call.words()).run()?;
    done.expect_code(0).and_then(|d| d.expect_stdout(line.as_bytes())).map_err(|f| f.note(server.saw()))?;
    // Its last `call C DESCRIPTION` line.
    let log = server.log_when(|log| log.lines().filter(|l| l.starts_with("call ")).count() > calls_before);
    let decoded = log.lines().rev().find_map(|l| l.strip_prefix("call ")?.split_once(' ').map(|(_, d)| d.to_string()));
    ensure(decoded.as_deref() == Some(call.describe().as_str()), || {
        done.fail("the grader's server decoded another call from the request")
            .expected(call.describe())
            .got(decoded.clone().unwrap_or_else(|| "no call".into()))
            .note(server.saw())
    })?;
    Ok(done)
}

/// `add 2 3` prints `5`; `add -7 4` prints `-3`; `add 4000000000 5000000000`
/// prints `9000000000` (the numbers are 64-bit).
fn client_add(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    for call in [Call::Add(2, 3), Call::Add(-7, 4), Call::Add(4_000_000_000, 5_000_000_000)] {
        client_call(ctx, &server, &[], &call)?;
    }
    server.stop();
    Ok(())
}

/// `upper` of `hello, wörld` prints `HELLO, WöRLD` (ASCII letters only), and
/// of the empty string an empty line.
fn client_upper(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    for s in ["hello, wörld", "", "Two  spaces, ß & 42"] {
        client_call(ctx, &server, &[], &Call::Upper(s.into()))?;
    }
    server.stop();
    Ok(())
}

/// `sum 1 2 3` prints `6`; `sum` with no numbers prints `0`; negative and
/// large numbers are summed exactly.
fn client_sum(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    for xs in [vec![1, 2, 3], vec![], vec![-5, 10, -20, 9_000_000_000]] {
        client_call(ctx, &server, &[], &Call::Sum(xs))?;
    }
    server.stop();
    Ok(())
}

/// `div 7 -2` prints `-3 1`, `div -7 2` prints `-3 -1`: a negative number
/// is an argument, not an option.
fn client_div(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    for (a, b) in [(7, -2), (-7, 2), (-7, -2), (9_000_000_000, 7)] {
        client_call(ctx, &server, &[], &Call::Div(a, b))?;
    }
    server.stop();
    Ok(())
}

/// `sleep 300` sends the `u32` 300, waits for the reply (the grader's server
/// sleeps 0.3 s) and prints `ok`.
fn client_sleep(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    let done = client_call(ctx, &server, &[], &Call::Sleep(300))?;
    ensure(done.elapsed >= Duration::from_millis(290), || {
        done.fail(format!(
            "the client ended after {:.2}s, before the reply of a 0.3 s sleep could come",
            done.elapsed.as_secs_f64()
        ))
    })?;
    client_call(ctx, &server, &[], &Call::Sleep(0))?;
    server.stop();
    Ok(())
}

/// `stat FILE` prints the size and the mode in octal (`1234 100644`);
/// `stat DIR` likewise (`40700`).
fn client_stat(ctx: &mut Ctx) -> Result<(), Fail> {
    let file = ctx.write_file("a file.txt", &[b'x'; 1234])?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).map_err(Fail::infra)?;
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    for path in [file, ctx.dir().to_owned()] {
        client_call(ctx, &server, &[], &Call::Stat(path.display().to_string().into_bytes()))?;
    }
    server.stop();
    Ok(())
}

/// With `--unix PATH` the client reaches the grader's server on its socket
/// file: `add`, `upper`, `div`, `sum`, `sleep` and `stat` work as over TCP.
fn client_unix(ctx: &mut Ctx) -> Result<(), Fail> {
    let file = ctx.write_file("stat me", &[b'u'; 321])?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(Fail::infra)?;
    let server = peer_server(ctx, Transport::Unix, &[])?;
    let calls = [
        Call::Add(40, 2),
        Call::Upper("over a socket file".into()),
        Call::Div(-9, 4),
        Call::Sum(vec![5, -6]),
        Call::Sleep(20),
        Call::Stat(file.display().to_string().into_bytes()),
    ];
    for call in calls {
        client_call(ctx, &server, &[], &call)?;
    }
    server.stop();
    Ok(())
}

/// The bytes of every request are the contract's, field by field (ID is the
/// client's choice): big-endian, LEN counting the bytes after it, a `str`
/// and a `list` with their `u32` counts.
fn client_request_bytes(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.write_file("stat-me", b"12345")?.display().to_string();
    let calls = [
        Call::Add(1, -2),
        Call::Upper("x".repeat(300).into_bytes()),
        Call::Sum(vec![1, -1, 256]),
        Call::Div(-9, 4),
        Call::Sleep(258),
        Call::Stat(path.into_bytes()),
    ];
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    for call in &calls {
        let seen = server.log().lines().count();
        let done = client(ctx, &server, &[], &call.words()).run()?;
        // The request as the grader's server received it: whole, or what came
        // of a request it could not frame.
        let framed = |l: &str| l.starts_with("request ") || l.starts_with("broken ");
        let log = server.log_when(|log| log.lines().skip(seen).any(framed));
        let new: Vec<&str> = log.lines().skip(seen).collect();
        let got = new.iter().find_map(|l| {
            let mut w = l.splitn(3, ' ');
            match (w.next(), w.next(), w.next()) {
                (Some("request"), _, Some(hex)) => Some(parse_hex(hex)),
                (Some("broken"), _, Some(rest)) => rest.rsplit_once(": ").map(|(_, hex)| parse_hex(hex)),
                _ => None,
            }
        });
        let Some(got) = got else {
            return Err(done
                .fail(format!("the grader's server received no request for `{}`", call.describe()))
                .note(server.saw()));
        };
        // The ID is the client's choice: take it from what came.
        let id = got.get(4..8).map_or(0, |b| u32::from_be_bytes(b.try_into().expect("4 bytes")));
        let expected = call.request(id);
        if got != expected.bytes {
            return Err(
                client::diff(&expected, &got, &format!("the request for `{}`", call.describe())).command(&done.command)
            );
        }
    }
    server.stop();
    Ok(())
}

/// Parses `0a 1b ...` (as the grader's server prints bytes).
fn parse_hex(text: &str) -> Vec<u8> {
    text.split_whitespace().map_while(|w| u8::from_str_radix(w, 16).ok()).collect()
}

/// Runs the client and expects `rpc-client: PROC: MESSAGE` on stderr and `status`.
fn expect_client_error(done: &Done, status: i32, line: &str, server: &Server) -> Result<(), Fail> {
    done.expect_code(status).and_then(|d| d.expect_stderr_line(line)).map(|_| ()).map_err(|f| f.note(server.saw()))
}

/// A reply with STATUS 1, 2 or 3 makes the client print
/// `rpc-client: PROC: MESSAGE` (the server's message, whatever it says) and
/// exit 3: overflow, division by zero, a missing file, a sleep over 10000,
/// and a server that answers every call with its own message.
fn client_error_status(ctx: &mut Ctx) -> Result<(), Fail> {
    let missing = ctx.path("no such file").display().to_string();
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    let cases: [(Call, &str); 5] = [
        (Call::Add(i64::MAX, 1), "add: overflow"),
        (Call::Div(1, 0), "div: division by zero"),
        (Call::Div(i64::MIN, -1), "div: overflow"),
        (Call::Stat(missing.into_bytes()), "stat: No such file or directory"),
        (Call::Sleep(20000), "sleep: bad arguments"),
    ];
    for (call, message) in cases {
        let done = client(ctx, &server, &[], &call.words()).run()?;
        expect_client_error(&done, 3, &format!("rpc-client: {message}"), &server)?;
    }
    server.stop();
    for (status, message, call) in
        [("1", "unknown procedure", Call::Upper("abc".into())), ("3", "the server says no", Call::Add(1, 2))]
    {
        let server = peer_server(ctx, Transport::Tcp, &["--fail", status, message])?;
        let done = client(ctx, &server, &[], &call.words()).run()?;
        expect_client_error(&done, 3, &format!("rpc-client: {}: {message}", call.name()), &server).map_err(|f| {
            f.note(format!("the grader's server answered STATUS {status} with the message `{message}`"))
        })?;
        server.stop();
    }
    Ok(())
}

/// `--repeat 1000 add 2 3` makes 1000 calls on one connection and prints
/// `5` once.
fn client_repeat(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    let call = Call::Add(2, 3);
    let done = client(ctx, &server, &["--repeat", "1000"], &call.words()).run()?;
    done.expect_code(0)?.expect_stdout(b"5\n").map_err(|f| f.note("print only the last call's results"))?;
    // The grader's server logs each connection and each request as it
    // comes; the client has exited, so they are all there.
    let log = server.log_when(|log| log.lines().filter(|l| l.starts_with("request ")).count() >= 1000);
    let connections = log.lines().filter(|l| l.starts_with("connection ")).count();
    let requests = log.lines().filter(|l| l.starts_with("request ")).count();
    ensure(connections == 1 && requests == 1000, || {
        done.fail("the calls did not all go over one connection")
            .expected("1 connection carrying 1000 requests")
            .got(format!("{connections} connection(s) carrying {requests} requests"))
    })?;
    server.stop();
    Ok(())
}

/// The grader's server sends each reply in pieces (cut inside LEN, inside
/// ID and inside the results) with pauses: the client reads until it has
/// the whole reply.
fn client_split_reply(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &["--split"])?;
    for call in [Call::Div(7, -2), Call::Upper("split me".into()), Call::Sum(vec![])] {
        client_call(ctx, &server, &[], &call).map_err(|f| {
            f.note("a stream has no message boundaries: read LEN's 4 bytes, then LEN bytes, each in a loop")
        })?;
    }
    server.stop();
    Ok(())
}

/// A reply that takes 1.5 s arrives within the default time-out (5 s);
/// with `--timeout 500` and a server that never replies, the client prints
/// `rpc-client: add: timed out` and exits 4 after 0.4 to 3 s.
fn client_timeout(ctx: &mut Ctx) -> Result<(), Fail> {
    let slow = peer_server(ctx, Transport::Tcp, &["--delay", "1500"])?;
    client_call(ctx, &slow, &[], &Call::Add(1, 2))
        .map_err(|f| f.note("the reply came after 1.5 s: the default time-out is 5000 ms"))?;
    slow.stop();
    let silent = peer_server(ctx, Transport::Tcp, &["--silent"])?;
    let done =
        client(ctx, &silent, &["--timeout", "500"], &Call::Add(1, 2).words()).timeout(Duration::from_secs(4)).run()?;
    expect_client_error(&done, 4, "rpc-client: add: timed out", &silent)?;
    let took = done.elapsed.as_secs_f64();
    ensure((0.4..=3.0).contains(&took), || {
        done.fail(format!("the client gave up after {took:.2}s"))
            .expected("about 0.5 s (0.4 to 3 s) with --timeout 500")
    })?;
    silent.stop();
    Ok(())
}

/// A server that closes the connection instead of replying: the client
/// prints `rpc-client: add: connection closed` and exits 1, at once (within 3 s).
fn client_connection_closed(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &["--close"])?;
    let done = client(ctx, &server, &[], &Call::Add(1, 2).words()).timeout(Duration::from_secs(4)).run()?;
    expect_client_error(&done, 1, "rpc-client: add: connection closed", &server)
        .map_err(|f| f.note("read returns 0 (end of file) when the server closes"))?;
    ensure(done.elapsed < Duration::from_secs(3), || {
        done.fail(format!("the client took {:.1}s to notice the closed connection", done.elapsed.as_secs_f64()))
    })?;
    server.stop();
    Ok(())
}

/// A reply with another ID, and a reply whose results are a byte short
/// (LEN to match): `rpc-client: PROC: bad reply`, exit 1, within 3 s.
fn client_bad_reply(ctx: &mut Ctx) -> Result<(), Fail> {
    for (mode, call) in [("--wrong-id", Call::Add(1, 2)), ("--short-result", Call::Div(7, 2))] {
        let server = peer_server(ctx, Transport::Tcp, &[mode])?;
        let done = client(ctx, &server, &[], &call.words()).timeout(Duration::from_secs(4)).run()?;
        expect_client_error(&done, 1, &format!("rpc-client: {}: bad reply", call.name()), &server).map_err(|f| {
            f.note(match mode {
                "--wrong-id" => "the grader's server replied with the request's ID plus one",
                _ => "the grader's server sent STATUS 0 and 15 bytes of results, LEN saying so: div's results are 16 bytes",
            })
        })?;
        ensure(done.elapsed < Duration::from_secs(3), || {
            done.fail(format!("the client took {:.1}s to reject the reply", done.elapsed.as_secs_f64()))
                .note("read exactly LEN bytes, then check that the fields fill them")
        })?;
        server.stop();
    }
    Ok(())
}

/// Nobody listening: `rpc-client: 127.0.0.1:PORT: Connection refused`;
/// `--unix` to a missing file: `rpc-client: PATH: No such file or
/// directory`; to a socket file nobody listens on: `Connection refused`.
/// Exit 1 each time.
fn client_refused(ctx: &mut Ctx) -> Result<(), Fail> {
    // A port that was just free: bind it, note it, close it.
    let port = ipc_engine::net::refused_tcp_port().map_err(Fail::infra)?;
    let done = ctx.program("rpc-client").args(["127.0.0.1", &port.to_string(), "add", "1", "2"]).run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("rpc-client: 127.0.0.1:{port}: Connection refused"))?;
    let missing = socket_path(ctx, "nobody.sock")?;
    let done = ctx.program("rpc-client").arg("--unix").arg(&missing).args(["add", "1", "2"]).run()?;
    done.expect_code(1)?
        .expect_stderr_line(&format!("rpc-client: {}: No such file or directory", missing.display()))?;
    let stale = socket_path(ctx, "stale.sock")?;
    ipc_engine::net::stale_unix_socket(&stale).map_err(Fail::infra)?;
    let done = ctx.program("rpc-client").arg("--unix").arg(&stale).args(["add", "1", "2"]).run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("rpc-client: {}: Connection refused", stale.display()))?;
    Ok(())
}

/// HOST is resolved with getaddrinfo: `localhost` reaches the grader's
/// server on 127.0.0.1, and `::1` the one on IPv6.
fn client_resolves_hosts(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    let Addr::Tcp(addr) = server.addr else { unreachable!("a TCP server") };
    let done = ctx.program("rpc-client").args(["localhost", &addr.port().to_string(), "add", "1", "2"]).run()?;
    done.expect_code(0)?.expect_stdout(b"3\n").map_err(|f| f.note(server.saw()))?;
    server.stop();
    let server = peer_server(ctx, Transport::Ipv6, &[])?;
    client_call(ctx, &server, &[], &Call::Add(3, 4))?;
    server.stop();
    Ok(())
}

/// Unknown PROC, the wrong number of ARGs, a number that does not parse,
/// `--repeat 0`, no address: a usage error (one line on stderr, status 2,
/// nothing on stdout). `div 7 -2` is no usage error.
fn client_usage_errors(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    let Addr::Tcp(addr) = server.addr else { unreachable!("a TCP server") };
    let port = addr.port().to_string();
    let p = port.as_str();
    let cases: &[&[&str]] = &[
        &[],
        &["127.0.0.1"],
        &["127.0.0.1", p],
        &["127.0.0.1", p, "mul", "2", "3"],
        &["127.0.0.1", p, "add", "1"],
        &["127.0.0.1", p, "add", "1", "2", "3"],
        &["127.0.0.1", p, "add", "1", "two"],
        &["127.0.0.1", p, "sleep", "-5"],
        &["127.0.0.1", p, "upper"],
        &["127.0.0.1", "port", "add", "1", "2"],
        &["--repeat", "0", "127.0.0.1", p, "add", "1", "2"],
        &["--unix"],
    ];
    for args in cases {
        ctx.program("rpc-client").args(*args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    client_call(ctx, &server, &[], &Call::Div(7, -2))
        .map_err(|f| f.note("a negative number is an ARG: `div 7 -2` is a call, not a usage error"))?;
    server.stop();
    Ok(())
}

// ---------------------------------------------------------------------------
// rpc-server against the grader's client.

/// Calls each of `calls` on one connection and expects the contract's reply.
fn calls(server: &Server, calls: &[Call]) -> Result<(), Fail> {
    let mut c = Client::connect(&server.addr)?;
    for (n, call) in calls.iter().enumerate() {
        c.call(call, id(n as u32))?;
    }
    Ok(())
}

/// `rpc-server 0` prints `listening on 127.0.0.1:PORT` with the port the
/// system chose, answers `add 2 3` there, and prints nothing else.
fn server_listening(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        let Addr::Tcp(addr) = server.addr else { unreachable!("a TCP server") };
        ensure(addr.ip().to_string() == "127.0.0.1", || {
            Fail::new("the server should listen on 127.0.0.1 by default").got(addr.to_string())
        })?;
        calls(server, &[Call::Add(2, 3)])?;
        std::thread::sleep(Duration::from_millis(200));
        let out = server.proc.stdout.bytes();
        let want = format!("listening on {addr}\n");
        ensure(out == want.as_bytes(), || {
            Fail::new("the server prints more than its `listening on` line")
                .expected(want.clone())
                .got(ipc_engine::text::excerpt(&out, server.proc.stdout.total(), 6, 400))
        })
    })
}

/// `rpc-server --host ::1 0` listens on IPv6, prints `[::1]:PORT`, and answers there.
fn server_ipv6(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Ipv6, |_, server| {
        let Addr::Tcp(addr) = server.addr else { unreachable!("a TCP server") };
        ensure(addr.ip().to_string() == "::1", || {
            Fail::new("with --host ::1 the server should listen on [::1]")
                .expected("listening on [::1]:PORT")
                .got(addr.to_string())
        })?;
        calls(server, &[Call::Add(2, 3), Call::Upper("ipv6".into())])
    })
}

/// `add` of (2, 3), (-7, 4), (4e9, 5e9) and (MIN, MAX): the exact reply.
fn server_add(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        calls(
            server,
            &[
                Call::Add(2, 3),
                Call::Add(-7, 4),
                Call::Add(4_000_000_000, 5_000_000_000),
                Call::Add(i64::MIN, i64::MAX),
            ],
        )
    })
}

/// `upper` makes ASCII `a`-`z` uppercase and leaves every other byte
/// (`ö`, `ß`) alone; the empty string; 100 000 bytes.
fn server_upper(ctx: &mut Ctx) -> Result<(), Fail> {
    let long: Vec<u8> = (0..100_000).map(|i| b" abcdefghijklmnopqrstuvwxyzAZ09"[i % 31]).collect();
    with_server(ctx, Transport::Tcp, |_, server| {
        calls(
            server,
            &[
                Call::Upper("hello, wörld".into()),
                Call::Upper(Vec::new()),
                Call::Upper("ß ﬁ ǆ".into()),
                Call::Upper(long),
            ],
        )
    })
}

/// `sum` of `[1, 2, 3]` is 6, of no numbers 0, of `[MAX, 1, -2]` MAX - 1
/// (the exact total fits, though a running sum overflows on the way).
fn server_sum(ctx: &mut Ctx) -> Result<(), Fail> {
    let many: Vec<i64> = (1..=1000).collect();
    with_server(ctx, Transport::Tcp, |_, server| {
        calls(
            server,
            &[
                Call::Sum(vec![1, 2, 3]),
                Call::Sum(vec![]),
                Call::Sum(vec![i64::MAX, 1, -2]),
                Call::Sum(vec![i64::MIN, -1, 1]),
                Call::Sum(many),
            ],
        )
        .map_err(|f| f.note("the total must be exact: add in a wider type (i128), then check that it fits an i64"))
    })
}

/// `div` truncates toward zero: 7 / -2 is -3 remainder 1, -7 / 2 is -3
/// remainder -1, -7 / -2 is 3 remainder -1 (q·b + r = a).
fn server_div(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        calls(
            server,
            &[
                Call::Div(7, 2),
                Call::Div(7, -2),
                Call::Div(-7, 2),
                Call::Div(-7, -2),
                Call::Div(i64::MIN, 2),
                Call::Div(5, i64::MIN),
            ],
        )
    })
}

/// `sleep 300` replies (with no results) after 0.3 s or more, within 3 s;
/// `sleep 0` at once.
fn server_sleep(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut c = Client::connect(&server.addr)?;
        let started = Instant::now();
        c.call(&Call::Sleep(300), id(1))?;
        let took = started.elapsed();
        ensure(took >= Duration::from_millis(290), || {
            Fail::new(format!("the reply to `sleep 300` came after {:.3}s", took.as_secs_f64()))
                .expected("after 0.3 s or more")
        })?;
        c.call(&Call::Sleep(0), id(2))
    })
}

/// `stat` of a file of 1234 bytes with mode 0644 gives 1234 and 0100644;
/// of the check's folder its size and 040700 (`st_mode`, type bits included).
fn server_stat(ctx: &mut Ctx) -> Result<(), Fail> {
    let file = ctx.write_file("stat me.txt", &[b's'; 1234])?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).map_err(Fail::infra)?;
    let dir = ctx.dir().to_owned();
    with_server(ctx, Transport::Tcp, |_, server| {
        let stat = |p: &Path| Call::Stat(p.display().to_string().into_bytes());
        calls(server, &[stat(&file), stat(&dir)])
    })
}

/// STATUS 3 with the table's message: `overflow` for add, sum and
/// `MIN / -1`, `division by zero`, and the OS's text for `stat` of a
/// missing path (`No such file or directory`) or one through a file (`Not a directory`).
fn server_failures(ctx: &mut Ctx) -> Result<(), Fail> {
    let file = ctx.write_file("plain", b"plain")?;
    let missing = ctx.path("missing").display().to_string();
    let through = file.join("sub").display().to_string();
    with_server(ctx, Transport::Tcp, |_, server| {
        calls(
            server,
            &[
                Call::Add(i64::MAX, 1),
                Call::Add(i64::MIN, -1),
                Call::Sum(vec![i64::MAX, i64::MAX]),
                Call::Sum(vec![i64::MIN, -1]),
                Call::Div(5, 0),
                Call::Div(i64::MIN, -1),
                Call::Stat(missing.into_bytes()),
                Call::Stat(through.into_bytes()),
                Call::Add(1, 1),
            ],
        )
    })
}

/// Sends a raw request (any PROC, any argument bytes) and expects the reply
/// for `outcome`.
fn raw_call(c: &mut Client, n: u32, proc: u16, args: &[u8], outcome: &Outcome, what: &str) -> Result<(), Fail> {
    let args = Msg::default().raw("arguments", args);
    c.send(&wire::request(id(n), proc, &args).bytes)?;
    c.expect_reply(&outcome.reply(id(n)), what, IO_WAIT)
}

/// PROC 0, 7, 256 and 65535: STATUS 1 `unknown procedure`; the connection
/// stays open, and `add` works on it afterwards.
fn server_unknown_procedure(ctx: &mut Ctx) -> Result<(), Fail> {
    let unknown = Outcome::Failed(wire::UNKNOWN_PROCEDURE, "unknown procedure".into());
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut c = Client::connect(&server.addr)?;
        for (n, (proc, args)) in [(0u16, &[][..]), (7, &[0u8; 16][..]), (256, &[1, 2, 3][..]), (65535, &[0u8; 8][..])]
            .into_iter()
            .enumerate()
        {
            raw_call(&mut c, n as u32, proc, args, &unknown, &format!("a request for PROC {proc}"))?;
        }
        c.call(&Call::Add(20, 22), id(9))
            .map_err(|f| f.note("after replies of STATUS 1, the same connection carries the next call"))
    })
}

/// Arguments that do not fill the request exactly (short, extra bytes, a
/// count larger than what follows), a `str` that is not UTF-8, and
/// `sleep 10001`: STATUS 2 `bad arguments`, at once (within 2 s); the
/// connection carries the next call.
fn server_bad_arguments(ctx: &mut Ctx) -> Result<(), Fail> {
    let bad = Outcome::Failed(wire::BAD_ARGUMENTS, "bad arguments".into());
    let i = |n: i64| n.to_be_bytes().to_vec();
    let cases: Vec<(&str, u16, Vec<u8>)> = vec![
        ("add with 8 bytes of arguments", 1, i(1)),
        ("add with 17 bytes of arguments", 1, [i(1), i(2), vec![0]].concat()),
        ("div with no arguments", 4, vec![]),
        ("upper whose count says 10 bytes and 5 follow", 2, [vec![0, 0, 0, 10], b"hello".to_vec()].concat()),
        ("upper of bytes ff fe 41 (not UTF-8)", 2, vec![0, 0, 0, 3, 0xff, 0xfe, 0x41]),
        ("upper with a byte after the str", 2, vec![0, 0, 0, 1, b'a', b'b']),
        ("stat of bytes c3 28 (not UTF-8)", 6, vec![0, 0, 0, 2, 0xc3, 0x28]),
        ("sum whose count says 3 and 2 numbers follow", 3, [vec![0, 0, 0, 3], i(1), i(2)].concat()),
        ("sum whose count says 4294967295", 3, [vec![0xff; 4], i(1)].concat()),
        ("sum with a byte after the list", 3, [vec![0, 0, 0, 1], i(1), vec![9]].concat()),
        ("sleep with 2 bytes of arguments", 5, vec![0, 1]),
        ("sleep 10001", 5, 10_001u32.to_be_bytes().to_vec()),
        ("sleep 4294967295", 5, vec![0xff; 4]),
    ];
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut c = Client::connect(&server.addr)?;
        for (n, (what, proc, args)) in cases.iter().enumerate() {
            let args = Msg::default().raw("arguments", args);
            c.send(&wire::request(id(n as u32), *proc, &args).bytes)?;
            c.expect_reply(&bad.reply(id(n as u32)), &format!("a request for {what}"), Duration::from_secs(2))?;
        }
        c.call(&Call::Add(20, 22), id(99))
            .map_err(|f| f.note("after replies of STATUS 2, the same connection carries the next call"))
    })
}

/// Every field of the replies is the contract's, byte for byte: an ID whose
/// four bytes differ, a `str` of 300 bytes, a reply of 1000 numbers' sum, a
/// `stat`'s `u64` and `u32`, an empty result, a STATUS 3 message.
fn server_reply_bytes(ctx: &mut Ctx) -> Result<(), Fail> {
    let file = ctx.write_file("bytes", &[0u8; 70000])?;
    with_server(ctx, Transport::Tcp, |_, server| {
        calls(
            server,
            &[
                Call::Add(0x0102_0304_0506_0708, 0x1000),
                Call::Upper("a".repeat(300).into_bytes()),
                Call::Sum(vec![-1; 300]),
                Call::Div(-1_000_000_007, 1000),
                Call::Stat(file.display().to_string().into_bytes()),
                Call::Sleep(1),
                Call::Div(1, 0),
            ],
        )
    })
}

/// `rpc-server --unix PATH` prints `listening on PATH` and answers every
/// procedure there.
fn server_unix(ctx: &mut Ctx) -> Result<(), Fail> {
    let file = ctx.write_file("over unix", b"hello")?;
    with_server(ctx, Transport::Unix, |_, server| {
        calls(
            server,
            &[
                Call::Add(2, 3),
                Call::Upper("unix domain".into()),
                Call::Sum(vec![1, 2, 3]),
                Call::Div(-7, 2),
                Call::Sleep(10),
                Call::Stat(file.display().to_string().into_bytes()),
            ],
        )
    })
}

/// 1000 calls on one connection, each with its own ID, each answered exactly.
fn server_repeat(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut c = Client::connect(&server.addr)?;
        for n in 0..1000u32 {
            let call = Call::Add(i64::from(n), 1);
            c.call(&call, n.wrapping_mul(2_654_435_761))
                .map_err(|f| f.note(format!("call {} of 1000 on one connection", n + 1)))?;
        }
        Ok(())
    })
}

/// Requests sent in pieces (cut inside LEN, inside ID, inside PROC and
/// inside the arguments) with 60 ms pauses are answered exactly.
fn server_split_request(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut c = Client::connect(&server.addr)?;
        for (n, call) in
            [Call::Upper("split request".into()), Call::Div(-7, 2), Call::Sum(vec![1, 2, 3])].iter().enumerate()
        {
            let request = call.request(id(n as u32));
            c.send_in_pieces(&request.bytes, &[1, 3, 6, 9, 11, request.bytes.len() - 1], Duration::from_millis(60))?;
            c.expect_reply(
                &call.outcome().reply(id(n as u32)),
                &format!("`{}` sent in 7 pieces", call.describe()),
                IO_WAIT,
            )
            .map_err(|f| {
                f.note("a stream has no message boundaries: read LEN's 4 bytes, then LEN bytes, each in a loop")
            })?;
        }
        Ok(())
    })
}

/// While one connection's `sleep 2000` runs, `add` on a second connection
/// is answered within 1 s; then the sleep's reply comes.
fn server_concurrent(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut slow = Client::connect(&server.addr)?;
        let sleep = Call::Sleep(2000);
        slow.send(&sleep.request(id(1)).bytes)?;
        std::thread::sleep(Duration::from_millis(200));
        let mut quick = Client::connect(&server.addr)?;
        let add = Call::Add(1, 2);
        quick.send(&add.request(id(2)).bytes)?;
        quick
            .expect_reply(
                &add.outcome().reply(id(2)),
                "`add 1 2` on a second connection during a `sleep 2000`",
                Duration::from_secs(1),
            )
            .map_err(|f| f.note("serve each connection on its own thread: a slow call must not delay the others"))?;
        slow.expect_reply(&sleep.outcome().reply(id(1)), "`sleep 2000`", Duration::from_secs(4))
    })
}

/// A request whose LEN is over 1 MiB (1048577, 4294967295) or under 6
/// (5, 0) is not read: the server closes that connection, within 3 s,
/// without replying. A LEN of exactly 1 MiB is a request like any other,
/// and other connections are served throughout.
fn server_oversized_len(ctx: &mut Ctx) -> Result<(), Fail> {
    let cases: [(&str, Vec<u8>); 4] = [
        ("1048577 (1 MiB + 1)", [vec![0, 0x10, 0, 1], vec![0; 16]].concat()),
        ("4294967295", [vec![0xff; 4], vec![0; 16]].concat()),
        ("5", [vec![0, 0, 0, 5], vec![0; 5]].concat()),
        ("0", vec![0, 0, 0, 0]),
    ];
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut other = Client::connect(&server.addr)?;
        for (n, (len, bytes)) in cases.iter().enumerate() {
            let mut c = Client::connect(&server.addr)?;
            c.send(bytes)?;
            c.expect_closed(Duration::from_secs(3), &format!("after a request whose LEN is {len}")).map_err(|f| {
                f.note("check LEN before reading the body: below 6 or over 1048576, close the connection")
            })?;
            other
                .call(&Call::Add(n as i64, 1), id(n as u32))
                .map_err(|f| f.note("another connection, open all along"))?;
        }
        // 1 MiB exactly: LEN = 4 (ID) + 2 (PROC) + 4 (count) + the string.
        let big: Vec<u8> = (0..(1 << 20) - 10).map(|i| b'a' + (i % 26) as u8).collect();
        let mut c = Client::connect(&server.addr)?;
        c.call(&Call::Upper(big), id(7)).map_err(|f| f.note("a LEN of exactly 1048576 is allowed"))
    })
}

/// Clients that reset the connection (TCP RST) or close it in the middle
/// of a request end only their own connection: the server is still running
/// afterwards and answers a new one.
fn server_survives_reset(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        let request = Call::Upper("cut short".into()).request(id(1)).bytes;
        for cut in [2, 7, 15] {
            let mut c = Client::connect(&server.addr)?;
            c.send(&request[..cut])?;
            std::thread::sleep(Duration::from_millis(50));
            c.reset();
            let mut c = Client::connect(&server.addr)?;
            c.send(&request[..cut])?;
            c.shutdown_write();
            std::thread::sleep(Duration::from_millis(50));
        }
        // Give a dying server time to die.
        std::thread::sleep(Duration::from_millis(300));
        if let Some(exit) = server.proc.try_exit() {
            return Err(Fail::new("clients that left in the middle of a request ended the whole server")
                .got(exit.to_string())
                .note("a read that fails or ends early ends that connection only: close it and keep accepting"));
        }
        calls(server, &[Call::Add(1, 2)])
    })
}

/// Clients that go away before reading their reply do not kill the server
/// with SIGPIPE; it answers a new connection afterwards. Over a Unix
/// socket: `upper` of 1 MB, then close while the server is writing the
/// reply. Over TCP: `sleep 300`, then half-close and reset (in CLOSE_WAIT a
/// reset makes the server's next write fail with EPIPE, which raises
/// SIGPIPE; an ordinary reset gives ECONNRESET), before the reply is written.
fn server_survives_sigpipe(ctx: &mut Ctx) -> Result<(), Fail> {
    for transport in [Transport::Unix, Transport::Tcp] {
        with_server(ctx, transport, |_, server| {
            for n in 1..=3 {
                let mut c = Client::connect(&server.addr)?;
                if transport == Transport::Unix {
                    c.send(&Call::Upper(vec![b'x'; 1_000_000]).request(id(n)).bytes)?;
                    // The server reads the request and starts its 1 MB
                    // reply, which blocks: nobody reads.
                    std::thread::sleep(Duration::from_millis(150));
                } else {
                    c.send(&Call::Sleep(300).request(id(n)).bytes)?;
                    c.shutdown_write();
                    std::thread::sleep(Duration::from_millis(50));
                }
                c.reset();
                // The reply is written by now (or in 0.3 s): give a dying
                // server time to die.
                if let Some(exit) = server.proc.wait_timeout(Duration::from_millis(600)) {
                    return Err(Fail::new(format!(
                        "client {n} went away before reading its reply, and that ended the whole server"
                    ))
                    .got(exit.to_string())
                    .note(if exit == Exit::Signal(Signal::SIGPIPE as i32) {
                        "SIGPIPE killed it: ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)) or send with MSG_NOSIGNAL, and let a failed write end only that connection"
                    } else {
                        "let a failed write (EPIPE, ECONNRESET) end only that connection"
                    }));
                }
            }
            calls(server, &[Call::Add(1, 2)])
        })
        .map_err(|f| f.note(format!("over {}", if transport == Transport::Unix { "a Unix domain socket" } else { "TCP" })))?;
    }
    Ok(())
}

/// Waits up to [`EXIT_WAIT`] for the server to exit after `sig`, expecting status 0.
fn expect_exit_on(server: &mut Server, sig: Signal, idle: &str) -> Result<(), Fail> {
    server.proc.signal(sig).map_err(Fail::infra)?;
    let Some(exit) = server.proc.wait_timeout(EXIT_WAIT) else {
        return Err(Fail::new(format!(
            "the server did not exit within {:.1}s of {}",
            EXIT_WAIT.as_secs_f64(),
            sig.as_str()
        ))
        .note(format!("{idle}: the server must not wait for them")));
    };
    ensure(exit == Exit::Code(0), || {
        Fail::new(format!("wrong exit after {}", sig.as_str())).expected("exit status 0").got(exit.to_string())
    })
}

/// With one connection idle after a call and another stopped in the middle
/// of a request, SIGTERM (then SIGINT, to a new server) makes the server
/// exit 0 within 1.5 s (the contract's second plus slack).
fn server_exits_on_signal(ctx: &mut Ctx) -> Result<(), Fail> {
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        with_server(ctx, Transport::Tcp, |_, server| {
            let mut idle = Client::connect(&server.addr)?;
            idle.call(&Call::Add(1, 1), id(1))?;
            let mut halfway = Client::connect(&server.addr)?;
            halfway.send(&Call::Add(1, 1).request(id(2)).bytes[..9])?;
            std::thread::sleep(Duration::from_millis(100));
            expect_exit_on(server, sig, "two clients were connected, one idle, one in the middle of a request")
        })?;
    }
    Ok(())
}

/// A socket file left at PATH by a server that is gone (nobody listens on
/// it) is replaced: the server prints `listening on PATH` and answers there.
fn server_unix_stale(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = socket_path(ctx, "rpc.sock")?;
    ipc_engine::net::stale_unix_socket(&path).map_err(Fail::infra)?;
    with_server(ctx, Transport::Unix, |_, server| calls(server, &[Call::Add(2, 3)])).map_err(|f| {
        f.note("a socket file nobody listens on (connect says ECONNREFUSED) is left over: unlink it and bind again")
    })
}

/// Another server listening at PATH: `rpc-server: PATH: Address already in
/// use`, exit 1; the other server's socket file still works afterwards.
fn server_unix_in_use(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = socket_path(ctx, "rpc.sock")?;
    let other = UnixListener::bind(&path).map_err(Fail::infra)?;
    let done =
        ctx.program("rpc-server").arg("--unix").arg(&path).timeout(Duration::from_secs(3)).run().map_err(|f| {
            f.note("another server listens on PATH: the server must say so and exit, not take the address over")
        })?;
    done.expect_code(1)?.expect_stderr_line(&format!("rpc-server: {}: Address already in use", path.display()))?;
    // The other server's socket file is still the one it listens on.
    other.set_nonblocking(true).map_err(Fail::infra)?;
    let connected = UnixStream::connect(&path);
    std::thread::sleep(Duration::from_millis(50));
    ensure(connected.is_ok() && other.accept().is_ok(), || {
        done.fail("the other server's socket file no longer reaches it: it was removed or replaced")
            .note("unlink PATH only when connect(2) to it says ECONNREFUSED (nobody listens)")
    })
}

/// A regular file at PATH: `rpc-server: PATH: File exists`, exit 1, and
/// the file is left as it was.
fn server_unix_not_socket(ctx: &mut Ctx) -> Result<(), Fail> {
    let contents = b"not a socket: keep me\n";
    let path = ctx.write_file("rpc.sock", contents)?;
    let done = ctx.program("rpc-server").arg("--unix").arg(&path).timeout(Duration::from_secs(3)).run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("rpc-server: {}: File exists", path.display()))?;
    let now = std::fs::read(&path).ok();
    let is_file = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file());
    ensure(is_file && now.as_deref() == Some(&contents[..]), || {
        done.fail("the regular file at PATH was changed or removed")
            .note("only a socket file may be replaced, and only one that nobody listens on")
    })
}

/// With a connection open, SIGTERM (then SIGINT, to a new server) makes a
/// `--unix` server exit 0 within 1.5 s and remove its socket file.
fn server_unix_cleanup(ctx: &mut Ctx) -> Result<(), Fail> {
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        with_server(ctx, Transport::Unix, |_, server| {
            let Addr::Unix(path) = server.addr.clone() else { unreachable!("a Unix server") };
            let mut idle = Client::connect(&server.addr)?;
            idle.call(&Call::Add(1, 1), id(1))?;
            let is_socket = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_socket());
            ensure(is_socket, || Fail::new(format!("{} is not a socket file while the server runs", path.display())))?;
            expect_exit_on(server, sig, "a client was connected and idle")?;
            ensure(std::fs::symlink_metadata(&path).is_err(), || {
                Fail::new(format!("after {} the socket file {} is still there", sig.as_str(), path.display()))
                    .note("remove PATH (unlink) before exiting on SIGINT or SIGTERM")
            })
        })?;
    }
    Ok(())
}

/// Missing, extra or malformed arguments, and `--unix` with a PORT: a usage
/// error (one line, status 2); `rpc-server 0` is not one.
fn server_usage_errors(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = socket_path(ctx, "usage.sock")?.display().to_string();
    let cases: &[&[&str]] = &[&[], &["1", "2"], &["port"], &["70000"], &["--unix"], &["--unix", &path, "5"]];
    for args in cases {
        ctx.program("rpc-server").args(*args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    with_server(ctx, Transport::Tcp, |_, server| calls(server, &[Call::Add(1, 2)]))
}

// ---------------------------------------------------------------------------
// The student's client with the student's server.

/// Your `rpc-client` with your `rpc-server`, over TCP and over a Unix
/// socket: a few calls, `--repeat 50`, and a STATUS 3 error.
fn pair(ctx: &mut Ctx) -> Result<(), Fail> {
    let missing = ctx.path("missing").display().to_string();
    for transport in [Transport::Unix, Transport::Tcp] {
        let mut server = student_server(ctx, transport)?;
        let run = |ctx: &mut Ctx, options: &[&str], words: &[&str]| {
            let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            client(ctx, &server, options, &words).run()
        };
        let ok: [(&[&str], &[&str], &str); 5] = [
            (&[], &["add", "2", "3"], "5\n"),
            (&[], &["div", "-7", "2"], "-3 -1\n"),
            (&[], &["upper", "pair ü"], "PAIR ü\n"),
            (&[], &["sum"], "0\n"),
            (&["--repeat", "50"], &["sum", "1", "2", "3"], "6\n"),
        ];
        let result = (|| {
            for (options, words, out) in ok {
                run(ctx, options, words)?.expect_code(0)?.expect_stdout(out.as_bytes())?;
            }
            let done = run(ctx, &[], &["stat", &missing])?;
            done.expect_code(3)?.expect_stderr_line("rpc-client: stat: No such file or directory")?;
            Ok::<(), Fail>(())
        })();
        if let Err(f) = result {
            let note = server.state();
            server.stop();
            return Err(f
                .note(note)
                .note(format!("over {}", if transport == Transport::Unix { "a Unix socket" } else { "TCP" })));
        }
        server.stop();
    }
    Ok(())
}
