//! `ipc-probe`: a small trusted program that pipeline checks use as a stage
//! to observe what a stage inherits.
//!
//! The checks do not take a probe's word for it: a report file the probe
//! writes, the program under test could write itself without running any
//! stage. They look at the probe in `/proc` while it waits for end of file
//! on its stdin (`ipc_engine::observe`), which they hold open. The files
//! are for a person reproducing a check by hand.
//!
//! - `ipc-probe fds FILE`: waits for end of file on stdin, then writes the
//!   open descriptors (`0 1 2`) to FILE.
//! - `ipc-probe signals FILE`: waits for end of file on stdin, then writes
//!   to FILE the signals it started with ignored and blocked
//!   (`/proc/self/status`; standard signals), two lines:
//!   `ignored SIGINT SIGPIPE` and `blocked` (none).
//! - `ipc-probe eof-touch FILE`: waits for end of file on stdin, then
//!   creates FILE.
//! - `ipc-probe exit N`: exits with status N.
//! - `ipc-probe raise N`: sends itself signal N (dies of it under the default action).
//! - `ipc-probe stderr TEXT`: writes TEXT and a newline to stderr.

use std::ffi::OsString;
use std::process::ExitCode;

use nix::fcntl::{FcntlArg, fcntl};
use nix::sys::resource::{Resource, getrlimit};

pub const NAME: &str = "ipc-probe";

pub fn main(args: Vec<OsString>) -> ExitCode {
    let args: Vec<String> = args.into_iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["fds", file] => {
            wait_for_end_of_input();
            let open = open_fds();
            let text: Vec<String> = open.iter().map(|fd| fd.to_string()).collect();
            write_or_fail(file, &text.join(" "))
        }
        ["exit", n] => ExitCode::from(n.parse::<u8>().unwrap_or(255)),
        ["raise", n] => {
            let sig = n.parse::<i32>().ok().and_then(|n| nix::sys::signal::Signal::try_from(n).ok());
            if let Some(sig) = sig {
                let _ = nix::sys::signal::raise(sig);
            }
            // Still alive: the signal was ignored or blocked.
            ExitCode::from(0)
        }
        ["eof-touch", file] => {
            wait_for_end_of_input();
            write_or_fail(file, "done")
        }
        ["signals", file] => {
            wait_for_end_of_input();
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let names = |key: &str| {
                let mask = ipc_engine::proc::procfs::signal_mask(&status, key).unwrap_or(0);
                // The standard signals: the real-time ones (32 and up) belong
                // to the C library (glibc reserves 32 and 33 for itself) and
                // to programs that ask for them.
                let set: Vec<String> = (1..32)
                    .filter(|n| mask & (1u64 << (n - 1)) != 0)
                    .map(|n| {
                        nix::sys::signal::Signal::try_from(n)
                            .map(|s| s.as_str().to_string())
                            .unwrap_or(format!("SIG{n}"))
                    })
                    .collect();
                set.join(" ")
            };
            write_or_fail(file, &format!("ignored {}\nblocked {}\n", names("SigIgn:"), names("SigBlk:")))
        }
        ["stderr", text] => {
            eprintln!("{text}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: ipc-probe fds FILE | signals FILE | eof-touch FILE | exit N | raise N | stderr TEXT");
            ExitCode::from(2)
        }
    }
}

/// Reads stdin to its end, discarding it: the check looks at this process
/// in /proc meanwhile (it holds the pipeline's input open), and a stage
/// after this one waits for its own input to end. Opens nothing.
fn wait_for_end_of_input() {
    let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
}

fn write_or_fail(file: &str, text: &str) -> ExitCode {
    match std::fs::write(file, text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ipc-probe: {file}: {e}");
            ExitCode::from(1)
        }
    }
}

/// Descriptors open in this process, found with `fcntl(F_GETFD)` so that
/// looking does not itself open one (as reading /proc/self/fd would).
fn open_fds() -> Vec<i32> {
    let limit = getrlimit(Resource::RLIMIT_NOFILE).map(|(soft, _)| soft).unwrap_or(1024).min(1 << 16) as i32;
    (0..limit)
        .filter(|&fd| {
            // SAFETY: a descriptor number is only inspected, never used for I/O
            // or closed, so no owned descriptor elsewhere is disturbed.
            let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            fcntl(borrowed, FcntlArg::F_GETFD).is_ok()
        })
        .collect()
}
