//! The seccomp filters every process the grader starts gets (inherited by
//! all its descendants, irremovable):
//!
//! - `kill(-1, ...)` fails with EPERM. It signals every process the caller
//!   may signal: as root, the whole machine, the grader included. A
//!   beginner writes it by accident (`kill(pid, ...)` after a fork that
//!   failed and returned -1).
//! - `ptrace`, `process_vm_readv` and `process_vm_writev` fail with EPERM:
//!   no lab needs them, and they are how one process reads another's
//!   memory (a peer's, or the grader's where nothing else stops it).
//! - `unshare` and `clone` with `CLONE_NEWUSER` fail with EPERM: a new user
//!   namespace would give the program capabilities of its own, the door to
//!   leaving its check's namespaces.
//! - `clone3`, whose flags a filter cannot read, fails with ENOSYS: the C
//!   library then falls back on `clone`, which the rule above sees.
//!
//! Every other system call is untouched.

use std::sync::OnceLock;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
};

/// The filters, in the order they are installed; `None` where they cannot
/// be built (an architecture seccompiler does not know).
pub(crate) fn programs() -> Option<&'static [BpfProgram]> {
    static PROGRAMS: OnceLock<Option<Vec<BpfProgram>>> = OnceLock::new();
    PROGRAMS.get_or_init(build).as_deref()
}

fn build() -> Option<Vec<BpfProgram>> {
    let arch = std::env::consts::ARCH.try_into().ok()?;
    // pid_t is 32 bits: compare the low word of the first argument with -1.
    let minus_one = SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, u64::from(u32::MAX)).ok()?;
    let new_user = libc::CLONE_NEWUSER as u64;
    let with_new_user =
        || SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(new_user), new_user).ok();
    let refused = [
        (libc::SYS_kill, vec![SeccompRule::new(vec![minus_one]).ok()?]),
        (libc::SYS_ptrace, Vec::new()),
        (libc::SYS_process_vm_readv, Vec::new()),
        (libc::SYS_process_vm_writev, Vec::new()),
        (libc::SYS_unshare, vec![SeccompRule::new(vec![with_new_user()?]).ok()?]),
        (libc::SYS_clone, vec![SeccompRule::new(vec![with_new_user()?]).ok()?]),
    ];
    let eperm = SeccompFilter::new(
        refused.into_iter().collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .ok()?;
    let no_clone3 = SeccompFilter::new(
        [(libc::SYS_clone3, Vec::new())].into_iter().collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .ok()?;
    Some(vec![eperm.try_into().ok()?, no_clone3.try_into().ok()?])
}

/// Whether the filters can be built here (installing them is tried by
/// every child, and the hostile tests check that they hold).
pub(super) fn works() -> bool {
    programs().is_some()
}

/// Installs the filters in this (child) process. Call after
/// `PR_SET_NO_NEW_PRIVS`.
///
/// Async-signal-safe: system calls only, on filters built before the fork.
pub(crate) fn install(programs: &[BpfProgram]) -> std::io::Result<()> {
    for filter in programs {
        let prog = libc::sock_fprog { len: filter.len() as u16, filter: filter.as_ptr() as *mut libc::sock_filter };
        // SAFETY: seccomp(2) reads `prog` and the filter it points to, both
        // alive for the call.
        let done = unsafe {
            libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, &prog as *const libc::sock_fprog)
        };
        if done != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
