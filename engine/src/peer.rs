//! Trusted programs: the grader's own executable, started under another
//! name, acts as a partner of a program under test (a ring consumer, an
//! echo server) or as a probe.
//!
//! A check makes a peer callable through [`crate::ctx::Ctx::peer`], which
//! puts a link named after the peer on the PATH of the check's programs;
//! the binary's `main` calls [`dispatch`] first, which runs the peer named
//! by `argv[0]` (or by `ipc-grader peer NAME ARGS...`).
//!
//! The engine has its own peer, [`SPIN`], which calibrates CPU checks
//! ([`crate::ctx::Ctx::cpu_used`]); labs bring theirs.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// A trusted program the grader runs as a partner or probe.
#[derive(Clone, Copy)]
pub struct Peer {
    pub name: &'static str,
    pub run: fn(Vec<OsString>) -> ExitCode,
}

/// `ipc-spin MS`: keeps one CPU busy for MS milliseconds, as a busy-waiting
/// program would: what "burning the CPU" looks like on this machine now.
pub const SPIN: &str = "ipc-spin";

/// The engine's own peers.
pub fn engine_peers() -> Vec<Peer> {
    vec![Peer { name: SPIN, run: spin }]
}

/// If this process was started as a peer (its `argv[0]` names one of
/// `peers` or of the engine's, or its arguments are `peer NAME ARGS...`),
/// runs it and returns its exit status; otherwise `None`.
pub fn dispatch(argv: &[OsString], peers: &[Peer]) -> Option<ExitCode> {
    let all: Vec<Peer> = engine_peers().into_iter().chain(peers.iter().copied()).collect();
    let find = |name: &str| all.iter().find(|p| p.name == name).copied();
    let arg0 = argv.first().map(|a| Path::new(a).file_name().unwrap_or_default().to_string_lossy().into_owned())?;
    if let Some(peer) = find(&arg0) {
        return Some((peer.run)(argv[1..].to_vec()));
    }
    if argv.get(1).is_some_and(|a| a == "peer") {
        let name = argv.get(2).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        return Some(match find(&name) {
            Some(peer) => (peer.run)(argv.get(3..).unwrap_or_default().to_vec()),
            None => {
                let names: Vec<&str> = all.iter().map(|p| p.name).collect();
                eprintln!("{arg0}: no peer named `{name}` (peers: {})", names.join(", "));
                ExitCode::from(2)
            }
        });
    }
    None
}

fn spin(args: Vec<OsString>) -> ExitCode {
    let Some(ms) = args.first().and_then(|a| a.to_str()?.parse::<u64>().ok()).filter(|_| args.len() == 1) else {
        eprintln!("usage: {SPIN} MS");
        return ExitCode::from(2);
    };
    let until = Instant::now() + Duration::from_millis(ms);
    let mut x = 0u64;
    while Instant::now() < until {
        for _ in 0..1000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
    ExitCode::SUCCESS
}
