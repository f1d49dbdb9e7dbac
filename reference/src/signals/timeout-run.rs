//! `timeout-run SECONDS COMMAND [ARG...]`: runs COMMAND in its own process
//! group; after SECONDS sends the group SIGTERM, and SIGKILL one second later.

// This lab's shared code (src/signals/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod signals;

use std::ffi::{CString, OsString};
use std::os::raw::c_int;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use ipc_common::{Context, Error, exit_child, fault};
use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigSet, SigmaskHow, Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, execvp, fork, setpgid, write};

use signals::install;

/// Used in error messages: `timeout-run: CONTEXT: REASON`.
const PROGRAM: &str = "timeout-run";
const USAGE: &str = "timeout-run SECONDS COMMAND [ARG...]";
/// GNU timeout's statuses.
const TIMED_OUT: u8 = 124;
const CANNOT_RUN: i32 = 126;
const NOT_FOUND: i32 = 127;

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    /// Time limit in seconds, fractions allowed (0: none, as GNU timeout).
    seconds: String,
    command: OsString,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

static CHILD_ENDED: AtomicBool = AtomicBool::new(false);
static ALARM: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigchld(_: c_int) {
    CHILD_ENDED.store(true, Ordering::Relaxed);
}
extern "C" fn on_alarm(_: c_int) {
    ALARM.store(true, Ordering::Relaxed);
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let valid = args.seconds.parse::<f64>().is_ok_and(|s| s.is_finite() && s >= 0.0);
    if !valid && !fault!("bad-seconds-as-zero") {
        return ipc_common::usage(USAGE);
    }
    ipc_common::finish(PROGRAM, run_with_timeout(args))
}

/// The lab: run the command in a group of its own; SIGTERM the group when
/// the time runs out, SIGKILL it a second later; the status as GNU timeout's.
fn run_with_timeout(args: Args) -> ipc_common::Result<ExitCode> {
    let seconds = args.seconds.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).unwrap_or(0.0);
    // Everything the child needs, allocated before fork.
    let argv: Vec<CString> = std::iter::once(&args.command)
        .chain(&args.args)
        .map(|a| CString::new(a.as_bytes()).expect("arguments hold no NUL byte"))
        .collect();
    let cannot_run = [PROGRAM.as_bytes(), b": ", args.command.as_bytes(), b": "].concat();

    // Block both signals; sigsuspend unblocks them only while waiting.
    let mut mask = SigSet::from(Signal::SIGCHLD);
    mask.add(Signal::SIGALRM);
    let waiting = mask.thread_swap_mask(SigmaskHow::SIG_BLOCK).context("sigprocmask")?;
    install(Signal::SIGCHLD, on_sigchld, SaFlags::SA_NOCLDSTOP | SaFlags::SA_RESTART).context("sigaction")?;
    install(Signal::SIGALRM, on_alarm, SaFlags::SA_RESTART).context("sigaction")?;

    // SAFETY: single-threaded. The child calls only setpgid, sigprocmask,
    // execvp, write and _exit, on memory prepared before fork.
    let child = match unsafe { fork() }.context("fork")? {
        ForkResult::Child => {
            let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
            // Handlers reset to default at exec; the mask would be inherited.
            let _ = waiting.thread_set_mask();
            let Err(err) = execvp(&argv[0], &argv);
            let stderr = std::io::stderr();
            let _ = write(&stderr, &cannot_run);
            let _ = write(&stderr, err.desc().as_bytes());
            let _ = write(&stderr, b"\n");
            let status = if err == Errno::ENOENT { NOT_FOUND } else { CANNOT_RUN };
            exit_child(if fault!("exec-error-1") { 1 } else { status })
        }
        ForkResult::Parent { child } => child,
    };
    // Also in the parent: whichever runs first, the group exists before we
    // might signal it.
    let _ = setpgid(child, child);
    let limit = seconds;
    fault!("no-timer" => let limit = 0.0);
    fault!("whole-seconds" => let limit = limit.ceil()); // as alarm(2) would
    if let Err(e) = arm_timer(limit) {
        let _ = killpg(child, Signal::SIGKILL);
        return Err(Error::new("setitimer", e));
    }

    let mut timed_out = false;
    let mut killed = false;
    let mut status = None;
    loop {
        if status.is_none() {
            match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(_, code)) => status = Some(if fault!("ignore-status") { 0 } else { code as u8 }),
                Ok(WaitStatus::Signaled(_, sig, _)) => {
                    status = Some(if fault!("signal-as-1") { 1 } else { 128 + sig as u8 })
                }
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(Error::new("waitpid", e)),
            }
        }
        if let Some(code) = status {
            // After a timeout, the command's own children may still be
            // ending; wait for the whole group (up to the SIGKILL).
            let group_gone = fault!("kill-child-only") || killpg(child, None).is_err();
            if !timed_out || killed || group_gone {
                return Ok(ExitCode::from(if timed_out { TIMED_OUT } else { code }));
            }
        }
        waiting.suspend().context("sigsuspend")?;
        CHILD_ENDED.store(false, Ordering::Relaxed);
        if ALARM.swap(false, Ordering::Relaxed) {
            if !timed_out {
                timed_out = true;
                fault!("kill-child-only" => let _ = nix::sys::signal::kill(child, Signal::SIGTERM));
                if !fault!("kill-child-only") {
                    let _ = killpg(child, Signal::SIGTERM);
                }
                if let Err(e) = arm_timer(1.0) {
                    let _ = killpg(child, Signal::SIGKILL);
                    return Err(Error::new("setitimer", e));
                }
            } else if !fault!("no-kill-after") {
                killed = true;
                let _ = killpg(child, Signal::SIGKILL);
                if status.is_none() {
                    // Reap it (SIGKILL cannot be ignored) before returning.
                    let _ = waitpid(child, None);
                    status = Some(0);
                }
            }
        }
    }
}

/// Sends SIGALRM once after `seconds` (0 disarms, as GNU timeout's 0 means no limit).
fn arm_timer(seconds: f64) -> Result<(), Errno> {
    let mut usec = ((seconds.fract()) * 1e6).round() as libc::suseconds_t;
    let sec = seconds.trunc() as libc::time_t;
    if seconds > 0.0 && sec == 0 && usec == 0 {
        usec = 1;
    }
    let value = libc::itimerval {
        it_interval: libc::timeval { tv_sec: 0, tv_usec: 0 },
        it_value: libc::timeval { tv_sec: sec, tv_usec: usec.min(999_999) },
    };
    // SAFETY: `value` is a valid itimerval; the old value is not wanted.
    Errno::result(unsafe { libc::setitimer(libc::ITIMER_REAL, &value, std::ptr::null_mut()) }).map(drop)
}
