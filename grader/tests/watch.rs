//! `cargo grade --watch` in a terminal: the grader runs on a
//! pseudo-terminal, as in tmux, watching a folder of executables (so that
//! nothing needs building). A save regrades within a second or two; a save
//! while a round hangs stops that round and everything it started; Ctrl-C
//! ends the watch with nothing left running, checked by PID.
//!
//! This test binary starts the grader with std's `Command` and waits for it
//! with `Child::try_wait`: it never uses the engine's spawn (and so its
//! reaper), so nothing else here waits for children.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The grader on a pseudo-terminal, and everything it has printed.
struct Terminal {
    child: Child,
    master: std::fs::File,
    screen: Arc<Mutex<String>>,
}

impl Terminal {
    fn start(args: &[&str]) -> Terminal {
        let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
        let slave: OwnedFd = pty.slave;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipc-grader"));
        cmd.args(args)
            .env_remove("NO_COLOR")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: between fork and exec the child only calls setsid and
        // ioctl, both async-signal-safe, on a descriptor it owns.
        unsafe {
            cmd.pre_exec(move || {
                nix::unistd::setsid()?;
                // The pseudo-terminal becomes the session's controlling
                // terminal, so that Ctrl-C typed into it sends SIGINT.
                if libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("the grader starts");
        let master = std::fs::File::from(pty.master);
        let screen = Arc::new(Mutex::new(String::new()));
        let mut reader = master.try_clone().unwrap();
        let seen = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Terminal { child, master, screen }
    }

    /// Waits until the output after byte `from` contains `text`; returns
    /// where it ends and how long it took.
    fn wait_for(&self, from: usize, text: &str, limit: Duration) -> (usize, Duration) {
        let start = Instant::now();
        loop {
            {
                let screen = self.screen.lock().unwrap();
                if let Some(at) = screen.get(from..).and_then(|s| s.find(text)) {
                    return (from + at + text.len(), start.elapsed());
                }
            }
            assert!(start.elapsed() < limit, "no `{text}` within {limit:?}; the screen:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn screen(&self) -> String {
        self.screen.lock().unwrap().clone()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Replaces `dir/name` with a script, atomically, as an editor saves.
fn save(dir: &Path, name: &str, body: &str) {
    let temporary = dir.join(format!(".{name}.new"));
    std::fs::write(&temporary, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&temporary, dir.join(name)).unwrap();
}

/// Whether a process is alive (a zombie counts as gone).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !matches!(stat.rsplit(')').next().and_then(|r| r.trim_start().chars().next()), Some('Z' | 'X')),
        Err(_) => false,
    }
}

/// Adds to `seen` every live process running `sleep MARKER` (the hanging
/// program: a program under test can write no file outside its check's
/// folder to say its pid).
fn note(marker: &str, seen: &mut std::collections::BTreeSet<i32>) {
    let wanted = format!("sleep {marker}");
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).replace('\0', " ").trim_end() == wanted && alive(pid) {
            seen.insert(pid);
        }
    }
}

/// Waits until every pid in `pids` is gone.
fn all_gone(pids: &[i32], limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if pids.iter().all(|&p| !alive(p)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

const GOOD: &str = "echo 'parent received: message for parent'; echo 'child exited with status 0'";

/// One watch session: a first round, a save that regrades within two
/// seconds, a save while a round hangs (the round and its program are
/// stopped, a new one starts), and Ctrl-C while a round hangs (the watch
/// ends, status 0, and neither the round nor its program is left).
#[test]
fn watch_regrades_on_save_and_ctrl_c_leaves_nothing_running() {
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let marker = format!("6{:05}", std::process::id() % 100_000);
    let hang = format!("exec sleep {marker}");
    let mut seen = std::collections::BTreeSet::new();
    save(&bin, "pipe-message", GOOD);
    let term = Terminal::start(&["--watch", "pipe::message-default", "--bin-dir", bin.to_str().unwrap()]);
    let watcher = term.child.id() as i32;

    let (at, _) = term.wait_for(0, "Watching the folder", Duration::from_secs(60));
    assert!(term.screen().contains("Score: 2/2"), "{}", term.screen());

    // A save regrades: the screen is cleared, a new round starts at once.
    save(&bin, "pipe-message", "echo wrong; exit 1");
    let (at, took) = term.wait_for(at, "(saved: pipe-message)", Duration::from_secs(10));
    // 0.2 s when the machine is quiet (debounce 0.2 s), 1.7 s seen at load 4 on 2 cores.
    assert!(took < Duration::from_secs(3), "the round started {took:?} after the save");
    eprintln!("a save started a new round after {took:?}");
    let (at, _) = term.wait_for(at, "Watching the folder", Duration::from_secs(30));
    let screen = term.screen();
    let round = &screen[screen[..at].rfind("\x1b[2J").expect("the screen was cleared")..at];
    assert!(round.contains("Score: 0/2"), "{round}");
    assert!(round.contains("where the contract asks for exit status"), "the first failure in full: {round}");
    assert!(round.contains("to reproduce by hand"), "with its commands: {round}");

    // A save while a round hangs stops it, with the program it started.
    save(&bin, "pipe-message", &hang);
    let (at, _) = term.wait_for(at, "(saved: pipe-message)", Duration::from_secs(10));
    let start = Instant::now();
    while {
        note(&marker, &mut seen);
        seen.is_empty()
    } {
        assert!(start.elapsed() < Duration::from_secs(10), "the hanging program never started: {}", term.screen());
        std::thread::sleep(Duration::from_millis(20));
    }
    let first: Vec<i32> = seen.iter().copied().collect();
    save(&bin, "pipe-message", GOOD);
    let (at, _) = term.wait_for(at, "(saved: pipe-message)", Duration::from_secs(10));
    assert!(all_gone(&first, Duration::from_secs(3)), "the stopped round's program {first:?} still runs");
    let (at, _) = term.wait_for(at, "Score: 2/2", Duration::from_secs(30));

    // Ctrl-C while a round hangs: the watch ends, and nothing is left.
    save(&bin, "pipe-message", &hang);
    let start = Instant::now();
    while {
        note(&marker, &mut seen);
        seen.len() == first.len()
    } {
        assert!(start.elapsed() < Duration::from_secs(10), "the hanging program never started: {}", term.screen());
        std::thread::sleep(Duration::from_millis(20));
    }
    let everything: Vec<i32> = seen.iter().copied().collect();
    let mut master = term.master.try_clone().unwrap();
    master.write_all(b"\x03").unwrap();
    term.wait_for(at, "Stopped watching", Duration::from_secs(10));
    let mut term = term;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = term.child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the watch did not exit after Ctrl-C");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{}", term.screen());
    assert!(all_gone(&everything, Duration::from_secs(2)), "programs still running after Ctrl-C: {everything:?}");
    // No process is left that the watch started: none has it, or a round,
    // as its parent, and none runs from the watched folder.
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| alive(pid))
        .filter_map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid: i32 = stat.rsplit(')').next()?.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == watcher || cmdline.contains(bin.to_str().unwrap())).then(|| format!("{pid}: {cmdline}"))
        })
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
}
