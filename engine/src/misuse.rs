//! A program under test may not run the grader's own programs: "a program
//! does its lab's work itself" (the contract, Conventions). The grader's
//! trusted peers are its own executable under another name, and the
//! student template ships that executable, so without this guard a
//! two-line script that execs a ring consumer peer would pass the ring lab.
//!
//! A *partner* peer (one that could stand in for a student's program) runs
//! only after it has proved that the grading process itself started it:
//!
//! 1. The grader (this process, when it runs checks) listens on an abstract
//!    Unix socket. For every partner a check starts, it makes a one-time
//!    nonce and passes `SOCKET NONCE` in the partner's environment
//!    ([`crate::peer::TOKEN_VAR`]); programs under test never get one.
//! 2. The partner connects, and checks that the process that answers is
//!    its own parent (`SO_PEERCRED` against `getppid`) and is the grader:
//!    a process with capabilities, where the sandbox keeps every program
//!    under test from having any (another user, a user namespace; the
//!    peer then has none either), or else a process that runs the
//!    `ipc-grader` beside the peers executable (the same file, or the same
//!    bytes). It sends the nonce; the grader answers `yes` once per nonce,
//!    then forgets it.
//!
//! A wrapper script that execs a peer, by any name or path, or a copy of
//! the binary, has no valid nonce (a nonce read from a running peer's
//! environment is already spent), and a fake answering process is not the
//! peer's parent. A refusing peer says why on stderr, exits 2, and leaves
//! [`MARKER`] in the check's folder, which fails the check with the rule.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The file a refusing peer writes into the check's folder (`$TMPDIR`).
pub const MARKER: &str = ".ipc-grader-peer-misuse";

struct Server {
    name: String,
    nonces: Mutex<HashSet<String>>,
}

/// Starts the grader's side (at most once), before any check runs: the
/// socket's credentials are those of the thread that listens, which must
/// be the grader's own, not a check's user's.
pub(crate) fn start() {
    let _ = server();
}

fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Option<&'static Server>> = OnceLock::new();
    *SERVER.get_or_init(|| {
        let name = format!("ipc-grader.{}.{:016x}", std::process::id(), fastrand::u64(..));
        let listener = UnixListener::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).ok()?).ok()?;
        let server: &'static Server = Box::leak(Box::new(Server { name, nonces: Mutex::default() }));
        std::thread::Builder::new()
            .name("peer-guard".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    answer(server, stream);
                }
            })
            .ok()?;
        Some(server)
    })
}

fn answer(server: &Server, mut stream: UnixStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut line = String::new();
    if BufReader::new(&stream).read_line(&mut line).is_err() {
        return;
    }
    let known = server.nonces.lock().unwrap_or_else(|e| e.into_inner()).remove(line.trim());
    let _ = stream.write_all(if known { b"yes\n" } else { b"no\n" });
}

/// The value of [`crate::peer::TOKEN_VAR`] for one partner the grader is
/// about to start: `SOCKET NONCE`, good once.
pub(crate) fn issue() -> String {
    let Some(server) = server() else { return String::new() };
    let nonce = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    server.nonces.lock().unwrap_or_else(|e| e.into_inner()).insert(nonce.clone());
    format!("{} {nonce}", server.name)
}

/// In a partner peer: whether the grading process itself started it (see
/// the module's text). `Err` says why not.
pub(crate) fn verify() -> Result<(), String> {
    let token = std::env::var(crate::peer::TOKEN_VAR).map_err(|_| "it was not started by the grader".to_string())?;
    let (name, nonce) = token.split_once(' ').ok_or("its token is malformed")?;
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).map_err(|e| e.to_string())?;
    let mut stream = UnixStream::connect_addr(&addr).map_err(|_| "the grader that started it is gone".to_string())?;
    let cred =
        nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials).map_err(|e| e.to_string())?;
    let parent = nix::unistd::getppid().as_raw();
    if cred.pid() != parent {
        return Err("the process that vouches for it is not its parent".into());
    }
    // A program under test never has a capability (another user, or a user
    // namespace it may not leave, and no_new_privs): a parent with some,
    // for a peer with none, is the grader. Otherwise its parent runs the
    // grader's executable.
    let privileged = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|status| u64::from_str_radix(crate::proc::procfs::field(&status, "CapEff:")?, 16).ok())
            .is_some_and(|caps| caps != 0)
    };
    let vouched = privileged(&parent.to_string()) && !privileged("self");
    if !vouched && !runs_the_grader(parent) {
        return Err("its parent is not the grader".into());
    }
    stream.write_all(format!("{nonce}\n").as_bytes()).map_err(|e| e.to_string())?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut answer = String::new();
    BufReader::new(&stream).read_line(&mut answer).map_err(|e| e.to_string())?;
    match answer.trim() {
        "yes" => Ok(()),
        _ => Err("the grader did not start it".into()),
    }
}

/// Whether process `pid` runs the grader: the `ipc-grader` executable
/// beside this peers executable (the same file, or a file with the same
/// bytes).
fn runs_the_grader(pid: i32) -> bool {
    let Ok(ours) = std::fs::read_link("/proc/self/exe") else { return false };
    let grader = ours.with_file_name(crate::peer::GRADER);
    let (Ok(theirs), Ok(expected)) = (std::fs::metadata(format!("/proc/{pid}/exe")), std::fs::metadata(&grader)) else {
        return false;
    };
    if theirs.dev() == expected.dev() && theirs.ino() == expected.ino() {
        return true;
    }
    theirs.size() == expected.size()
        && matches!(
            (std::fs::read(format!("/proc/{pid}/exe")), std::fs::read(&grader)),
            (Ok(a), Ok(b)) if a == b
        )
}

/// Whether a grading process (one running the grader) is among the
/// ancestors of this process: then `--peer` by hand is refused, for it was
/// started, however indirectly, by a program under test.
pub(crate) fn under_a_grader() -> bool {
    let mut pid = nix::unistd::getppid().as_raw();
    for _ in 0..64 {
        if pid <= 1 {
            return false;
        }
        if runs_the_grader(pid) {
            return true;
        }
        match crate::proc::procfs::stat(nix::unistd::Pid::from_raw(pid)) {
            Some(stat) => pid = stat.ppid,
            None => return false,
        }
    }
    false
}
