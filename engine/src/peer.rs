//! Trusted programs: the peers executable (`ipc-grader-peers`, beside the
//! grader's), started under a peer's name, acts as a partner of a program
//! under test (a ring consumer, an echo server) or as a probe. It holds no
//! rubric and no hidden check: only the peers (crate `ipc-peers`).
//!
//! A check starts a peer through [`crate::ctx::Ctx::peer`], or puts a link
//! named after a probe on the PATH of the check's programs
//! ([`crate::ctx::Ctx::peer_on_path`]); the executable's `main` calls
//! [`dispatch`] first, which runs the peer named by `argv[0]` (or by
//! `ipc-grader --peer NAME ARGS...`, by hand).
//!
//! The engine has its own peer, [`SPIN`], which calibrates CPU checks
//! ([`crate::ctx::Ctx::cpu_used`]); labs bring theirs.
//!
//! A *partner* (a ring consumer, an echo server: something that could stand
//! in for a student's program) runs only when the grader started it itself;
//! a *probe* (which observes, and can do no lab's work) may also be run by
//! a program under test where a check allows it. See [`crate::misuse`].

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The name of the peers executable, beside the grader's.
pub const EXECUTABLE: &str = "ipc-grader-peers";

/// The peers executable: [`EXECUTABLE`] beside this process's own
/// executable (or this one, if it is the peers executable), unless
/// [`use_executable`] said otherwise.
pub fn executable() -> std::io::Result<PathBuf> {
    if let Some(path) = CHOSEN.get() {
        return Ok(path.clone());
    }
    let exe = std::env::current_exe()?;
    if exe.file_name().is_some_and(|n| n == EXECUTABLE) {
        return Ok(exe);
    }
    Ok(exe.with_file_name(EXECUTABLE))
}

static CHOSEN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Makes [`executable`] return `path` from now on (a copy of the peers
/// executable that the programs under test may run). Only the first call
/// counts.
pub fn use_executable(path: PathBuf) {
    let _ = CHOSEN.set(path);
}

/// A trusted program the grader runs as a partner or probe.
#[derive(Clone, Copy)]
pub struct Peer {
    pub name: &'static str,
    pub run: fn(Vec<OsString>) -> ExitCode,
    /// A probe may be run by a program under test (where a check puts it on
    /// PATH); a partner only by the grader itself.
    pub probe: bool,
}

impl Peer {
    /// A partner: it could stand in for a student's program.
    pub const fn partner(name: &'static str, run: fn(Vec<OsString>) -> ExitCode) -> Peer {
        Peer { name, run, probe: false }
    }

    /// A probe: it observes and does no lab's work.
    pub const fn probe(name: &'static str, run: fn(Vec<OsString>) -> ExitCode) -> Peer {
        Peer { name, run, probe: true }
    }
}

/// Set, with a one-time nonce, in the environment of every partner the
/// grader starts itself ([`crate::misuse`]); programs under test never get
/// it. A peer that starts programs under test removes it first.
pub const TOKEN_VAR: &str = "IPC_GRADER_PEER";

/// The sentence every refusal and every failure for misuse carries.
pub const RULE: &str = "a program does its lab's work itself: one that runs the grader's own programs (its trusted \
                        peers, under any name or path) earns nothing for the checks where it does (the contract, \
                        \"Conventions for every program\")";

/// `ipc-spin MS`: keeps one CPU busy for MS milliseconds, as a busy-waiting
/// program would: what "burning the CPU" looks like on this machine now.
pub const SPIN: &str = "ipc-spin";

/// The engine's own peers.
pub fn engine_peers() -> Vec<Peer> {
    vec![Peer::probe(SPIN, spin)]
}

/// If this process was started as a peer (its `argv[0]` names one of
/// `peers` or of the engine's), runs it and returns its exit status;
/// otherwise `None`. A partner started by anyone but the grader refuses
/// (see [`crate::misuse`]).
pub fn dispatch(argv: &[OsString], peers: &[Peer]) -> Option<ExitCode> {
    let arg0 = argv.first().map(|a| Path::new(a).file_name().unwrap_or_default().to_string_lossy().into_owned())?;
    let peer = find(&arg0, peers)?;
    if !peer.probe {
        if let Err(why) = crate::misuse::verify() {
            return Some(refuse(peer.name, &why));
        }
    }
    Some((peer.run)(argv[1..].to_vec()))
}

/// `ipc-grader --peer NAME ARGS...`: runs a peer by hand, to reproduce a
/// check's commands. Refused inside a check (for a program under test).
pub fn run_by_hand(name: &str, args: Vec<OsString>, peers: &[Peer]) -> ExitCode {
    let Some(peer) = find(name, peers) else {
        let mut names: Vec<&str> = engine_peers().iter().chain(peers).map(|p| p.name).collect();
        names.sort();
        eprintln!("no peer named `{name}` (peers: {})", names.join(", "));
        return ExitCode::from(2);
    };
    if crate::misuse::under_a_grader() {
        return refuse(peer.name, "it was started from a program under test");
    }
    (peer.run)(args)
}

/// The name the commands that reproduce a check give the peers executable
/// in [`by_hand_dir`]: they run a peer as `ipc-grader --peer NAME ARGS...`
/// (as `cargo grade --peer NAME ARGS...` does).
pub const GRADER: &str = "ipc-grader";

/// A folder that puts the grader's own programs on `PATH` for a person
/// reproducing a check by hand, in any directory: links named `names`
/// (probes, and [`GRADER`]) to the peers executable, which dispatches on
/// its name. It is `ipc-peers/` next to it (`target/debug/`), or under
/// the temporary directory if that one cannot be written. Links already
/// there are kept; missing or stale ones are made (atomically, so two
/// graders at once do not disturb each other).
pub fn by_hand_dir(names: &BTreeSet<String>) -> std::io::Result<PathBuf> {
    let exe = executable()?;
    let beside = exe.parent().map(|d| d.join("ipc-peers"));
    let fallback = std::env::temp_dir().join(format!("ipc-peers-{}", nix::unistd::getuid()));
    let mut last = std::io::Error::other("no folder for the links");
    for dir in beside.into_iter().chain([fallback]) {
        match link_all(&dir, &exe, names) {
            Ok(()) => return Ok(dir),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn link_all(dir: &Path, exe: &Path, names: &BTreeSet<String>) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for name in names {
        let link = dir.join(name);
        if std::fs::read_link(&link).is_ok_and(|target| target == exe) {
            continue;
        }
        let temporary = dir.join(format!(".{name}.{}.{:x}", std::process::id(), fastrand::u32(..)));
        std::os::unix::fs::symlink(exe, &temporary)?;
        std::fs::rename(&temporary, &link).inspect_err(|_| {
            let _ = std::fs::remove_file(&temporary);
        })?;
    }
    Ok(())
}

/// The probes among the engine's peers and `peers`, with [`GRADER`]: what
/// `cargo grade --peer-path` links.
pub fn by_hand_names(peers: &[Peer]) -> BTreeSet<String> {
    let mut names: BTreeSet<String> =
        engine_peers().iter().chain(peers).filter(|p| p.probe).map(|p| p.name.to_string()).collect();
    names.insert(GRADER.to_string());
    names
}

fn find(name: &str, peers: &[Peer]) -> Option<Peer> {
    engine_peers().into_iter().chain(peers.iter().copied()).find(|p| p.name == name)
}

/// A peer started by a program under test: says so, leaves the marker that
/// fails the check, and exits 2 without doing anything.
fn refuse(name: &str, why: &str) -> ExitCode {
    eprintln!(
        "{name}: this is one of the grader's own programs, and {why}: it runs only for the grader. The rule: {RULE}."
    );
    if let Some(dir) = std::env::var_os("TMPDIR") {
        let _ = std::fs::write(Path::new(&dir).join(crate::misuse::MARKER), format!("{name} {why}"));
    }
    ExitCode::from(2)
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

/// For a peer that becomes a program under test (a starting gate, a umask
/// setter): restores the default disposition of every signal and an empty
/// signal mask (the peer is a Rust program, which ignores SIGPIPE), removes
/// the token that lets partners run, and `execvp`s `argv`. Returns only if
/// the exec failed.
///
/// Call it from a single-threaded peer only (no peer starts threads before
/// it execs a program).
pub fn exec_under_test(argv: &[std::ffi::CString]) -> nix::Error {
    use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
    for sig in Signal::iterator().filter(|s| !matches!(s, Signal::SIGKILL | Signal::SIGSTOP)) {
        // SAFETY: installing SIG_DFL runs no handler code.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    // SAFETY: the caller is single-threaded (see above), so no other thread
    // reads the environment while it changes.
    unsafe { std::env::remove_var(TOKEN_VAR) };
    let Some(program) = argv.first() else { return nix::Error::EINVAL };
    match nix::unistd::execvp(program, argv) {
        Err(e) => e,
        Ok(never) => match never {},
    }
}
