//! Helpers for the conventions that every lab program shares (see the
//! contract, "Conventions for every program").
//!
//! Nothing here does a lab's work: it only prints errors in the agreed shape
//! and checks IPC names, so that the lab programs can focus on system calls.

use std::fmt::Display;
use std::process::ExitCode;

/// Exit status for a usage error (bad or missing arguments).
pub const USAGE_STATUS: u8 = 2;

/// Exit status for a run-time error (a system call failed).
pub const ERROR_STATUS: u8 = 1;

/// Prints `usage: USAGE` as one line on stderr and returns exit status 2.
///
/// ```no_run
/// # use std::process::ExitCode;
/// fn main() -> ExitCode {
///     ipc_common::usage("pipe-message [--exit CODE] [TEXT]")
/// }
/// ```
pub fn usage<S: From<u8>>(usage: &str) -> S {
    eprintln!("usage: {usage}");
    S::from(USAGE_STATUS)
}

/// The REASON part of an error message: the operating system's text.
///
/// `nix::Error` prints as `ENOENT: No such file or directory` and
/// `std::io::Error` as `No such file or directory (os error 2)`; the contract
/// wants only `No such file or directory`, as strerror(3) gives it. Any
/// other error or text is printed as it is.
pub fn reason(err: impl Display) -> String {
    let text = err.to_string();
    let text = match text.split_once(": ") {
        Some((name, rest))
            if name.len() > 1
                && name.starts_with('E')
                && name[1..].bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) =>
        {
            rest.to_string()
        }
        _ => text,
    };
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// Prints `PROGRAM: CONTEXT: REASON` on stderr and returns exit status 1.
///
/// `reason` is usually a [`nix::Error`] or [`std::io::Error`]; only the
/// operating system's text is printed (`No such file or directory`, see [`reason`]).
pub fn fail<S: From<u8>>(program: &str, context: impl Display, reason: impl Display) -> S {
    fail_with(ERROR_STATUS, program, context, reason)
}

/// Like [`fail`], with the exit status a lab names (e.g. 3 for `queue full`).
pub fn fail_with<S: From<u8>>(status: u8, program: &str, context: impl Display, why: impl Display) -> S {
    eprintln!("{program}: {context}: {}", reason(why));
    S::from(status)
}

/// A failed step of a program: what it was doing (the CONTEXT of
/// `PROGRAM: CONTEXT: REASON`), why it failed, and the exit status that
/// says so. Made with [`Context::context`] (`mq_open(..).context(name)?`)
/// or [`Error::new`], reported once, by `main`, with [`Error::report`].
#[derive(Debug)]
pub struct Error {
    status: u8,
    context: String,
    reason: String,
}

/// `Result<T, ipc_common::Error>`: what a program's steps return, so that
/// `?` carries a failure up to `main`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A run-time error, exit status 1. `reason` is usually a `nix::Error`
    /// or `std::io::Error`; only the OS's text is kept (see [`reason`]).
    pub fn new(context: impl Display, reason: impl Display) -> Error {
        Error { status: ERROR_STATUS, context: context.to_string(), reason: self::reason(reason) }
    }

    /// An error with no context: `PROGRAM: REASON` (`udp-client: no reply from HOST:PORT`).
    pub fn plain(reason: impl Display) -> Error {
        Error::new("", reason)
    }

    /// The same error with the exit status a lab names (3 for `queue full`).
    pub fn status(mut self, status: u8) -> Error {
        self.status = status;
        self
    }

    /// The exit status this error ends the program with.
    pub fn exit_status(&self) -> u8 {
        self.status
    }

    /// Prints `PROGRAM: CONTEXT: REASON` on stderr; returns the exit status.
    pub fn report(&self, program: &str) -> ExitCode {
        eprintln!("{program}: {self}");
        ExitCode::from(self.status)
    }
}

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.context.as_str() {
            "" => write!(f, "{}", self.reason),
            context => write!(f, "{context}: {}", self.reason),
        }
    }
}

/// What `main` returns: the program's own status when `result` is `Ok`
/// (`()` is 0), else the error reported as `PROGRAM: CONTEXT: REASON`.
///
/// ```no_run
/// # fn send_to_parent() -> ipc_common::Result<()> { Ok(()) }
/// fn main() -> std::process::ExitCode {
///     ipc_common::finish("pipe-message", send_to_parent())
/// }
/// ```
pub fn finish<T: std::process::Termination>(program: &str, result: Result<T>) -> ExitCode {
    match result {
        Ok(status) => status.report(),
        Err(err) => err.report(program),
    }
}

/// Adds the CONTEXT of `PROGRAM: CONTEXT: REASON` to any failure, as
/// anyhow's `Context` does: `pipe().context("pipe")?`.
pub trait Context<T> {
    /// The failure as an [`Error`] whose context is `context`.
    fn context(self, context: impl Display) -> Result<T>;
    /// The same, with the context made only on failure.
    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Display> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl Display) -> Result<T> {
        self.map_err(|e| Error::new(context, e))
    }

    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| Error::new(context(), e))
    }
}

/// The text of an OS error without Rust's ` (os error N)` suffix.
pub fn os_reason(err: &std::io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => err.to_string(),
    }
}

/// Whether `name` is a valid POSIX IPC name as the contract defines it:
/// a `/` followed by 1 to 254 bytes, none of them `/` (so `/` alone is not).
pub fn is_valid_ipc_name(name: &str) -> bool {
    name.len() > 1 && name.len() <= 255 && name.starts_with('/') && !name[1..].contains('/')
}

/// Parses the command line into `T`, or reports a usage error.
///
/// On a usage error this prints the one-line `usage: ...` and returns
/// `Err(ExitCode)` with status 2. `--help` prints clap's help and exits 0.
pub fn parse_args<T: clap::Parser>(usage_line: &str) -> Result<T, ExitCode> {
    match T::try_parse() {
        Ok(args) => Ok(args),
        Err(err)
            if matches!(err.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) =>
        {
            let _ = err.print();
            Err(ExitCode::SUCCESS)
        }
        Err(_) => Err(usage(usage_line)),
    }
}

/// Ends a forked child at once with `status`, as `_exit(2)` does.
///
/// Use this, not `std::process::exit`, in a child that did not `exec`: `exit`
/// would flush buffers the child inherited from its parent (printing the
/// parent's pending output twice) and run the parent's exit handlers.
pub fn exit_child(status: i32) -> ! {
    // SAFETY: `_exit` has no preconditions; it ends the process without
    // touching any state the parent shares.
    unsafe { libc::_exit(status) }
}

/// Standard input as a plain `File` (a duplicate of descriptor 0), for
/// programs that move bulk data: each `read` is one system call straight into
/// the caller's buffer, with no `Stdin` buffer or lock in between.
pub fn raw_stdin() -> std::io::Result<std::fs::File> {
    use std::os::fd::AsFd;
    Ok(std::io::stdin().as_fd().try_clone_to_owned()?.into())
}

/// Standard output as a plain `File` (a duplicate of descriptor 1). Rust's
/// `Stdout` is line-buffered: on binary data it splits every write at the
/// last newline, which doubles the system calls. A `File` writes what it is
/// given in one call.
pub fn raw_stdout() -> std::io::Result<std::fs::File> {
    use std::os::fd::AsFd;
    Ok(std::io::stdout().as_fd().try_clone_to_owned()?.into())
}

/// A fault hook: one line of the reference's source (broken/README.md).
///
/// ```ignore
/// let text = if fault!("wrong-default") { "message to parent" } else { "message for parent" };
/// fault!("collapse-spaces" => let text = pipe::faults::collapse_spaces(&text));
/// fault!("busy-wait" => return signals::faults::spin_until_flagged(&waiting));
/// ```
///
/// `fault!("NAME")` is `false` in the reference, where the compiler removes
/// the branch; in `broken/` (which builds the reference's own source files
/// with `--cfg ipc_faults`) it is `true` when the environment variable
/// `IPC_FAULT` names `NAME`. With code after `=>`, the hook is not compiled
/// at all in the reference, so the code may use what exists only for faults
/// (the lab's `faults.rs`): `let VAR = VALUE` gives VAR the wrong value when
/// the fault is on (else VAR keeps its own), any other code runs when it is
/// on.
///
/// `cfg!` and `#[cfg]` are expanded in the crate that uses the macro, so the
/// one source file gives the correct program in `reference/` and the faulty
/// one in `broken/`.
#[macro_export]
macro_rules! fault {
    ($name:literal) => {
        $crate::fault_on(cfg!(ipc_faults), $name)
    };
    ($name:literal => let mut $var:ident = $value:expr) => {
        #[cfg(ipc_faults)]
        let mut $var = if $crate::fault_on(true, $name) { $value } else { $var };
    };
    ($name:literal => let $var:ident = $value:expr) => {
        #[cfg(ipc_faults)]
        let $var = if $crate::fault_on(true, $name) { $value } else { $var };
    };
    ($name:literal => $($code:tt)+) => {
        #[cfg(ipc_faults)]
        if $crate::fault_on(true, $name) {
            $($code)+;
        }
    };
}

/// Whether the fault `name` is switched on (`IPC_FAULT=name[,name...]`),
/// in a build with fault hooks (`enabled`). Use [`fault!`] instead.
///
/// It allocates nothing and takes no lock (it reads the environment with
/// getenv(3)), so a hook may sit in a signal handler or in a forked child
/// of a single-threaded program, like the code around it.
#[doc(hidden)]
#[inline(always)]
pub fn fault_on(enabled: bool, name: &str) -> bool {
    if !enabled {
        return false;
    }
    // SAFETY: getenv reads the environment; the programs that use fault
    // hooks never change their environment, so nothing writes it meanwhile.
    let value = unsafe { libc::getenv(c"IPC_FAULT".as_ptr()) };
    if value.is_null() {
        return false;
    }
    // SAFETY: a non-null getenv result is a NUL-terminated string that lives
    // as long as the environment entry, which nothing changes.
    let faults = unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes();
    faults.split(|&b| b == b',').any(|f| f == name.as_bytes())
}

/// Runs `on_signal` on a thread of its own when SIGINT or SIGTERM arrives
/// (the fifo, sockets and rpc servers stop this way; how it works is the
/// `signals` lab's subject).
///
/// Call it first in `main`, before any other thread exists: it blocks both
/// signals in the calling thread (every later thread inherits the mask), so
/// they are never delivered asynchronously. The waiting thread takes them
/// with sigwait(3): no handler, no async-signal-safety rules, and it works
/// wherever the main thread is blocked (in `open`, `read`, `recvfrom` or
/// `accept`), with no race between checking a flag and blocking.
///
/// ```no_run
/// ipc_common::on_termination(|_signal| std::process::exit(0)).expect("sigprocmask");
/// ```
pub fn on_termination(on_signal: impl FnOnce(nix::sys::signal::Signal) + Send + 'static) -> nix::Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()?;
    std::thread::spawn(move || {
        // sigwait only fails for an invalid set.
        if let Ok(signal) = set.wait() {
            on_signal(signal);
        }
    });
    Ok(())
}

/// Tries `f` on each address in turn (as getaddrinfo(3) gave them); returns
/// the first success, or the last error. E.g.
/// `first_that_works(&addrs, TcpStream::connect)`.
pub fn first_that_works<T>(
    addrs: &[std::net::SocketAddr],
    mut f: impl FnMut(std::net::SocketAddr) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address found");
    for &addr in addrs {
        match f(addr) {
            Ok(t) => return Ok(t),
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipc_names_follow_the_contract() {
        assert!(is_valid_ipc_name("/ring"));
        assert!(is_valid_ipc_name(&format!("/{}", "a".repeat(254))));
        assert!(!is_valid_ipc_name(&format!("/{}", "a".repeat(255))));
        assert!(!is_valid_ipc_name("ring"));
        assert!(!is_valid_ipc_name("/"));
        assert!(!is_valid_ipc_name("/a/b"));
        assert!(!is_valid_ipc_name(""));
    }

    #[test]
    fn reasons_are_the_bare_os_text() {
        assert_eq!(reason(nix::Error::ENOENT), "No such file or directory");
        assert_eq!(reason(std::io::Error::from_raw_os_error(17)), "File exists");
        assert_eq!(reason("queue full"), "queue full");
        assert_eq!(reason("Error: not an errno"), "Error: not an errno");
    }

    #[test]
    fn faults_are_off_without_the_cfg() {
        assert!(!fault!("anything"), "this crate is not built with --cfg ipc_faults");
        assert!(!fault_on(true, "a-fault-nobody-switched-on"));
    }

    #[test]
    fn os_reason_has_no_error_number() {
        let err = std::io::Error::from_raw_os_error(2);
        assert_eq!(os_reason(&err), "No such file or directory");
    }
}
