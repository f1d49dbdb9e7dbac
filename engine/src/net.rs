//! Addresses that nobody listens on, for the checks of "connection refused"
//! and of stale socket files.
//!
//! Binding a listener and dropping it is not enough on its own. While another
//! thread of the grader forks a program to run, the child holds a copy of
//! every descriptor until it calls exec (close-on-exec closes them only
//! then), the listener included: for that moment a connection to the
//! address still succeeds. So each helper waits until a connection is
//! refused, briefly, and says so if it never is.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a forked child may take to exec before the address counts as
/// still in use.
const SETTLE: Duration = Duration::from_secs(3);

/// Retries `connect` every few milliseconds until it fails (the address
/// refuses connections), or fails after [`SETTLE`].
fn until_refused(what: &str, connect: impl Fn() -> io::Result<()>) -> io::Result<()> {
    let until = Instant::now() + SETTLE;
    // Doubling pauses: a handful of connections in all, far fewer than a
    // listener's backlog holds (a full backlog would block a connect).
    let mut pause = Duration::from_millis(5);
    while connect().is_ok() {
        if Instant::now() >= until {
            return Err(io::Error::other(format!(
                "{what} still accepts connections {}s after it was closed",
                SETTLE.as_secs()
            )));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(250));
    }
    Ok(())
}

/// A port on 127.0.0.1 that refuses connections (bound by the system's
/// choice, then closed).
pub fn refused_tcp_port() -> io::Result<u16> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    until_refused(&format!("127.0.0.1:{port}"), || TcpStream::connect(("127.0.0.1", port)).map(drop))?;
    Ok(port)
}

/// A socket file at `path` that nobody listens on, as a server that died
/// leaves behind.
pub fn stale_unix_socket(path: &Path) -> io::Result<()> {
    drop(UnixListener::bind(path)?);
    until_refused(&path.display().to_string(), || UnixStream::connect(path).map(drop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_addresses_refuse_connections() {
        let port = refused_tcp_port().unwrap();
        assert_eq!(TcpStream::connect(("127.0.0.1", port)).unwrap_err().kind(), io::ErrorKind::ConnectionRefused);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stale.sock");
        stale_unix_socket(&path).unwrap();
        assert!(path.exists(), "the socket file stays");
        assert_eq!(UnixStream::connect(&path).unwrap_err().kind(), io::ErrorKind::ConnectionRefused);
    }

    /// A listener still open (as in a forked child before its exec) is
    /// waited for, and named if it never closes.
    #[test]
    fn a_listener_held_elsewhere_is_waited_for() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(listener);
        });
        let started = Instant::now();
        until_refused("held", || TcpStream::connect(("127.0.0.1", port)).map(drop)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(150), "returned before the listener closed");
        closer.join().unwrap();
    }
}
