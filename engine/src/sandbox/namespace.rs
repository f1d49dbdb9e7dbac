//! A private IPC world for each check: its own IPC namespace (System V
//! segments, message queues) and its own `/dev/shm`.
//!
//! Namespaces belong to threads: the grading thread that runs a check
//! moves into new ones as the check begins ([`enter_private`]); what the
//! check's code does and every program it starts happen there, and
//! nothing of another check, another grader or the machine is seen. The
//! old ones disappear, with every object left in them, once the thread has
//! moved on and the check's processes are gone. (`/proc/self` names the
//! process's first thread: code that looks at its own namespace reads
//! `/proc/thread-self`.)

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};

/// Moves the calling thread into a new IPC namespace and a new mount
/// namespace, where `/dev/shm` is fresh and empty. Returns the root of the
/// new namespace's message-queue file system, mounted nowhere (the
/// sandbox grants its programs the queues through it, and the leak check
/// lists them through it). Needs `CAP_SYS_ADMIN`.
pub fn enter_private() -> std::io::Result<OwnedFd> {
    let fail = |what: &str, e: nix::Error| std::io::Error::other(format!("{what}: {e}"));
    // A new mount namespace for a thread needs its own file-system context
    // (root, cwd, umask), which CLONE_NEWNS unshares with it.
    unshare(CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_FS)
        .map_err(|e| fail("unshare(CLONE_NEWIPC | CLONE_NEWNS)", e))?;
    // Nothing mounted here reaches the machine's namespace.
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|e| fail("making / private", e))?;
    mount(Some("tmpfs"), "/dev/shm", Some("tmpfs"), MsFlags::MS_NOSUID | MsFlags::MS_NODEV, Some("mode=1777"))
        .map_err(|e| fail("mounting a tmpfs on /dev/shm", e))?;
    queues().map_err(|e| std::io::Error::other(format!("mounting this namespace's message queues: {e}")))
}

/// The root of the calling thread's IPC namespace's message-queue file
/// system, as a mount of its own attached nowhere (fsopen, fsmount).
fn queues() -> std::io::Result<OwnedFd> {
    const FSOPEN_CLOEXEC: libc::c_uint = 1;
    const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
    const FSMOUNT_CLOEXEC: libc::c_uint = 1;
    let check = |r: libc::c_long| if r < 0 { Err(std::io::Error::last_os_error()) } else { Ok(r) };
    // SAFETY: fsopen(2) reads the NUL-terminated name and returns a new
    // descriptor, owned here.
    let context = unsafe {
        OwnedFd::from_raw_fd(check(libc::syscall(libc::SYS_fsopen, c"mqueue".as_ptr(), FSOPEN_CLOEXEC))? as i32)
    };
    // SAFETY: fsconfig(2) with a command and no key or value.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            context.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })?;
    // SAFETY: fsmount(2) on the context above returns a new descriptor,
    // owned here.
    Ok(unsafe {
        OwnedFd::from_raw_fd(check(libc::syscall(libc::SYS_fsmount, context.as_raw_fd(), FSMOUNT_CLOEXEC, 0))? as i32)
    })
}

/// Whether `/dev/mqueue` is where this process's message queues are (the
/// way to grant them to a sandbox without a namespace of its own).
pub fn queues_mounted() -> bool {
    std::fs::read_to_string("/proc/thread-self/mounts")
        .map(|m| m.lines().any(|l| l.split(' ').nth(1) == Some("/dev/mqueue") && l.split(' ').nth(2) == Some("mqueue")))
        .unwrap_or(false)
}

/// Whether checks can have private namespaces here: tried in a thread of
/// its own (its namespaces end with it).
pub(super) fn available() -> bool {
    std::thread::spawn(|| enter_private().is_ok()).join().unwrap_or(false)
}

/// For a grader that is not root: moves this process into a user
/// namespace of its own, where it keeps its user and group ids (mapped to
/// themselves) and gains the capabilities that make a check's namespaces
/// ([`enter_private`]); the programs it starts lose them at `exec`. Tried
/// first in a child (a kernel or a security module may allow the user
/// namespace but not what follows): on any failure nothing changes, and
/// `sandbox::missing` says that checks share the user's IPC.
///
/// Call it first thing in `main`: a process with threads cannot change
/// its user namespace.
pub fn enter_own_user_namespace() -> bool {
    if nix::unistd::geteuid().is_root() {
        return false;
    }
    // SAFETY: the process is single-threaded here (the caller's contract),
    // so the child may do anything; it only makes system calls and exits.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Child) => {
            let ok = own_user_namespace().is_ok() && enter_private().is_ok();
            // SAFETY: _exit ends the child without running the parent's exit code.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            let tried = nix::sys::wait::waitpid(child, None);
            matches!(tried, Ok(nix::sys::wait::WaitStatus::Exited(_, 0))) && own_user_namespace().is_ok()
        }
        Err(_) => false,
    }
}

/// `unshare(CLONE_NEWUSER)`, and this process's ids mapped to themselves.
fn own_user_namespace() -> std::io::Result<()> {
    let (uid, gid) = (nix::unistd::getuid(), nix::unistd::getgid());
    unshare(CloneFlags::CLONE_NEWUSER).map_err(std::io::Error::from)?;
    std::fs::write("/proc/self/setgroups", "deny")?;
    std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    std::fs::write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    Ok(())
}
