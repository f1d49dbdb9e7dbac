//! Lab `rpc`'s harness: the servers a check starts (the student's, the
//! grader's) and where they listen, the student's client run against the
//! grader's server, and the grader's client's calls to a student's server.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use ipc_engine::check::{Done, Fail, ensure, listening_on_addr, listening_on_path};
use ipc_engine::ctx::{Cmd, Ctx};
use ipc_engine::proc::{Exit, Proc};
use ipc_peers::rpc::server as peer;

use super::grader_client::{Addr, Client, IO_WAIT};
use super::wire::{self, Call, Msg, Outcome};

/// How long a server may take to exit after SIGINT or SIGTERM: the
/// contract's second, plus slack for a loaded machine.
pub(super) const EXIT_WAIT: Duration = Duration::from_millis(1500);

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Transport {
    Tcp,
    Ipv6,
    Unix,
}

/// A server the check started, and where it listens.
pub(super) struct Server {
    pub(super) proc: Proc,
    pub(super) addr: Addr,
}

impl Server {
    /// The words that make `rpc-client` reach it.
    pub(super) fn words(&self) -> Vec<String> {
        match &self.addr {
            Addr::Tcp(a) => vec![a.ip().to_string(), a.port().to_string()],
            Addr::Unix(p) => vec!["--unix".into(), p.display().to_string()],
        }
    }

    /// Everything the grader's server printed.
    pub(super) fn log(&self) -> String {
        String::from_utf8_lossy(&self.proc.stdout.bytes()).into_owned()
    }

    /// The grader's server's log once `done` holds of it, or after 2 s.
    /// (It prints each event before it replies, but the grader reads its
    /// stdout on a thread of its own: a line may still be on the way when
    /// the client has already exited.)
    pub(super) fn log_when(&self, done: impl Fn(&str) -> bool) -> String {
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
    pub(super) fn saw(&self) -> String {
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
    pub(super) fn state(&mut self) -> String {
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

    pub(super) fn stop(mut self) {
        self.proc.kill_group();
    }
}

/// A socket file in the check's folder (well under sun_path's 108 bytes).
pub(super) fn socket_path(ctx: &Ctx, name: &str) -> Result<PathBuf, Fail> {
    let path = ctx.path(name);
    ensure(path.as_os_str().len() < 100, || {
        Fail::infra(format!("the temporary folder's path is too long for a socket file: {}", path.display()))
    })?;
    Ok(path)
}

/// Starts a server and waits for its `listening on` line.
pub(super) fn start(cmd: Cmd, deadline: Instant, unix: Option<&Path>) -> Result<Server, Fail> {
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
pub(super) fn student_server(ctx: &mut Ctx, transport: Transport) -> Result<Server, Fail> {
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
pub(super) fn peer_server(ctx: &mut Ctx, transport: Transport, modes: &[&str]) -> Result<Server, Fail> {
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
pub(super) fn with_server(
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
pub(super) fn id(n: u32) -> u32 {
    0x0102_0304_u32.wrapping_add(n.wrapping_mul(0x0101_0101))
}

/// `rpc-client` with the words that reach `server`, then `options` and `words`.
pub(super) fn rpc_client<'c, 'a>(
    ctx: &'c mut Ctx<'a>,
    server: &Server,
    options: &[&str],
    words: &[String],
) -> Cmd<'c, 'a> {
    ctx.program("rpc-client").args(options).args(server.words()).args(words)
}

/// What `rpc-client` prints for `call` when the server answers as the contract says.
pub(super) fn printed(call: &Call) -> String {
    match call.outcome() {
        Outcome::Ok(_) if matches!(call, Call::Sleep(_)) => "ok".into(),
        Outcome::Ok(values) => Call::printed(&values),
        Outcome::Failed(..) => unreachable!("a call expected to succeed"),
    }
}

/// Runs `rpc-client` for `call` against the grader's server: it must print
/// the contract's results and exit 0, and the grader's server must have
/// decoded exactly this call.
pub(super) fn client_call(ctx: &mut Ctx, server: &Server, options: &[&str], call: &Call) -> Result<Done, Fail> {
    let line = format!("{}\n", printed(call));
    let calls_before = server.log().lines().filter(|l| l.starts_with("call ")).count();
    let done = rpc_client(ctx, server, options, &call.words()).run()?;
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

/// Parses `0a 1b ...` (as the grader's server prints bytes).
pub(super) fn parse_hex(text: &str) -> Vec<u8> {
    text.split_whitespace().map_while(|w| u8::from_str_radix(w, 16).ok()).collect()
}

/// Runs the client and expects `rpc-client: PROC: MESSAGE` on stderr and `status`.
pub(super) fn expect_client_error(done: &Done, status: i32, line: &str, server: &Server) -> Result<(), Fail> {
    done.expect_code(status).and_then(|d| d.expect_stderr_line(line)).map(|_| ()).map_err(|f| f.note(server.saw()))
}

/// Calls each of `calls` on one connection and expects the contract's reply.
pub(super) fn calls(server: &Server, calls: &[Call]) -> Result<(), Fail> {
    let mut c = Client::connect(&server.addr)?;
    for (n, call) in calls.iter().enumerate() {
        c.call(call, id(n as u32))?;
    }
    Ok(())
}

/// Sends a raw request (any PROC, any argument bytes) and expects the reply
/// for `outcome`.
pub(super) fn raw_call(
    c: &mut Client,
    n: u32,
    proc: u16,
    args: &[u8],
    outcome: &Outcome,
    what: &str,
) -> Result<(), Fail> {
    let args = Msg::default().raw("arguments", args);
    c.send(&wire::request(id(n), proc, &args).bytes)?;
    c.expect_reply(&outcome.reply(id(n)), what, IO_WAIT)
}

/// Waits up to [`EXIT_WAIT`] for the server to exit after `sig`, expecting status 0.
pub(super) fn expect_exit_on(server: &mut Server, sig: Signal, idle: &str) -> Result<(), Fail> {
    server.proc.signal(sig).map_err(Fail::infra)?;
    let Some(exit) = server.proc.wait_timeout(EXIT_WAIT) else {
        return Err(Fail::new(format!(
            "the server did not exit within {:.1}s of {}",
            EXIT_WAIT.as_secs_f64(),
            sig.as_str()
        ))
        .note(format!("{idle}: the server must not wait for them"))
        .timing(ipc_engine::check::Timing::Deadline));
    };
    ensure(exit == Exit::Code(0), || {
        Fail::new(format!("wrong exit after {}", sig.as_str())).expected("exit status 0").got(exit.to_string())
    })
}

/// Why a server neither closed nor answered a connection whose LEN it must
/// refuse: a new connection's call tells a server that serves one
/// connection at a time (busy with the first, idle one: it never read this
/// request) from one that waits for a body it should never have read.
pub(super) fn why_not_closed(server: &Server, f: Fail, len: &str) -> Fail {
    let add = Call::Add(2, 3);
    let probe = Client::connect(&server.addr).and_then(|mut c| {
        c.send(&add.request(id(20)).bytes)?;
        c.expect_reply(&add.outcome().reply(id(20)), "`add 2 3` on a new connection", Duration::from_secs(1))
    });
    match probe {
        Ok(()) => f
            .note(format!(
                "a new connection is answered meanwhile: the server is reading the body of LEN {len}, which it must \
                 refuse before reading anything more"
            ))
            .note("check LEN before reading the body: below 6 or over 1048576, close the connection")
            .clue("reads-any-len"),
        Err(_) => Fail::new(format!(
            "the server never read the request whose LEN is {len}: it serves one connection at a time, and is still \
             busy with the first connection this check opened (idle, open all along)"
        ))
        .got(f.what)
        .note("a new connection is not answered either: the accept loop waits for the current connection to end")
        .clue("one-connection-at-a-time"),
    }
}
