//! System V shared-memory segments: listing them, the key files that name
//! a check's segments, and the leak check after every check.
//!
//! A segment is named by a number, its key, not by a path under the run's
//! prefix, so the POSIX leak check (`leaks.rs`) cannot see it. Instead:
//!
//! - **Key files.** A check gets its keys from [`Ctx::sysv_key_file`]: a file
//!   in its own folder whose `ftok` key is *claimed*. `ftok` keeps only 16
//!   bits of the file's inode, so two files can give one key; a key is
//!   claimed only if no segment of that key exists and an exclusive `flock`
//!   on `/tmp/ipc-labs-sysv-keys/KEY` is free. The lock is what keeps
//!   concurrent checks of one grader and two graders on one machine apart;
//!   it is held until the check's segments are removed.
//! - **After each check** ([`after_check`]): a segment of one of the check's
//!   keys is the one the contract names; it is removed without blame. Any
//!   other segment created during the check by one of the processes the
//!   check started (its `cpid`) is a leak: it fails the check and is
//!   removed (an `IPC_PRIVATE` segment made by mistake is one).
//! - **At the end of the run** ([`end_of_run`]): a process that escaped its
//!   check may have created a segment of that check's key after the scan;
//!   every key the run used is looked at again once all its processes are
//!   gone, and a segment of it made since the key was claimed, whose key
//!   no other grader holds, is removed.
//!
//! Segments are listed from `/proc/sysvipc/shm` (Linux); where it is
//! missing, nothing is found and nothing is removed.
//!
//! A check with an IPC namespace of its own (`sandbox::namespace`) sees no
//! other check's segments: its keys need no lock, and everything it
//! leaves goes with the namespace.

use std::collections::HashSet;
use std::ffi::CString;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use nix::fcntl::{Flock, FlockArg, OFlag};
use nix::sys::stat::Mode;

use crate::check::Fail;
use crate::ctx::Ctx;

/// Where the key locks live: one file per claimed key, shared by every
/// grader on the machine (sticky and world-writable, like /tmp).
const LOCK_DIR: &str = "/tmp/ipc-labs-sysv-keys";

/// How many key files a check tries before it gives up on finding a free key.
const KEY_TRIES: usize = 256;

/// `SHM_DEST` in a segment's mode: removed, gone once the last process detaches.
const SHM_DEST: u32 = 0o1000;

/// One segment, as `/proc/sysvipc/shm` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub key: libc::key_t,
    pub id: i32,
    /// Permission bits (low 9) and state bits such as `SHM_DEST`.
    pub mode: u32,
    pub size: u64,
    /// The process that created it.
    pub cpid: i32,
    /// Last change, seconds since the epoch (its creation, unless changed since).
    pub ctime: i64,
}

impl Segment {
    /// How a report names it.
    pub fn describe(&self) -> String {
        let key = if self.key == libc::IPC_PRIVATE { "IPC_PRIVATE".to_string() } else { format!("{:#010x}", self.key) };
        format!("the System V segment of key {key} (id {}, {} bytes, created by pid {})", self.id, self.size, self.cpid)
    }
}

/// Every segment of this IPC namespace.
pub fn segments() -> Vec<Segment> {
    std::fs::read_to_string("/proc/sysvipc/shm").map(|text| parse_segments(&text)).unwrap_or_default()
}

/// The table of `/proc/sysvipc/shm`: a header line, then `key shmid perms
/// size cpid lpid nattch uid gid cuid cgid atime dtime ctime ...`.
fn parse_segments(text: &str) -> Vec<Segment> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            Some(Segment {
                key: f.first()?.parse().ok()?,
                id: f.get(1)?.parse().ok()?,
                mode: u32::from_str_radix(f.get(2)?, 8).ok()?,
                size: f.get(3)?.parse().ok()?,
                cpid: f.get(4)?.parse().ok()?,
                ctime: f.get(13)?.parse().ok()?,
            })
        })
        .collect()
}

/// The segment of `key`, if there is one (and it is not being removed).
pub fn segment_of(key: libc::key_t) -> Option<Segment> {
    segments().into_iter().find(|s| s.key == key && s.mode & SHM_DEST == 0)
}

/// Segments created by process `pid` (not being removed).
pub fn created_by(pid: i32) -> Vec<Segment> {
    segments().into_iter().filter(|s| s.cpid == pid && s.mode & SHM_DEST == 0).collect()
}

/// Removes segment `id` (shmctl `IPC_RMID`), ignoring one already gone.
pub fn remove(id: i32) {
    // SAFETY: IPC_RMID reads no buffer, so a null `buf` is allowed; the call
    // touches no memory of this process.
    let _ = unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
}

/// `ftok(path, proj)` (ftok(3)), with the errno as a failure.
pub fn ftok(path: &Path, proj: u8) -> std::io::Result<libc::key_t> {
    let cpath = CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: `cpath` is NUL-terminated and outlives the call, which only reads it.
    let key = unsafe { libc::ftok(cpath.as_ptr(), libc::c_int::from(proj)) };
    if key == -1 { Err(std::io::Error::last_os_error()) } else { Ok(key) }
}

/// A file in the check's folder whose `ftok(path, proj)` key is the
/// check's alone (see the module's documentation).
#[derive(Debug, Clone)]
pub struct KeyFile {
    /// The file, absolute.
    pub path: PathBuf,
    /// Its name in the check's folder (where programs run): what to pass
    /// on a command line.
    pub name: String,
    pub key: libc::key_t,
}

/// A claimed key: its lock (none in a private namespace), held until the
/// check's segments are removed.
struct Claim {
    key: libc::key_t,
    _lock: Option<KeyLock>,
}

/// The System V side of one check, made with its [`Ctx`].
pub struct CheckSegments {
    run: String,
    /// Ids of the segments that existed when the check began.
    before: HashSet<i32>,
    started: i64,
    claims: Vec<Claim>,
    /// The check has an IPC namespace of its own.
    private: bool,
}

impl CheckSegments {
    /// Notes the segments that exist as the check with this tag (`RUN:N`) begins.
    pub(crate) fn start(tag: &str, private: bool) -> CheckSegments {
        CheckSegments {
            run: run_of(tag).to_string(),
            before: segments().iter().map(|s| s.id).collect(),
            started: now_secs(),
            claims: Vec::new(),
            private,
        }
    }
}

fn run_of(tag: &str) -> &str {
    tag.rsplit_once(':').map_or(tag, |(run, _)| run)
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Keys each run has claimed, with when (for [`end_of_run`]).
static RUN_KEYS: Mutex<Vec<(String, libc::key_t, i64)>> = Mutex::new(Vec::new());

impl Ctx<'_> {
    /// A new, empty file `name` in the check's folder whose key
    /// `ftok(FILE, proj)` no segment has and no other check or grader uses;
    /// the segment of that key is removed after the check without blame.
    pub fn sysv_key_file(&mut self, name: &str, proj: u8) -> Result<KeyFile, Fail> {
        let path = self.path(name);
        for attempt in 0..KEY_TRIES {
            std::fs::write(&path, b"").map_err(Fail::infra)?;
            let key = ftok(&path, proj).map_err(|e| Fail::infra(format!("ftok({}): {e}", path.display())))?;
            let claimed = match self.sysv.private {
                true => segment_of(key).is_none().then_some(None),
                false => claim(key)?.map(Some),
            };
            if let Some(lock) = claimed {
                self.sysv.claims.push(Claim { key, _lock: lock });
                // A private namespace ends with its check: nothing to look
                // at after the run (and the machine's segments of the same
                // key are none of its business).
                if !self.sysv.private {
                    let run = self.sysv.run.clone();
                    RUN_KEYS.lock().unwrap_or_else(|e| e.into_inner()).push((run, key, now_secs()));
                }
                return Ok(KeyFile { path, name: name.to_string(), key });
            }
            // Keep the file (so the next one gets another inode), out of the way.
            let aside = self.path(&format!(".{name}.taken.{attempt}"));
            std::fs::rename(&path, aside).map_err(Fail::infra)?;
        }
        Err(Fail::infra(format!("no free System V key among {KEY_TRIES} key files (is {LOCK_DIR} usable?)")))
    }
}

/// Claims `key` if no segment has it and no one else holds it.
fn claim(key: libc::key_t) -> Result<Option<KeyLock>, Fail> {
    if segment_of(key).is_some() {
        return Ok(None);
    }
    let Some(lock) = KeyLock::try_lock(key)? else { return Ok(None) };
    // A segment may have appeared between the look and the lock.
    if segments().iter().any(|s| s.key == key) {
        return Ok(None);
    }
    Ok(Some(lock))
}

/// After a check (its processes all gone): removes the segments of its keys,
/// and removes and reports every other segment that one of its processes
/// created during it. Returns the reports, e.g. "the System V segment of
/// key IPC_PRIVATE (...)"; releases the check's keys.
pub fn after_check(ctx: &mut Ctx) -> Vec<String> {
    let sysv = &mut ctx.sysv;
    let ours: HashSet<libc::key_t> = sysv.claims.iter().map(|c| c.key).collect();
    let pids: HashSet<i32> = ctx.spawned.iter().map(|p| p.as_raw()).collect();
    let mut leaked = Vec::new();
    for segment in segments() {
        if ours.contains(&segment.key) {
            remove(segment.id);
            continue;
        }
        let made_here = !sysv.before.contains(&segment.id)
            && pids.contains(&segment.cpid)
            && segment.ctime + 1 >= sysv.started
            && segment.mode & SHM_DEST == 0;
        // A key someone else holds is another check's (the pid was reused).
        let theirs =
            || !sysv.private && segment.key != libc::IPC_PRIVATE && matches!(KeyLock::try_lock(segment.key), Ok(None));
        if made_here && !theirs() {
            remove(segment.id);
            // A check that gave key files expects their keys, ftok(FILE, 'R').
            let other_key = if ours.is_empty() {
                String::new()
            } else {
                ", a key that is not ftok(KEYFILE, 'R') of the check's key file: a program that computes another key \
                 (another project id, another file) makes a segment of its own, which outlives it"
                    .to_string()
            };
            leaked.push(format!("{}{other_key}", segment.describe()));
        }
    }
    sysv.claims.clear();
    leaked
}

/// At the end of run `run_id`, once all its processes are gone: removes a
/// segment of any key the run claimed, made since the claim, that no one
/// holds now (an escapee made it after its check's scan).
pub fn end_of_run(run_id: &str) {
    let keys: Vec<(libc::key_t, i64)> = {
        let mut all = RUN_KEYS.lock().unwrap_or_else(|e| e.into_inner());
        let (mine, others) = all.drain(..).partition(|(run, _, _)| run == run_id);
        *all = others;
        mine.into_iter().map(|(_, key, at)| (key, at)).collect()
    };
    if keys.is_empty() {
        return;
    }
    let now = segments();
    for (key, claimed_at) in keys {
        for segment in now.iter().filter(|s| s.key == key && s.ctime + 1 >= claimed_at) {
            if let Ok(Some(_lock)) = KeyLock::try_lock(key) {
                remove(segment.id);
            }
        }
    }
}

/// An exclusive `flock` on `LOCK_DIR/KEY`, released (and the file removed)
/// when dropped.
struct KeyLock {
    path: PathBuf,
    _lock: Flock<File>,
}

impl KeyLock {
    /// Takes the lock of `key` if it is free: `Ok(None)` if someone holds it.
    fn try_lock(key: libc::key_t) -> Result<Option<KeyLock>, Fail> {
        let dir = Path::new(LOCK_DIR);
        if !dir.is_dir() {
            match std::fs::create_dir(dir) {
                Ok(()) => {
                    let perms = std::os::unix::fs::PermissionsExt::from_mode(0o1777);
                    std::fs::set_permissions(dir, perms).map_err(|e| lock_fail(dir, e))?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(lock_fail(dir, e)),
            }
        }
        let path = dir.join(format!("{:08x}", key as u32));
        // A holder removes its file while it still holds the lock: a lock
        // taken on a file that is no longer at `path` is worth nothing, so
        // open again.
        for _ in 0..10 {
            let flags = OFlag::O_RDONLY | OFlag::O_CREAT | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW;
            let fd = nix::fcntl::open(&path, flags, Mode::from_bits_truncate(0o644))
                .map_err(|e| lock_fail(&path, std::io::Error::from(e)))?;
            let file = File::from(fd);
            let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => lock,
                Err((_, nix::errno::Errno::EWOULDBLOCK)) => return Ok(None),
                Err((_, e)) => return Err(lock_fail(&path, std::io::Error::from(e))),
            };
            let same = match (std::fs::metadata(&path), lock.metadata()) {
                (Ok(at_path), Ok(locked)) => at_path.ino() == locked.ino() && at_path.dev() == locked.dev(),
                _ => false,
            };
            if same {
                return Ok(Some(KeyLock { path, _lock: lock }));
            }
        }
        Ok(None)
    }
}

impl Drop for KeyLock {
    fn drop(&mut self) {
        // Still locked here: whoever opens the path next gets a new file.
        let _ = std::fs::remove_file(&self.path);
    }
}

fn lock_fail(path: &Path, e: std::io::Error) -> Fail {
    Fail::infra(format!("cannot use the System V key lock {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_table_is_parsed() {
        let text = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n\
                    1376309511          7   644                  1024  4242  4243      0     0     0     0     0 1700000001 1700000002 1700000000                  4096                     0\n\
                             0          8  1600                   512    10    10      1     0     0     0     0          0          0 1700000005                     0                     0\n";
        let got = parse_segments(text);
        assert_eq!(
            got,
            vec![
                Segment { key: 1376309511, id: 7, mode: 0o644, size: 1024, cpid: 4242, ctime: 1700000000 },
                Segment { key: 0, id: 8, mode: 0o1600, size: 512, cpid: 10, ctime: 1700000005 },
            ]
        );
    }

    #[test]
    fn a_held_key_is_not_claimed_twice() {
        // A key no grader uses in practice (project id 0xfe).
        let key = 0xfe00_0001_u32 as libc::key_t;
        let first = KeyLock::try_lock(key).unwrap().expect("a free key");
        assert!(KeyLock::try_lock(key).unwrap().is_none(), "the lock is exclusive within one process too");
        drop(first);
        assert!(KeyLock::try_lock(key).unwrap().is_some(), "free again once released");
    }
}
