//! Tests of `remove.rs`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::proc::{self, Exit, Spec};

/// A scratch folder, kept (removed at the end by the remover under test).
fn scratch() -> PathBuf {
    tempfile::Builder::new().prefix("ipc-remove-test-").tempdir().unwrap().keep()
}

/// A scratch folder in memory (/dev/shm) where there is one: making
/// tens of thousands of entries on a disk takes a minute on a loaded
/// machine, in memory a second.
fn scratch_in_memory() -> PathBuf {
    match tempfile::Builder::new().prefix("ipc-remove-test-").tempdir_in("/dev/shm") {
        Ok(dir) => dir.keep(),
        Err(_) => scratch(),
    }
}

fn create(at: &impl AsFd, name: &[u8]) {
    let flags = OFlag::O_CREAT | OFlag::O_WRONLY | OFlag::O_CLOEXEC;
    openat(at, cstring(name).as_c_str(), flags, Mode::S_IRUSR | Mode::S_IWUSR).unwrap();
}

/// A chain of folders `d` `depth` deep in `dir`, made through
/// descriptors (no path grows), with a file at the bottom.
fn chain(dir: &Path, depth: usize) {
    let mut fd = nix::fcntl::open(dir, dir_flags(), Mode::empty()).unwrap();
    for _ in 0..depth {
        nix::sys::stat::mkdirat(&fd, "d", Mode::S_IRWXU).unwrap();
        fd = openat(&fd, "d", dir_flags(), Mode::empty()).unwrap();
    }
    create(&fd, b"bottom");
}

/// Runs `command` (through the reaper); whether it exited 0.
fn run(command: &str, args: &[&str]) -> bool {
    let out = proc::output(Spec::new(command, args.iter().copied(), "/"), Duration::from_secs(10));
    out.is_ok_and(|o| o.exit == Some(Exit::Code(0)))
}

/// A chain of 30,000 folders goes, on a thread with a stack of 128 KiB
/// (std's remove_dir_all needs a frame and a descriptor per level).
#[test]
fn a_chain_30000_deep_is_removed_on_a_small_stack() {
    let dir = scratch_in_memory();
    let top = dir.join("check");
    std::fs::create_dir(&top).unwrap();
    chain(&top, 30_000);
    let removing = top.clone();
    let removal = std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(move || tree_within(&removing, Instant::now() + Duration::from_secs(300), MAX_ENTRIES))
        .unwrap()
        .join()
        .expect("the remover's thread ended normally");
    assert!(removal.leftovers.is_empty(), "{:?}", removal.leftovers);
    assert_eq!(removal.removed, 30_000 + 2, "every folder, the file at the bottom and the folder itself");
    assert!(!top.exists());
    assert!(tree(&dir).is_empty());
}

/// Folders whose mode keeps even their owner out (000, read-only) are
/// opened up and removed.
#[test]
fn folders_without_permissions_are_removed() {
    let dir = scratch();
    let closed = dir.join("closed");
    std::fs::create_dir_all(closed.join("inner")).unwrap();
    std::fs::write(closed.join("inner/file"), "x").unwrap();
    std::fs::write(closed.join("file"), "x").unwrap();
    let read_only = dir.join("read-only");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::write(read_only.join("file"), "x").unwrap();
    for (path, mode) in [(closed.join("inner"), 0o000), (closed.clone(), 0o000), (read_only, 0o555)] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    let removal = tree_within(&dir, Instant::now() + Duration::from_secs(60), MAX_ENTRIES);
    assert!(removal.leftovers.is_empty(), "{:?}", removal.leftovers);
    assert!(!dir.exists());
}

/// FIFOs, sockets, links (to files and folders outside, to themselves)
/// and names of any bytes go; what links point to is never touched.
#[test]
fn special_files_links_and_odd_names_are_removed_and_links_not_followed() {
    let dir = scratch();
    let outside = scratch();
    std::fs::write(outside.join("keep"), "kept").unwrap();
    let top = dir.join("check");
    std::fs::create_dir(&top).unwrap();
    nix::unistd::mkfifo(&top.join("fifo"), Mode::S_IRUSR | Mode::S_IWUSR).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(top.join("socket")).unwrap();
    std::os::unix::fs::symlink(&outside, top.join("to-a-folder")).unwrap();
    std::os::unix::fs::symlink(outside.join("keep"), top.join("to-a-file")).unwrap();
    std::os::unix::fs::symlink("itself", top.join("itself")).unwrap();
    std::fs::hard_link(outside.join("keep"), top.join("hard-link")).unwrap();
    let odd: [&[u8]; 7] = [b"\xff\xfe", b"new\nline", b"-rf", b" ", b"\x1b[2J", b"..." as &[u8], b"a\\b"];
    for name in odd {
        let path = top.join(OsStr::from_bytes(name));
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join(OsStr::from_bytes(name)), "x").unwrap();
        std::os::unix::fs::symlink("/", path.join("root")).unwrap();
    }
    let removal = tree_within(&top, Instant::now() + Duration::from_secs(60), MAX_ENTRIES);
    assert!(removal.leftovers.is_empty(), "{:?}", removal.leftovers);
    assert!(!top.exists());
    assert_eq!(std::fs::read_to_string(outside.join("keep")).unwrap(), "kept");
    assert!(tree(&outside).is_empty() && tree(&dir).is_empty());
}

/// A removal bounded by its entries stops there, says so, and leaves
/// the rest; a missing folder is nothing to remove.
#[test]
fn a_bounded_removal_says_what_it_left() {
    let dir = scratch();
    let fd = nix::fcntl::open(&dir, dir_flags(), Mode::empty()).unwrap();
    for i in 0..100 {
        create(&fd, format!("f{i}").as_bytes());
    }
    let removal = tree_within(&dir, Instant::now() + Duration::from_secs(60), 10);
    assert_eq!(removal.removed, 10);
    assert!(
        removal.leftovers.len() == 1 && removal.leftovers[0].contains("stopped after 10 entries"),
        "{:?}",
        removal.leftovers
    );
    assert!(dir.exists());
    assert!(tree(&dir).is_empty());
    assert!(tree(&dir).is_empty(), "a folder that is gone is no leftover");
}

/// 100,000 files and folders go in a few seconds, and a folder of
/// 5,000 folders (more than one look collects) is read a few times.
#[test]
fn a_hundred_thousand_entries_go_quickly() {
    let dir = scratch_in_memory();
    let top = nix::fcntl::open(&dir, dir_flags(), Mode::empty()).unwrap();
    for e in 0..5000 {
        nix::sys::stat::mkdirat(&top, format!("e{e}").as_str(), Mode::S_IRWXU).unwrap();
    }
    for d in 0..100 {
        let name = format!("d{d}");
        nix::sys::stat::mkdirat(&top, name.as_str(), Mode::S_IRWXU).unwrap();
        let sub = openat(&top, name.as_str(), dir_flags(), Mode::empty()).unwrap();
        for f in 0..999 {
            create(&sub, format!("f{f}").as_bytes());
        }
    }
    let started = Instant::now();
    let removal = tree_within(&dir, Instant::now() + Duration::from_secs(120), MAX_ENTRIES);
    assert!(removal.leftovers.is_empty(), "{:?}", removal.leftovers);
    assert_eq!(removal.removed, 105_001);
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
}

/// A million entries (1000 folders of 999 files), in memory: by hand,
/// `cargo test -p ipc-engine -- --ignored a_million`.
#[test]
#[ignore = "a million entries: run by hand"]
fn a_million_entries_go() {
    let dir = scratch_in_memory();
    let top = nix::fcntl::open(&dir, dir_flags(), Mode::empty()).unwrap();
    for d in 0..1000 {
        let name = format!("d{d}");
        nix::sys::stat::mkdirat(&top, name.as_str(), Mode::S_IRWXU).unwrap();
        let sub = openat(&top, name.as_str(), dir_flags(), Mode::empty()).unwrap();
        for f in 0..999 {
            create(&sub, format!("f{f}").as_bytes());
        }
    }
    let started = Instant::now();
    let removal = tree_within(&dir, Instant::now() + TIME_LIMIT, MAX_ENTRIES);
    eprintln!("{} entries removed in {:?}", removal.removed, started.elapsed());
    assert!(removal.leftovers.is_empty(), "{:?}", removal.leftovers);
    assert_eq!(removal.removed, 1_000_001);
}

/// Unmounts a folder when dropped.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        run("umount", &[self.0.to_str().unwrap()]);
    }
}

/// A mount point (another file system, or a bind mount of this one) is
/// neither entered nor removed: it is described. Only where this test
/// may mount (root with the capability); elsewhere it says so and passes.
#[test]
fn mount_points_are_left_and_described() {
    let dir = scratch();
    let outside = scratch();
    std::fs::write(outside.join("keep"), "kept").unwrap();
    std::fs::create_dir_all(dir.join("a/tmpfs")).unwrap();
    std::fs::create_dir_all(dir.join("b/bound")).unwrap();
    if !run("mount", &["-t", "tmpfs", "ipc-remove-test", dir.join("a/tmpfs").to_str().unwrap()]) {
        eprintln!("cannot mount here: mount_points_are_left_and_described checks nothing");
        assert!(tree(&dir).is_empty() && tree(&outside).is_empty());
        return;
    }
    let tmpfs = Mounted(dir.join("a/tmpfs"));
    std::fs::write(tmpfs.0.join("inside"), "x").unwrap();
    assert!(run("mount", &["--bind", outside.to_str().unwrap(), dir.join("b/bound").to_str().unwrap()]));
    let bound = Mounted(dir.join("b/bound"));
    let removal = tree_within(&dir, Instant::now() + Duration::from_secs(60), MAX_ENTRIES);
    let text = removal.leftovers.join("\n");
    assert!(text.contains("`a/tmpfs`: a mount point"), "{text}");
    assert!(text.contains("`b/bound`: a mount point"), "{text}");
    assert!(tmpfs.0.join("inside").exists() && outside.join("keep").exists(), "a mount point was entered");
    drop((tmpfs, bound));
    assert!(tree(&dir).is_empty() && tree(&outside).is_empty());
}

/// An immutable file is described, and everything else goes. Only
/// where `chattr +i` works (root, a file system that has the flag).
#[test]
fn an_immutable_file_is_left_and_described() {
    let dir = scratch();
    std::fs::create_dir(dir.join("sub")).unwrap();
    let file = dir.join("sub/immutable");
    std::fs::write(&file, "x").unwrap();
    std::fs::write(dir.join("other"), "x").unwrap();
    if !run("chattr", &["+i", file.to_str().unwrap()]) {
        eprintln!("cannot make a file immutable here: an_immutable_file_is_left_and_described checks nothing");
        assert!(tree(&dir).is_empty());
        return;
    }
    let removal = tree_within(&dir, Instant::now() + Duration::from_secs(60), MAX_ENTRIES);
    assert_eq!(removal.leftovers.len(), 1, "{:?}", removal.leftovers);
    assert!(removal.leftovers[0].starts_with("`sub/immutable`: it cannot be removed"), "{:?}", removal.leftovers);
    assert!(file.exists() && !dir.join("other").exists());
    assert!(run("chattr", &["-i", file.to_str().unwrap()]));
    assert!(tree(&dir).is_empty());
}
