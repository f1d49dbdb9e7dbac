//! Watching, from `/proc`, the grader's probes that a program under test
//! starts itself (a pipeline's stages): what each inherited (descriptors,
//! ignored and blocked signals) and whether it still runs.
//!
//! A report that a probe writes into a file, the program under test can
//! write too, without running any probe. What the kernel shows of a
//! process it cannot forge: a process counts as a probe only if it runs
//! the peers executable itself (`/proc/PID/exe`, compared by device and
//! inode) under the probe's name, and what the grader reports is what it
//! read in `/proc` while the probe waited (asleep reading its stdin, which
//! the check holds open).

use std::os::unix::fs::MetadataExt;

use nix::unistd::Pid;

use crate::proc::{self, procfs};

/// A process that runs one of the grader's probes, seen in `/proc`.
#[derive(Debug, Clone)]
pub struct Probe {
    pub pid: Pid,
    /// Its arguments after `argv[0]`.
    pub args: Vec<String>,
    /// When it started (clock ticks after boot): tells it from a later
    /// process that gets its pid.
    start: u64,
}

impl Probe {
    /// Whether it still runs (it has not ended, even as a zombie).
    pub fn running(&self) -> bool {
        start_time(self.pid).is_some_and(|(state, start)| start == self.start && !matches!(state, 'Z' | 'X'))
    }

    /// Whether it is asleep reading its stdin (descriptor 0), as a probe
    /// waits for the grader to look at it.
    pub fn waiting_on_stdin(&self) -> bool {
        matches!(
            procfs::thread_syscall(self.pid, self.pid),
            Some(procfs::InSyscall::Call { nr, args }) if nr == libc::SYS_read && args[0] == 0
        ) && self.running()
    }

    /// Its open descriptors and what each names; `None` if it ended.
    pub fn fds(&self) -> Option<Vec<(i32, String)>> {
        let fds = procfs::fds(self.pid);
        self.running().then_some(fds)
    }

    /// Its ignored and blocked signals (bit `n - 1` for signal `n`);
    /// `None` if it ended.
    pub fn signals(&self) -> Option<(u64, u64)> {
        let status = procfs::status(self.pid)?;
        let masks = (procfs::signal_mask(&status, "SigIgn:")?, procfs::signal_mask(&status, "SigBlk:")?);
        self.running().then_some(masks)
    }
}

/// Every live process that runs the peers executable (as the checks run
/// it) as `name`, among the descendants of `root` and the check's
/// processes (`members`: a stage that outlived its pipeline is re-parented
/// to the grader, and one whose environment was emptied is still a
/// descendant).
pub fn probes(root: Pid, members: &proc::Members, name: &str) -> Vec<Probe> {
    let Some(peers) = crate::sandbox::peers_for_checks().ok().and_then(|p| std::fs::metadata(p).ok()) else {
        return Vec::new();
    };
    let mut pids = descendants(root);
    pids.extend(proc::members(members).into_iter().map(|t| t.pid));
    pids.sort();
    pids.dedup();
    pids.into_iter()
        .filter_map(|pid| {
            let before = start_time(pid)?;
            let exe = std::fs::metadata(format!("/proc/{pid}/exe")).ok()?;
            if exe.dev() != peers.dev() || exe.ino() != peers.ino() {
                return None;
            }
            let argv = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let mut words = argv.split(|&b| b == 0).map(|w| String::from_utf8_lossy(w).into_owned());
            let arg0 = words.next()?;
            if arg0.rsplit('/').next() != Some(name) {
                return None;
            }
            let mut args: Vec<String> = words.collect();
            if args.last().is_some_and(String::is_empty) {
                args.pop();
            }
            // Still the process whose executable and arguments were read.
            let probe = Probe { pid, args, start: before.1 };
            probe.running().then_some(probe)
        })
        .collect()
}

/// Every descendant of `root` (children, their children, ...).
fn descendants(root: Pid) -> Vec<Pid> {
    let mut found = Vec::new();
    let mut next = vec![root];
    while let Some(pid) = next.pop() {
        for child in procfs::children(pid) {
            if !found.contains(&child) && found.len() < 10_000 {
                found.push(child);
                next.push(child);
            }
        }
    }
    found
}

/// A process's state and start time (`/proc/PID/stat` fields 3 and 22).
fn start_time(pid: Pid) -> Option<(char, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = text.get(text.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split(' ').collect();
    Some((fields.first()?.chars().next()?, fields.get(19)?.parse().ok()?))
}
