//! Separate user ids for student code, when the grader is root.
//!
//! Each grading process owns a range of [`PER_PROCESS`] ids, chosen from its
//! pid, so that two graders on one machine (two submissions of a batch,
//! two Gradescope containers) never share one: `BASE + (pid mod 2^22) *
//! PER_PROCESS`. The first id of the range is the group every program of
//! the process runs in; each check and each build leases one of the
//! others ([`lease`]). No account has these ids, so no file on the machine
//! belongs to them but what the grader gives them, and no other process
//! runs under them: a check's processes are exactly those of its user id,
//! which they cannot change (no capability, no set-user-id program: the
//! filter's `no_new_privs`).
//!
//! The grader's own thread that runs a check takes the check's identity
//! while it does ([`AsUser`]): whatever the check's code creates (input
//! files, queues, segments) belongs to the check, and a link a program
//! planted cannot make root write where the check may not.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The first id of the ranges.
pub const BASE: u32 = 1_000_000_000;
/// Ids per grading process: its group, then one per check or build at once.
pub const PER_PROCESS: u32 = 64;

/// The group and first id of this process's range.
pub fn range_start() -> u32 {
    start_of(std::process::id())
}

fn start_of(pid: u32) -> u32 {
    BASE + (pid % (1 << 22)) * PER_PROCESS
}

/// Every user id that the grading process `pid` may give a check or a
/// build (after it ended: what might still run under them).
pub fn range_of(pid: u32) -> impl Iterator<Item = u32> {
    (1..PER_PROCESS).map(move |slot| start_of(pid) + slot)
}

/// The group every program of this grading process runs in.
pub fn group() -> u32 {
    range_start()
}

/// A user id leased for one check or one build; back in the pool when
/// dropped (after its processes are gone: the caller kills them first).
#[derive(Debug)]
pub struct Lease {
    pub uid: u32,
    pub gid: u32,
    slot: u32,
}

static POOL: Mutex<u64> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

/// A free user id of this process's range, waiting for one if all are
/// leased. Any process still running under it (left by an earlier grader
/// of the same pid that did not clean up) is killed first.
pub fn lease() -> Lease {
    let mut used = POOL.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(slot) = (1..PER_PROCESS).find(|s| *used & (1 << s) == 0) {
            *used |= 1 << slot;
            drop(used);
            let lease = Lease { uid: range_start() + slot, gid: group(), slot };
            crate::proc::kill_user(lease.uid);
            return lease;
        }
        used = FREED.wait_timeout(used, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut used = POOL.lock().unwrap_or_else(|e| e.into_inner());
        *used &= !(1 << self.slot);
        FREED.notify_one();
    }
}

/// Every user id of this process's range (for the end of a run: what
/// might still run under any of them).
pub fn all_ids() -> impl Iterator<Item = u32> {
    (1..PER_PROCESS).map(|slot| range_start() + slot)
}

/// Whether this process may run programs under other user ids: it is root
/// (of the machine: not of a user namespace of its own, where no other id
/// is mapped) and may change ids (a container may drop the capability).
/// Tried in a thread of its own, which takes one of the range's ids and
/// gives it back.
pub(super) fn available() -> bool {
    if !nix::unistd::geteuid().is_root() {
        return false;
    }
    let probe = range_start() + PER_PROCESS - 1;
    std::thread::spawn(move || AsUser::enter(probe, group()).is_ok()).join().unwrap_or(false)
}

/// In a child between fork and exec: becomes `uid` in group `gid` for
/// good (real, effective and saved ids; no supplementary group). A thread
/// that took another identity ([`AsUser`]) first becomes root again.
///
/// Async-signal-safe: system calls only.
pub(crate) fn take(uid: u32, gid: u32) -> std::io::Result<()> {
    let groups = [gid];
    // SAFETY: raw system calls on this (single-threaded) child's own
    // credentials; `groups` outlives the call that reads it.
    let ok = unsafe {
        libc::syscall(libc::SYS_setresuid, -1i64, 0i64, -1i64) == 0
            && libc::syscall(libc::SYS_setgroups, 1i64, groups.as_ptr()) == 0
            && libc::syscall(libc::SYS_setresgid, gid as i64, gid as i64, gid as i64) == 0
            && libc::syscall(libc::SYS_setresuid, uid as i64, uid as i64, uid as i64) == 0
    };
    if ok { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// The calling thread acts as a check's user (effective and file-system
/// ids, group, no other group) until dropped; then it is root again. Only
/// this thread changes: the system calls are made raw, not through the C
/// library, which would change every thread of the process.
pub struct AsUser {
    groups: Vec<libc::gid_t>,
    egid: libc::gid_t,
}

impl AsUser {
    pub fn enter(uid: u32, gid: u32) -> std::io::Result<AsUser> {
        let groups =
            nix::unistd::getgroups().map_err(std::io::Error::from)?.into_iter().map(|g| g.as_raw()).collect::<Vec<_>>();
        let egid = nix::unistd::getegid().as_raw();
        let one = [gid];
        // SAFETY: raw system calls that change only this thread's
        // credentials; `one` outlives the call that reads it.
        let ok = unsafe {
            libc::syscall(libc::SYS_setgroups, 1i64, one.as_ptr()) == 0
                && libc::syscall(libc::SYS_setresgid, -1i64, gid as i64, -1i64) == 0
                && libc::syscall(libc::SYS_setresuid, -1i64, uid as i64, -1i64) == 0
        };
        let as_user = AsUser { groups, egid };
        if ok { Ok(as_user) } else { Err(std::io::Error::last_os_error()) }
    }
}

impl Drop for AsUser {
    fn drop(&mut self) {
        // SAFETY: as in `enter`; root again first (the saved id is 0), which
        // gives back the capabilities that the group calls need.
        unsafe {
            libc::syscall(libc::SYS_setresuid, -1i64, 0i64, -1i64);
            libc::syscall(libc::SYS_setresgid, -1i64, self.egid as i64, -1i64);
            libc::syscall(libc::SYS_setgroups, self.groups.len() as i64, self.groups.as_ptr());
        }
    }
}

/// Runs `f` with this thread allowed past permission bits on IPC objects
/// (`CAP_DAC_OVERRIDE`, `CAP_IPC_OWNER`), where it acts as a check's user
/// ([`AsUser`]): for looking at a queue or a segment a program under test
/// made with a mode that shuts out even its owner, which a check must
/// still see to explain. Only for objects named without a path (a queue,
/// a key): no link can lead the call elsewhere. Elsewhere it just runs `f`.
pub fn overriding<T>(f: impl FnOnce() -> T) -> T {
    const DAC_OVERRIDE: u32 = 1 << 1;
    const IPC_OWNER: u32 = 1 << 15;
    let Some(before) = capabilities() else { return f() };
    let wanted = (DAC_OVERRIDE | IPC_OWNER) & before[0].permitted;
    if wanted & !before[0].effective == 0 {
        return f();
    }
    let mut raised = before;
    raised[0].effective |= wanted;
    set_capabilities(&raised);
    let out = f();
    set_capabilities(&before);
    out
}

/// `struct __user_cap_header_struct` of capget(2).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

/// `struct __user_cap_data_struct` of capget(2): two of them, for the low
/// and high 32 capabilities.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_VERSION_3: u32 = 0x2008_0522;

/// This thread's capabilities.
fn capabilities() -> Option<[CapData; 2]> {
    let mut header = CapHeader { version: CAP_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget(2) reads the header and writes two data structs, both
    // alive and of the sizes the version names.
    let done = unsafe { libc::syscall(libc::SYS_capget, &mut header as *mut CapHeader, data.as_mut_ptr()) };
    (done == 0).then_some(data)
}

/// Sets this thread's capabilities (within what it is permitted).
fn set_capabilities(data: &[CapData; 2]) {
    let mut header = CapHeader { version: CAP_VERSION_3, pid: 0 };
    // SAFETY: capset(2) reads the header and two data structs, all alive;
    // pid 0 is this thread.
    unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut CapHeader, data.as_ptr()) };
}
