//! The grader's trusted RPC server for lab `rpc`, against which the
//! student's `rpc-client` is checked. It speaks the wire format exactly
//! (`wire.rs`), checks every field of every request, and tells the check
//! what it saw on stdout, one line per event:
//!
//! - `listening on ADDR` (or `listening on PATH`);
//! - `connection C` when client number C connects;
//! - `request C HEX`: a complete request's bytes, LEN included;
//! - `call C DESCRIPTION` (`call 1 add 2 3`) when its arguments decode, or
//!   `bad C WHY` when they do not (then it replies STATUS 1 or 2, as any
//!   correct server would);
//! - `broken C WHY: HEX` when a request cannot even be framed (LEN out of
//!   range, or fewer bytes than LEN within 2 s): then it closes;
//! - `closed C after N requests` when the client closes.
//!
//! `ipc-rpc-server [MODE...] (--unix PATH | [--host HOST] PORT)`, the modes
//! being the ways it misbehaves on purpose:
//! `--split` (each reply in pieces, cut inside LEN, ID and the results, with
//! pauses), `--delay MS` (waits before each reply), `--silent` (never
//! replies), `--close` (closes instead of replying), `--wrong-id` (replies
//! with the ID plus one), `--short-result` (results one byte short, LEN to
//! match), `--fail STATUS MESSAGE` (answers every call so).

use std::ffi::OsString;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, ToSocketAddrs};
use std::os::unix::net::UnixListener;
use std::process::ExitCode;
use std::time::Duration;

use super::wire::{self, Msg, Outcome};

pub const SERVER: &str = "ipc-rpc-server";

/// How long the rest of a request may take once its first byte came.
const REST_OF_REQUEST: Duration = Duration::from_secs(2);
/// Connections served at most (bounded: a client that reconnects for every
/// call of `--repeat 1000` must still be seen doing so).
const MAX_CONNECTIONS: usize = 1500;
/// Pause between the pieces of a `--split` reply.
const SPLIT_PAUSE: Duration = Duration::from_millis(40);

#[derive(Clone, Default)]
struct Mode {
    split: bool,
    delay: Option<Duration>,
    silent: bool,
    close: bool,
    wrong_id: bool,
    short_result: bool,
    fail: Option<(u8, String)>,
}

fn die(what: impl std::fmt::Display) -> ExitCode {
    eprintln!("{SERVER}: {}", ipc_engine::text::without_os_error(what.to_string()));
    ExitCode::from(1)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

pub fn server(args: Vec<OsString>) -> ExitCode {
    let mut args = args.into_iter().map(|a| a.to_string_lossy().into_owned());
    let mut mode = Mode::default();
    let (mut host, mut unix, mut port) = ("127.0.0.1".to_string(), None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--split" => mode.split = true,
            "--silent" => mode.silent = true,
            "--close" => mode.close = true,
            "--wrong-id" => mode.wrong_id = true,
            "--short-result" => mode.short_result = true,
            "--delay" => match args.next().and_then(|ms| ms.parse().ok()) {
                Some(ms) => mode.delay = Some(Duration::from_millis(ms)),
                None => return die("--delay MS"),
            },
            "--fail" => match (args.next().and_then(|s| s.parse().ok()), args.next()) {
                (Some(status), Some(message)) => mode.fail = Some((status, message)),
                _ => return die("--fail STATUS MESSAGE"),
            },
            "--host" => host = args.next().unwrap_or_default(),
            "--unix" => unix = args.next(),
            p => match p.parse::<u16>() {
                Ok(p) => port = Some(p),
                Err(_) => return die(format!("unknown argument {p}")),
            },
        }
    }
    // The grader's own writes to a vanished client must not kill it.
    // SAFETY: SIG_IGN installs no handler code.
    let _ =
        unsafe { nix::sys::signal::signal(nix::sys::signal::Signal::SIGPIPE, nix::sys::signal::SigHandler::SigIgn) };
    match (unix, port) {
        (Some(path), None) => {
            let listener = match UnixListener::bind(&path) {
                Ok(l) => l,
                Err(e) => return die(format!("{path}: {e}")),
            };
            say(&format!("listening on {path}"));
            accept_loop(|| listener.accept().map(|(s, _)| s), &mode)
        }
        (None, Some(port)) => {
            let addr = match (host.as_str(), port).to_socket_addrs().map(|mut a| a.next()) {
                Ok(Some(a)) => a,
                _ => return die(format!("cannot resolve {host}")),
            };
            let listener = match TcpListener::bind(addr) {
                Ok(l) => l,
                Err(e) => return die(format!("{addr}: {e}")),
            };
            match listener.local_addr() {
                Ok(a) => say(&format!("listening on {a}")),
                Err(e) => return die(e),
            }
            accept_loop(
                || {
                    let (s, _) = listener.accept()?;
                    s.set_nodelay(true)?;
                    Ok(s)
                },
                &mode,
            )
        }
        _ => die("usage: [MODE...] (--unix PATH | [--host HOST] PORT)"),
    }
}

/// A stream of either kind, with the timeouts the peer needs.
trait Conn: Read + Write + Send + 'static {
    fn set_timeout(&self, t: Option<Duration>) -> std::io::Result<()>;
}

impl Conn for std::net::TcpStream {
    fn set_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        self.set_read_timeout(t)
    }
}

impl Conn for std::os::unix::net::UnixStream {
    fn set_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        self.set_read_timeout(t)
    }
}

fn accept_loop<S: Conn>(mut accept: impl FnMut() -> std::io::Result<S>, mode: &Mode) -> ExitCode {
    let mut n = 0;
    while n < MAX_CONNECTIONS {
        let Ok(stream) = accept() else { continue };
        n += 1;
        say(&format!("connection {n}"));
        let mode = mode.clone();
        std::thread::spawn(move || serve(stream, n, &mode));
    }
    // Let the last connections finish; the check kills us in any case.
    std::thread::sleep(Duration::from_secs(30));
    ExitCode::SUCCESS
}

/// Reads until `buf` is full, the stream ends, or the read times out;
/// returns how many bytes came.
fn fill(stream: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    got
}

fn serve<S: Conn>(mut stream: S, c: usize, mode: &Mode) {
    let mut requests = 0;
    loop {
        // Between requests the client may take its time.
        let _ = stream.set_timeout(None);
        let mut first = [0u8; 1];
        if fill(&mut stream, &mut first) == 0 {
            say(&format!("closed {c} after {requests} requests"));
            return;
        }
        let _ = stream.set_timeout(Some(REST_OF_REQUEST));
        let mut len_field = [first[0], 0, 0, 0];
        let got = 1 + fill(&mut stream, &mut len_field[1..]);
        let len = u32::from_be_bytes(len_field);
        if got < 4 || !(6..=wire::MAX_LEN).contains(&len) {
            let mut seen = len_field[..got].to_vec();
            let mut more = [0u8; 64];
            let _ = stream.set_timeout(Some(Duration::from_millis(300)));
            let k = fill(&mut stream, &mut more);
            seen.extend_from_slice(&more[..k]);
            let why = if got < 4 {
                "the connection ended inside LEN".to_string()
            } else {
                format!("LEN is {len} (bytes 00 00 00 06 to 00 10 00 00 are valid: 6 to 1048576)")
            };
            say(&format!("broken {c} {why}: {}", wire::hex(&seen, 64)));
            return;
        }
        let mut message = len_field.to_vec();
        message.resize(4 + len as usize, 0);
        let got = fill(&mut stream, &mut message[4..]);
        if got < len as usize {
            message.truncate(4 + got);
            say(&format!(
                "broken {c} LEN says {len} bytes follow, {got} came within {}s: {}",
                REST_OF_REQUEST.as_secs(),
                wire::hex(&message, 64)
            ));
            return;
        }
        requests += 1;
        say(&format!("request {c} {}", wire::hex(&message, usize::MAX)));
        let id = u32::from_be_bytes(message[4..8].try_into().expect("4 bytes"));
        let proc = u16::from_be_bytes(message[8..10].try_into().expect("2 bytes"));
        let decoded = wire::decode_call(proc, &message[10..]);
        let outcome = match &decoded {
            Ok(call) => {
                say(&format!("call {c} {}", call.describe()));
                call.outcome()
            }
            Err((status, why)) => {
                say(&format!("bad {c} {why}"));
                let message = if *status == wire::UNKNOWN_PROCEDURE { "unknown procedure" } else { "bad arguments" };
                Outcome::Failed(*status, message.into())
            }
        };
        if mode.silent {
            continue;
        }
        if mode.close {
            return;
        }
        let outcome = match &mode.fail {
            Some((status, message)) => Outcome::Failed(*status, message.clone()),
            None => outcome,
        };
        // A correct server sleeps as `sleep` asks; `--delay` adds its wait.
        let mut pause = mode.delay.unwrap_or_default();
        if let (Ok(wire::Call::Sleep(ms)), Outcome::Ok(_)) = (&decoded, &outcome) {
            pause += Duration::from_millis(u64::from(*ms));
        }
        std::thread::sleep(pause);
        let reply_id = if mode.wrong_id { id.wrapping_add(1) } else { id };
        let mut reply = outcome.reply(reply_id);
        if mode.short_result && matches!(outcome, Outcome::Ok(ref v) if !v.is_empty()) {
            reply.bytes.pop();
            reply = Msg { bytes: reply.bytes, fields: Vec::new() };
            let len = (reply.bytes.len() - 4) as u32;
            reply.bytes[..4].copy_from_slice(&len.to_be_bytes());
        }
        if send(&mut stream, &reply.bytes, mode.split).is_err() {
            say(&format!("closed {c} after {requests} requests (the reply could not be sent)"));
            return;
        }
    }
}

/// Sends a reply whole, or with `split` in pieces cut inside LEN, inside
/// ID, after STATUS and inside the results, with a pause between pieces.
fn send(stream: &mut impl Write, bytes: &[u8], split: bool) -> std::io::Result<()> {
    if !split {
        return stream.write_all(bytes);
    }
    let mut cuts: Vec<usize> = vec![1, 3, 6, 9, 11, bytes.len() - 1];
    cuts.retain(|&c| c > 0 && c < bytes.len());
    cuts.dedup();
    let mut start = 0;
    for cut in cuts.into_iter().chain(std::iter::once(bytes.len())) {
        if cut <= start {
            continue;
        }
        stream.write_all(&bytes[start..cut])?;
        stream.flush()?;
        start = cut;
        if start < bytes.len() {
            std::thread::sleep(SPLIT_PAUSE);
        }
    }
    Ok(())
}
