//! What every program the grader starts gets before `exec`: its own process
//! group, default signal dispositions, an empty signal mask, only
//! descriptors 0-2, the seccomp filters (`sandbox::filter`), and what its
//! [`Confine`] adds: another user, a Landlock ruleset, bound folders.

use nix::sys::signal::{self, SigSet, SigmaskHow};
use nix::unistd::Pid;

use crate::sandbox::{Confine, Mount, filter};

/// Prepares the child between `fork` and `exec`, as the module says. An
/// error (a confinement that could not be applied) stops the spawn: a
/// program never runs less confined than it was meant to.
///
/// # Safety
///
/// Runs in the child of a fork: it makes only async-signal-safe calls
/// (setpgid, sigprocmask, signal, close_range, unshare, mount, the id
/// calls, prctl, landlock_restrict_self, seccomp) and allocates nothing:
/// `confine` and `filters` were built before the fork.
pub(super) unsafe fn in_child(
    confine: Option<&Confine>,
    filters: Option<&[seccompiler::BpfProgram]>,
) -> std::io::Result<()> {
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
    // among them (it is close-on-exec already), and the ruleset's
    // descriptor is used below.
    // SAFETY: close_range(2) on descriptors this process owns.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };
    if let Some(confine) = confine {
        if !confine.mounts.is_empty() {
            mount_all(&confine.mounts)?;
        }
        if let Some(mask) = confine.umask {
            // SAFETY: umask(2) only sets this process's mask.
            unsafe { libc::umask(mask as libc::mode_t) };
        }
        if let Some((uid, gid)) = confine.user {
            crate::sandbox::identity::take(uid, gid)?;
        }
    }
    // SAFETY: prctl(2) with PR_SET_NO_NEW_PRIVS changes only this process.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if let Some(rules) = confine.and_then(|c| c.rules.as_ref()) {
        // SAFETY: landlock_restrict_self(2) on a ruleset descriptor this
        // process holds; it restricts only this process and its children.
        if unsafe { libc::syscall(libc::SYS_landlock_restrict_self, rules.raw_fd(), 0u32) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    if let Some(filters) = filters {
        // The filters hold where the kernel has seccomp; `sandbox::missing`
        // says where it has not, and the hostile tests check that they hold.
        let _ = filter::install(filters);
    }
    Ok(())
}

/// Most binds one process may ask for.
const MAX_BINDS: usize = 8;

/// In a mount namespace of this process's own, makes `mounts` in order.
/// Bind sources are opened first (in the new namespace, which a bind
/// requires), so a tmpfs may then cover the paths they were opened by.
fn mount_all(mounts: &[Mount]) -> std::io::Result<()> {
    let check = |done: libc::c_int| if done == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) };
    let none = std::ptr::null::<libc::c_char>();
    let mut sources = [-1 as libc::c_int; MAX_BINDS];
    let mut opened = 0;
    // SAFETY: unshare(2), mount(2), open(2) and mkdir(2) with NUL-terminated
    // strings made before the fork or on this stack (or null where
    // allowed); they change only this process's view of the files (and
    // make folders in its own tmpfs).
    unsafe {
        check(libc::unshare(libc::CLONE_NEWNS))?;
        check(libc::mount(none, c"/".as_ptr(), none, libc::MS_REC | libc::MS_PRIVATE, std::ptr::null()))?;
        for step in mounts {
            if let Mount::Bind { source, .. } = step {
                if opened == MAX_BINDS {
                    return Err(std::io::Error::from_raw_os_error(libc::E2BIG));
                }
                let fd = libc::open(source.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                sources[opened] = fd;
                opened += 1;
            }
        }
        let mut next = 0;
        for step in mounts {
            match step {
                Mount::Tmpfs(target) => {
                    let flags = libc::MS_NOSUID | libc::MS_NODEV;
                    let options = c"mode=1777".as_ptr().cast();
                    check(libc::mount(c"tmpfs".as_ptr(), target.as_ptr(), c"tmpfs".as_ptr(), flags, options))?;
                }
                Mount::Folder(path) => check(libc::mkdir(path.as_ptr(), 0o755))?,
                Mount::Bind { target, read_only, .. } => {
                    let mut name = [0u8; 32];
                    let source = fd_path(sources[next], &mut name);
                    next += 1;
                    let flags = libc::MS_BIND | libc::MS_REC;
                    check(libc::mount(source, target.as_ptr(), none, flags, std::ptr::null()))?;
                    if *read_only {
                        let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
                        check(libc::mount(none, target.as_ptr(), none, flags, std::ptr::null()))?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// `/proc/self/fd/FD`, NUL-terminated, written into `buf` (no allocation:
/// this runs between fork and exec).
fn fd_path(fd: libc::c_int, buf: &mut [u8; 32]) -> *const libc::c_char {
    const PREFIX: &[u8] = b"/proc/self/fd/";
    buf[..PREFIX.len()].copy_from_slice(PREFIX);
    let mut digits = [0u8; 10];
    let (mut n, mut count) = (fd.unsigned_abs(), 0);
    loop {
        digits[count] = b'0' + (n % 10) as u8;
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..count {
        buf[PREFIX.len() + i] = digits[count - 1 - i];
    }
    buf[PREFIX.len() + count] = 0;
    buf.as_ptr().cast()
}
