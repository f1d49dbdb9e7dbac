//! Lab `rpc`'s figures: the lecture's "what if the two processes are on the
//! same machine?", measured. Calls of `add` per second and their round-trip
//! latency, over TCP loopback and over a Unix domain stream socket.
//!
//! - Calls/s: `rpc-client --repeat N add 1 2` against `rpc-server`, timed
//!   from start to exit (one process start per N calls).
//! - Round trips (p50, p99): the bench's own client, in this process, sends
//!   one `add` request and reads its reply, `rounds` times after a warm-up,
//!   straight on the socket (no pipes of the bench in between, unlike the
//!   stdin-to-stdout round trips of the other programs).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ipc_engine::proc::{self, Exit, Proc, Spec};

use super::{Bench, RUN_LIMIT, finish, stop};
use crate::Figure;

/// How the server is reached.
#[derive(Clone, Copy, PartialEq)]
enum Transport {
    Tcp,
    Unix,
}

impl Transport {
    fn label(self) -> &'static str {
        match self {
            Transport::Tcp => "TCP loopback",
            Transport::Unix => "Unix socket",
        }
    }
}

/// A running `rpc-server` and the words that make `rpc-client` reach it.
struct Server {
    proc: Proc,
    words: Vec<String>,
}

impl Bench {
    /// Every rpc figure, TCP and Unix socket side by side. Each run
    /// measures both transports one after the other, so that a change in
    /// the machine's load weighs on both alike.
    pub(super) fn rpc(&self) -> anyhow::Result<Vec<Figure>> {
        const TRANSPORTS: [Transport; 2] = [Transport::Tcp, Transport::Unix];
        let server = self.program("rpc-server")?;
        let client = self.program("rpc-client")?;
        let calls = self.rounds * 10;
        let warmup = (self.rounds / 10).max(10);
        let (mut per_second, mut p50s, mut p99s) = ([vec![], vec![]], [vec![], vec![]], [vec![], vec![]]);
        eprint!("ipc-bench: rpc add over TCP loopback and a Unix socket ...");
        for _ in 0..self.runs {
            for (t, &transport) in TRANSPORTS.iter().enumerate() {
                let running = self.start_rpc(&server, transport)?;
                let rate = calls_per_second(&client, &running.words, calls);
                let trips = round_trips(&running, transport, warmup, self.rounds);
                stop(running.proc);
                per_second[t].push(rate?);
                let mut times = trips?;
                times.sort_by(f64::total_cmp);
                p50s[t].push(times[times.len() / 2]);
                p99s[t].push(times[(times.len() * 99 / 100).min(times.len() - 1)]);
            }
        }
        let mut figures = Vec::new();
        for (t, transport) in TRANSPORTS.into_iter().enumerate() {
            let (target, listen) = match transport {
                Transport::Tcp => ("127.0.0.1 PORT", "0"),
                Transport::Unix => ("--unix PATH", "--unix PATH"),
            };
            figures.push(Figure::new(
                "calls",
                &format!("rpc-client + rpc-server, {}", transport.label()),
                false,
                "calls/s",
                std::mem::take(&mut per_second[t]),
                format!("rpc-client --repeat {calls} {target} add 1 2, rpc-server {listen}"),
            ));
            let command = format!(
                "the bench's client: one `add` request, then its reply, on one connection to rpc-server over {}; {} calls after {warmup} warm-up calls",
                transport.label(),
                self.rounds
            );
            let label = format!("rpc add, {} (on the socket)", transport.label());
            figures.push(Figure::new(
                "latency p50",
                &label,
                false,
                "µs",
                std::mem::take(&mut p50s[t]),
                command.clone(),
            ));
            figures.push(Figure::new("latency p99", &label, false, "µs", std::mem::take(&mut p99s[t]), command));
        }
        eprintln!(" done");
        Ok(figures)
    }

    /// Starts `rpc-server` on port 0 of 127.0.0.1, or on a socket file in
    /// the bench's folder, and waits for its `listening on` line.
    fn start_rpc(&self, program: &Path, transport: Transport) -> anyhow::Result<Server> {
        let path: PathBuf = self.dir.path().join("rpc.sock");
        let _ = std::fs::remove_file(&path);
        let args: Vec<String> = match transport {
            Transport::Tcp => vec!["0".into()],
            Transport::Unix => vec!["--unix".into(), path.display().to_string()],
        };
        let mut spec = Spec::new(program, args, std::env::temp_dir());
        spec.output_cap = 1 << 20;
        let mut server = proc::spawn(&spec).with_context(|| format!("cannot start {}", program.display()))?;
        let line = server.stdout.wait_for(Instant::now() + Duration::from_secs(10), |bytes| {
            let text = std::str::from_utf8(bytes).ok()?;
            text.lines().next().filter(|_| text.contains('\n')).map(str::to_string)
        });
        let words = match (line.as_deref().and_then(|l| l.strip_prefix("listening on ")), transport) {
            (Some(addr), Transport::Tcp) => match addr.rsplit_once(':') {
                Some((_, port)) => vec!["127.0.0.1".to_string(), port.to_string()],
                None => vec![],
            },
            (Some(_), Transport::Unix) => vec!["--unix".to_string(), path.display().to_string()],
            (None, _) => vec![],
        };
        if words.is_empty() {
            server.kill_group();
            bail!("{} printed no `listening on ...` line: {line:?}", program.display());
        }
        Ok(Server { proc: server, words })
    }
}

/// `rpc-client --repeat CALLS ... add 1 2`, timed: calls per second.
fn calls_per_second(client: &Path, words: &[String], calls: usize) -> anyhow::Result<f64> {
    let mut args = vec!["--repeat".to_string(), calls.to_string()];
    args.extend(words.iter().cloned());
    args.extend(["add", "1", "2"].map(String::from));
    let spec = Spec::new(client, args, std::env::temp_dir());
    let started = Instant::now();
    let mut running = proc::spawn(&spec).context("cannot start rpc-client")?;
    let exit = finish(&mut running, started + RUN_LIMIT)?;
    let elapsed = started.elapsed();
    running.stdout.wait_eof(Instant::now() + Duration::from_secs(2));
    if exit != Exit::Code(0) || running.stdout.bytes() != b"3\n" {
        running.stderr.wait_eof(Instant::now() + Duration::from_secs(2));
        bail!("`{}` ended with {exit}: {}", running.command, String::from_utf8_lossy(&running.stderr.bytes()).trim());
    }
    Ok(calls as f64 / elapsed.as_secs_f64())
}

/// A connection of the bench's own client.
enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// `warmup + rounds` calls of `add 1 2` on one connection, each reply read
/// whole and checked; returns the timed ones in microseconds.
fn round_trips(server: &Server, transport: Transport, warmup: usize, rounds: usize) -> anyhow::Result<Vec<f64>> {
    let mut conn = match transport {
        Transport::Tcp => {
            let port: u16 = server.words[1].parse()?;
            let s = TcpStream::connect(("127.0.0.1", port))?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            Conn::Tcp(s)
        }
        Transport::Unix => {
            let s = UnixStream::connect(&server.words[1])?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            Conn::Unix(s)
        }
    };
    let (request, expected) = add_1_2(7);
    let mut reply = vec![0u8; expected.len()];
    let mut times = Vec::with_capacity(rounds);
    for i in 0..warmup + rounds {
        let started = Instant::now();
        match &mut conn {
            Conn::Tcp(s) => s.write_all(&request).and_then(|()| s.read_exact(&mut reply)),
            Conn::Unix(s) => s.write_all(&request).and_then(|()| s.read_exact(&mut reply)),
        }
        .with_context(|| format!("call {} of add 1 2", i + 1))?;
        let elapsed = started.elapsed();
        if reply != expected {
            bail!("call {} of add 1 2: a reply that is not the contract's: {reply:02x?}", i + 1);
        }
        if i >= warmup {
            times.push(elapsed.as_secs_f64() * 1e6);
        }
    }
    Ok(times)
}

/// The bytes of a call of `add 1 2` with request ID `id`, and of its reply,
/// as the contract lays them out (big-endian): request `LEN ID PROC a b`,
/// reply `LEN ID STATUS sum`.
fn add_1_2(id: u32) -> (Vec<u8>, Vec<u8>) {
    let mut request = Vec::with_capacity(26);
    request.extend_from_slice(&22u32.to_be_bytes());
    request.extend_from_slice(&id.to_be_bytes());
    request.extend_from_slice(&1u16.to_be_bytes());
    request.extend_from_slice(&1i64.to_be_bytes());
    request.extend_from_slice(&2i64.to_be_bytes());
    let mut reply = Vec::with_capacity(17);
    reply.extend_from_slice(&13u32.to_be_bytes());
    reply.extend_from_slice(&id.to_be_bytes());
    reply.push(0);
    reply.extend_from_slice(&3i64.to_be_bytes());
    (request, reply)
}
