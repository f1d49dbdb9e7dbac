//! Removing a check's folder, whatever a program left in it.
//!
//! std's `remove_dir_all` recurses on the stack, one frame and one open
//! descriptor per level: a chain of 30,000 folders that a program built in
//! its check folder overflows the stack, and the whole grader aborts (in
//! batch grading, nobody gets a grade). [`tree`] instead:
//!
//! - keeps its own stack on the heap (per level a name, a device and an
//!   inode) and holds two descriptors at a time: it goes down with
//!   `openat(NAME)` and back up with `openat("..")`, checking that `..` is
//!   the folder it came from (device and inode);
//! - never follows a symbolic link (`O_NOFOLLOW`; `unlinkat` removes the
//!   link itself) and never enters another file system or mount point
//!   (`openat2` with `RESOLVE_NO_XDEV` where the kernel has it, and the
//!   device compared with the folder's own);
//! - gives itself the permissions it needs: a folder made `000` or
//!   read-only gets `u+rwx` (it runs as the owner, or as root);
//! - removes FIFOs, sockets, device files and links like files, whatever
//!   bytes their names hold;
//! - is bounded: it stops at a deadline or a number of entries;
//! - never fails: what it cannot remove (an immutable file, a mount point,
//!   what is left at the bound) comes back as a description, which the
//!   runner turns into a note of the check ([`after_check`]).

use std::collections::HashSet;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::dir::{Dir, Type};
use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fchmod, fstat, fstatat};
use nix::unistd::{UnlinkatFlags, unlinkat};

use crate::check::{Fail, Kind};

/// How long removing one check's folder may take.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);

/// How many entries one removal removes at most.
pub const MAX_ENTRIES: u64 = 20_000_000;

/// What [`tree_within`] did.
#[derive(Debug, Default)]
pub struct Removal {
    /// Entries removed (files, links, folders and the rest).
    pub removed: u64,
    /// What could not be removed, one sentence each (paths relative to the
    /// folder, escaped); empty when the folder is gone.
    pub leftovers: Vec<String>,
}

/// Removes the folder `path` and everything in it, within [`TIME_LIMIT`]
/// and [`MAX_ENTRIES`]. Returns what it could not remove (empty: all gone;
/// a folder that does not exist is no leftover).
pub fn tree(path: &Path) -> Vec<String> {
    tree_within(path, Instant::now() + TIME_LIMIT, MAX_ENTRIES).leftovers
}

/// As [`tree`], stopping at `deadline` or after `max_entries` entries.
pub fn tree_within(path: &Path, deadline: Instant, max_entries: u64) -> Removal {
    let mut removal = Removal::default();
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        removal.leftovers.push(format!("{}: not a folder that can be removed", path.display()));
        return removal;
    };
    let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
    let parent = match nix::fcntl::open(parent, dir_flags(), Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return removal,
        Err(e) => {
            removal.leftovers.push(format!("{}: its parent folder cannot be opened: {}", path.display(), e.desc()));
            return removal;
        }
    };
    let mut walk = Walk { removal, deadline, max_entries, checked: 0, stopped: false };
    walk.run(&parent, name.as_bytes());
    walk.removal
}

/// One folder on the way down: its name in its parent, its identity, the
/// folders found in it still to go into, and the names in it that could
/// not be removed (not tried again).
struct Level {
    name: Vec<u8>,
    dev: u64,
    ino: u64,
    pending: Vec<Vec<u8>>,
    skip: HashSet<Vec<u8>>,
}

impl Level {
    fn new(name: Vec<u8>, st: &FileStat) -> Level {
        Level { name, dev: st.st_dev, ino: st.st_ino, pending: Vec::new(), skip: HashSet::new() }
    }
}

/// Folders one look into a folder collects at most: a folder of a million
/// folders is read a few hundred times, not a million (reading starts
/// over after each descent, for a descriptor is kept only for the folder
/// being emptied and its parent).
const BATCH: usize = 4096;

struct Walk {
    removal: Removal,
    deadline: Instant,
    max_entries: u64,
    /// Entries looked at since the clock was last read.
    checked: u32,
    stopped: bool,
}

fn dir_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

fn cstring(name: &[u8]) -> CString {
    // A name read from a folder holds no NUL byte.
    CString::new(name).unwrap_or_default()
}

impl Walk {
    fn run(&mut self, parent: &OwnedFd, root_name: &[u8]) {
        let root = match open_folder(parent, root_name, None) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return,
            Err(e) => {
                self.left(&[], Some(root_name), &format!("the folder cannot be opened: {}", e.desc()));
                return;
            }
        };
        let Ok(root_stat) = fstat(&root) else {
            self.left(&[], None, "the folder cannot be examined");
            return;
        };
        let dev = root_stat.st_dev;
        let mut stack = vec![Level::new(root_name.to_vec(), &root_stat)];
        let mut current = root;
        make_usable(&current);
        loop {
            let top = stack.last_mut().expect("the stack holds the folder being emptied");
            let next = match top.pending.pop() {
                Some(name) => Some(name),
                None => {
                    self.scan(&current, &mut stack);
                    if self.stopped {
                        let at = self.path_of(&stack, None);
                        self.removal.leftovers.push(format!(
                            "the removal stopped after {} entries ({}): the rest of {} is left",
                            self.removal.removed,
                            if Instant::now() >= self.deadline { "out of time" } else { "too many entries" },
                            at
                        ));
                        return;
                    }
                    stack.last_mut().expect("a folder").pending.pop()
                }
            };
            match next {
                Some(name) => match open_folder(&current, &name, Some(dev)) {
                    Ok(child) => {
                        let Ok(st) = fstat(&child) else {
                            self.skip(&mut stack, &name, "it cannot be examined");
                            continue;
                        };
                        stack.push(Level::new(name, &st));
                        current = child;
                        make_usable(&current);
                    }
                    // Gone since the look (a process still running).
                    Err(Errno::ENOENT) => {}
                    // Replaced by something else since the look.
                    Err(Errno::ENOTDIR | Errno::ELOOP) => {
                        if !self.unlink(&current, &name) {
                            self.skip(&mut stack, &name, "it changes between a folder and something else");
                        }
                    }
                    Err(Errno::EXDEV) => {
                        self.skip(&mut stack, &name, "a mount point (another file system), left as it is");
                    }
                    Err(e) => self.skip(&mut stack, &name, &format!("it cannot be opened: {}", e.desc())),
                },
                None => {
                    // Emptied, but for what could not be removed: go up.
                    let done = stack.pop().expect("the stack holds the folder being emptied");
                    if stack.is_empty() {
                        drop(current);
                        if done.skip.is_empty() {
                            self.rmdir(parent, &[], &done.name);
                        }
                        return;
                    }
                    let up = match openat(&current, "..", dir_flags(), Mode::empty()) {
                        Ok(up) => up,
                        Err(e) => {
                            let at = self.path_of(&stack, Some(&done.name));
                            self.removal.leftovers.push(format!("{at}: its parent cannot be reopened: {}", e.desc()));
                            return;
                        }
                    };
                    let parent_level = stack.last().expect("not the folder itself");
                    if !fstat(&up).is_ok_and(|st| st.st_dev == parent_level.dev && st.st_ino == parent_level.ino) {
                        let at = self.path_of(&stack, Some(&done.name));
                        self.removal.leftovers.push(format!(
                            "{at}: it was moved while it was removed (its `..` is no longer the folder above it): \
                             the removal stopped there"
                        ));
                        return;
                    }
                    current = up;
                    if done.skip.is_empty() {
                        if let Err(why) = self.rmdir_quiet(&current, &done.name) {
                            self.skip(&mut stack, &done.name, &why);
                        }
                    } else {
                        stack.last_mut().expect("not the folder itself").skip.insert(done.name);
                    }
                }
            }
        }
    }

    /// Removes every entry of `folder` (the top of `stack`) that is no
    /// folder, and collects up to [`BATCH`] folders in it to go into.
    /// Entries that cannot be removed are described and skipped from then on.
    fn scan(&mut self, folder: &OwnedFd, stack: &mut [Level]) {
        let mut dir = match openat(folder, ".", dir_flags(), Mode::empty()).and_then(Dir::from_fd) {
            Ok(dir) => dir,
            Err(e) => {
                let at = self.path_of(stack, None);
                self.removal.leftovers.push(format!("{at}: it cannot be read: {}", e.desc()));
                // Marks the folder as holding something left.
                stack.last_mut().expect("a folder").skip.insert(Vec::new());
                return;
            }
        };
        let mut retried_modes = false;
        let mut folders = Vec::new();
        for entry in dir.iter() {
            let Ok(entry) = entry else { break };
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." || stack.last().is_some_and(|l| l.skip.contains(name)) {
                continue;
            }
            if self.out_of_bounds() {
                return;
            }
            let is_folder = match entry.file_type() {
                Some(Type::Directory) => true,
                Some(_) => false,
                None => fstatat(folder, entry.file_name(), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW).is_ok_and(
                    |st: FileStat| (SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT) == SFlag::S_IFDIR,
                ),
            };
            let name = name.to_vec();
            if is_folder {
                folders.push(name);
                if folders.len() == BATCH {
                    break;
                }
                continue;
            }
            match unlinkat(folder, cstring(&name).as_c_str(), UnlinkatFlags::NoRemoveDir) {
                Ok(()) => self.removal.removed += 1,
                Err(Errno::ENOENT) => {}
                Err(Errno::EISDIR) => folders.push(name),
                Err(Errno::EACCES | Errno::EPERM) if !retried_modes => {
                    retried_modes = true;
                    make_usable(folder);
                    match unlinkat(folder, cstring(&name).as_c_str(), UnlinkatFlags::NoRemoveDir) {
                        Ok(()) => self.removal.removed += 1,
                        Err(e) => self.skip(stack, &name, &unremovable(e)),
                    }
                }
                Err(e) => self.skip(stack, &name, &unremovable(e)),
            }
        }
        stack.last_mut().expect("a folder").pending = folders;
    }

    /// Whether the deadline or the entry count is reached (the clock is
    /// read every 256 entries).
    fn out_of_bounds(&mut self) -> bool {
        self.checked += 1;
        if self.removal.removed >= self.max_entries || (self.checked % 256 == 0 && Instant::now() >= self.deadline) {
            self.stopped = true;
        }
        self.stopped
    }

    fn unlink(&mut self, folder: &OwnedFd, name: &[u8]) -> bool {
        let ok = unlinkat(folder, cstring(name).as_c_str(), UnlinkatFlags::NoRemoveDir).is_ok();
        self.removal.removed += u64::from(ok);
        ok
    }

    fn rmdir_quiet(&mut self, parent: &OwnedFd, name: &[u8]) -> Result<(), String> {
        match unlinkat(parent, cstring(name).as_c_str(), UnlinkatFlags::RemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => {
                self.removal.removed += 1;
                Ok(())
            }
            // Something appeared in it since (a process still running):
            // the next look into its parent goes into it again.
            Err(Errno::ENOTEMPTY | Errno::EEXIST) => Ok(()),
            Err(e) => Err(unremovable(e)),
        }
    }

    fn rmdir(&mut self, parent: &OwnedFd, stack: &[Level], name: &[u8]) {
        if let Err(why) = self.rmdir_quiet(parent, name) {
            self.left(stack, Some(name), &why);
        }
    }

    /// Describes `name` in the current folder as left, and skips it from now on.
    fn skip(&mut self, stack: &mut [Level], name: &[u8], why: &str) {
        self.left(stack, Some(name), why);
        if let Some(level) = stack.last_mut() {
            level.skip.insert(name.to_vec());
        }
    }

    fn left(&mut self, stack: &[Level], name: Option<&[u8]>, why: &str) {
        let at = self.path_of(stack, name);
        self.removal.leftovers.push(format!("{at}: {why}"));
    }

    /// The path of `name` in the folder at the top of `stack`, relative to
    /// the folder being removed (which is `.`), escaped; a deep one shows
    /// its first and last components and how many lie between.
    fn path_of(&self, stack: &[Level], name: Option<&[u8]>) -> String {
        let parts: Vec<&[u8]> = stack.iter().skip(1).map(|l| l.name.as_slice()).chain(name).collect();
        if parts.is_empty() {
            return "the folder".to_string();
        }
        let shown = |p: &[&[u8]]| p.iter().map(|c| crate::text::escape(c, true)).collect::<Vec<_>>().join("/");
        let path = if parts.len() > 8 {
            format!("{}/… ({} folders) …/{}", shown(&parts[..3]), parts.len() - 6, shown(&parts[parts.len() - 3..]))
        } else {
            shown(&parts)
        };
        format!("`{}`", crate::text::cut(&path, 300))
    }
}

/// Why `unlinkat` could not remove an entry, in words.
fn unremovable(e: Errno) -> String {
    match e {
        Errno::EPERM => "it cannot be removed: Operation not permitted (an immutable or append-only file?)".to_string(),
        Errno::EBUSY => "a mount point, left as it is".to_string(),
        e => format!("it cannot be removed: {}", e.desc()),
    }
}

/// Opens the folder `name` in `parent` without following a symbolic link
/// or crossing into another file system (`dev`: the device it must be on),
/// giving it `u+rwx` first if its mode keeps even its owner out.
fn open_folder(parent: &OwnedFd, name: &[u8], dev: Option<u64>) -> nix::Result<OwnedFd> {
    let name = cstring(name);
    let open = || -> nix::Result<OwnedFd> {
        let how = nix::fcntl::OpenHow::new().flags(dir_flags()).resolve(
            nix::fcntl::ResolveFlag::RESOLVE_NO_XDEV
                | nix::fcntl::ResolveFlag::RESOLVE_NO_SYMLINKS
                | nix::fcntl::ResolveFlag::RESOLVE_NO_MAGICLINKS,
        );
        match nix::fcntl::openat2(parent, &name[..], how) {
            Err(Errno::ENOSYS | Errno::EPERM) => openat(parent, &name[..], dir_flags(), Mode::empty()),
            other => other,
        }
    };
    let fd = match open() {
        Err(Errno::EACCES) => {
            // O_PATH needs no permission on the folder itself: give its
            // owner access through that descriptor (no name to follow).
            let path = openat(parent, &name[..], OFlag::O_PATH | dir_flags(), Mode::empty())?;
            nix::sys::stat::fchmodat(
                nix::fcntl::AT_FDCWD,
                format!("/proc/self/fd/{}", path.as_raw_fd()).as_str(),
                Mode::S_IRWXU,
                nix::sys::stat::FchmodatFlags::FollowSymlink,
            )?;
            open()?
        }
        other => other?,
    };
    if let Some(dev) = dev {
        if fstat(&fd)?.st_dev != dev {
            return Err(Errno::EXDEV);
        }
    }
    Ok(fd)
}

/// Gives the folder's owner read, write and search permission on it, if
/// it lacks any (a program may leave folders at `000` or `555`).
fn make_usable(folder: &impl AsFd) {
    if let Ok(st) = fstat(folder.as_fd()) {
        let mode = Mode::from_bits_truncate(st.st_mode);
        if !mode.contains(Mode::S_IRWXU) {
            let _ = fchmod(folder.as_fd(), mode | Mode::S_IRWXU);
        }
    }
}

/// A check's own folder: made fresh in the temporary directory, removed
/// with [`tree`] when the check is done ([`after_check`]), or when dropped.
pub struct CheckFolder {
    path: Option<PathBuf>,
}

impl CheckFolder {
    /// A new folder `ipc-grade-XXXXXX` in the temporary directory.
    pub fn new() -> std::io::Result<CheckFolder> {
        CheckFolder::named("ipc-grade-")
    }

    /// A new folder `PREFIXXXXXXX` in the temporary directory, removed the
    /// same way (a submission's build, whose scripts may leave anything).
    pub fn named(prefix: &str) -> std::io::Result<CheckFolder> {
        let path = tempfile::Builder::new().prefix(prefix).tempdir()?.keep();
        Ok(CheckFolder { path: Some(path) })
    }

    pub fn path(&self) -> &Path {
        self.path.as_deref().expect("removed only when consumed")
    }

    /// Removes the folder; returns what could not be removed.
    pub fn remove(mut self) -> Vec<String> {
        self.path.take().map(|p| tree(&p)).unwrap_or_default()
    }
}

impl Drop for CheckFolder {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = tree(&path);
        }
    }
}

/// A check's result once its folder is removed: whatever could not be
/// removed fails a check that passed (everything in the folder but the
/// check's own plain files was made by the programs it ran), and is noted
/// on one that failed. Never a crash, whatever the folder holds.
pub(crate) fn after_check(folder: CheckFolder, result: Result<(), Fail>) -> Result<(), Fail> {
    let shown = folder.path().display().to_string();
    let left = folder.remove();
    if left.is_empty() {
        return result;
    }
    let what = format!("the check's folder {} could not be removed entirely: {}", shown, left.join("; "));
    match result {
        Ok(()) => Err(Fail::new("the program left something in its folder that the grader cannot remove")
            .kind(Kind::Leak)
            .note(what)
            .note("leave only ordinary files and folders behind (no mount point, no immutable file)")),
        Err(fail) => Err(fail.note(what)),
    }
}

#[cfg(test)]
mod tests;
