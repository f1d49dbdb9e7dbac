//! What every program the grader starts gets before `exec`: its own process
//! group, default signal dispositions, an empty signal mask, only
//! descriptors 0-2, and the `kill(-1)` guard.

use std::sync::OnceLock;

use nix::sys::signal::{self, SigSet, SigmaskHow};
use nix::unistd::Pid;

/// A seccomp filter that makes `kill(-1, ...)` fail with EPERM.
///
/// `kill(-1, SIGKILL)` signals every process the caller may signal: as root,
/// the whole machine, the grader included. A beginner writes it by accident
/// (`kill(pid, ...)` after a fork that failed and returned -1). Every program
/// the grader starts, and everything it starts in turn (filters are inherited
/// and cannot be removed), gets this filter; other signals are untouched.
pub(super) fn kill_guard() -> Option<&'static [seccompiler::sock_filter]> {
    static GUARD: OnceLock<Option<seccompiler::BpfProgram>> = OnceLock::new();
    GUARD
        .get_or_init(|| {
            use seccompiler::{
                SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
            };
            let arch = std::env::consts::ARCH.try_into().ok()?;
            // pid_t is 32 bits: compare the low word of the first argument with -1.
            let minus_one =
                SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, u64::from(u32::MAX)).ok()?;
            let rules = [(libc::SYS_kill, vec![SeccompRule::new(vec![minus_one]).ok()?])].into_iter().collect();
            let filter =
                SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(libc::EPERM as u32), arch).ok()?;
            filter.try_into().ok()
        })
        .as_deref()
}

/// Prepares the child between `fork` and `exec`, as the module says.
///
/// # Safety
///
/// Runs in the child of a fork: it makes only async-signal-safe calls
/// (setpgid, sigprocmask, signal, close_range, prctl, seccomp) and allocates
/// nothing. `guard` was built before the fork.
pub(super) unsafe fn in_child(guard: Option<&[seccompiler::sock_filter]>) -> std::io::Result<()> {
    nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
    signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
    for sig in 1..libc::SIGRTMAX() {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            // Some numbers are reserved by the C library; ignore failures.
            // SAFETY: signal(2) with SIG_DFL is async-signal-safe.
            unsafe { libc::signal(sig, libc::SIG_DFL) };
        }
    }
    // Descriptors 0-2 are in place; everything above them (what the
    // grader's own environment may have leaked) is closed at exec. Not now:
    // std reports a failed exec to the parent through a pipe of its own
    // among them (it is close-on-exec already).
    // SAFETY: close_range(2) on descriptors this process owns.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };
    if let Some(filter) = guard {
        // Failure leaves the program unguarded (e.g. no seccomp in the
        // kernel); the hostile test checks that the guard holds.
        let prog = libc::sock_fprog { len: filter.len() as u16, filter: filter.as_ptr() as *mut libc::sock_filter };
        // SAFETY: prctl and seccomp with a filter that outlives the call.
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 {
                libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, &prog as *const libc::sock_fprog);
            }
        }
    }
    Ok(())
}
