//! Reading `/proc`: one parser for `/proc/PID/stat`, and the few other
//! files the engine and the checks look at (status, environ, cmdline,
//! per-thread status and syscall).

use std::time::Duration;

use nix::unistd::Pid;

/// The fields of `/proc/PID/stat` (proc(5)) the grader uses.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    /// `R`, `S`, `D`, `Z`, `T`, ...
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    /// Clock ticks in user and in kernel mode.
    pub utime: u64,
    pub stime: u64,
}

/// `/proc/PID/stat`, parsed; `None` if the process is gone.
pub fn stat(pid: Pid) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<Stat> {
    // The command name may hold spaces and parentheses: the fields start
    // after the last ')'. Then: state (3), ppid (4), pgrp (5), ... utime
    // (14), stime (15), numbered as in proc(5).
    let rest = text.get(text.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split(' ').collect();
    Some(Stat {
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        pgrp: fields.get(2)?.parse().ok()?,
        utime: fields.get(11)?.parse().ok()?,
        stime: fields.get(12)?.parse().ok()?,
    })
}

/// The one-letter state of a process (`R`, `S`, `Z`, ...).
pub fn state(pid: Pid) -> Option<char> {
    stat(pid).map(|s| s.state)
}

/// CPU time (user + system) a live process has used.
pub fn cpu_time(pid: Pid) -> Option<Duration> {
    let s = stat(pid)?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_nanos((s.utime + s.stime) * 1_000_000_000 / ticks))
}

/// The value of `key` (e.g. `SigBlk:`) in a `status` file's text.
pub fn field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|l| l.strip_prefix(key)).map(str::trim)
}

/// `/proc/PID/status` as text.
pub fn status(pid: Pid) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/status")).ok()
}

/// A signal mask of a `status` file (`SigPnd:`, `ShdPnd:`, `SigBlk:`,
/// `SigCgt:`, ...) as bits: bit `n - 1` is signal `n`.
pub fn signal_mask(status: &str, key: &str) -> Option<u64> {
    u64::from_str_radix(field(status, key)?, 16).ok()
}

/// The threads of a process (`/proc/PID/task`).
pub fn threads(pid: Pid) -> Vec<Pid> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    dir.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).map(Pid::from_raw).collect()
}

/// Context switches of a live process, summed over its threads:
/// `(voluntary, involuntary)`. A thread switches voluntarily when it blocks
/// (sleeps, waits), involuntarily when it is preempted or yields while
/// still runnable. A busy-waiting process never blocks, however loaded the
/// machine.
pub fn context_switches(pid: Pid) -> Option<(u64, u64)> {
    let (mut voluntary, mut involuntary) = (0, 0);
    let threads = threads(pid);
    if threads.is_empty() {
        return None;
    }
    for tid in threads {
        // A thread that ended since the listing is skipped (its switches
        // are gone with it), not taken for the whole process having ended.
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")) else { continue };
        voluntary += field(&status, "voluntary_ctxt_switches:")?.parse::<u64>().ok()?;
        involuntary += field(&status, "nonvoluntary_ctxt_switches:")?.parse::<u64>().ok()?;
    }
    Some((voluntary, involuntary))
}

/// Whether the environment of `pid` holds exactly the entry `entry`
/// (`NAME=value`).
pub fn environ_has(pid: i32, entry: &[u8]) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else { return false };
    environ.split(|&b| b == 0).any(|e| e == entry)
}

/// Whether the environment of `pid` has a variable `name` (any value).
pub fn environ_has_var(pid: i32, name: &str) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else { return false };
    environ.split(|&b| b == 0).any(|e| e.len() > name.len() && e.starts_with(name.as_bytes()) && e[name.len()] == b'=')
}

/// The command line of `pid` with spaces between the arguments.
pub fn cmdline(pid: i32) -> Option<String> {
    let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(String::from_utf8_lossy(&bytes).replace('\0', " ").trim_end().to_string())
}

/// Every process id in /proc.
pub fn pids() -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_survives_a_name_with_spaces_and_parentheses() {
        let text = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 100 0 0";
        let s = parse_stat(text).unwrap();
        assert_eq!((s.state, s.ppid, s.pgrp, s.utime, s.stime), ('S', 1, 42, 7, 3));
    }

    #[test]
    fn this_process_is_running_and_has_used_some_cpu() {
        let me = Pid::this();
        // Alive: running, sleeping, or in an uninterruptible wait (page-in).
        let state = state(me);
        assert!(matches!(state, Some('R' | 'S' | 'D')), "{state:?}");
        assert!(cpu_time(me).is_some());
        assert!(context_switches(me).is_some());
        let status = status(me).unwrap();
        assert!(signal_mask(&status, "SigBlk:").is_some());
    }
}
