//! Reading `/proc`: one parser for `/proc/PID/stat`, and the few other
//! files the engine and the checks look at (status, environ, cmdline,
//! per-thread status and syscall, descriptors and their fdinfo, children,
//! the kernel's table of TCP sockets).

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

/// The real user id of `pid` (the first of `Uid:` in its status).
pub fn real_uid(pid: i32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    field(&status, "Uid:")?.split_whitespace().next()?.parse().ok()
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

/// Where a thread is, from `/proc/PID/task/TID/syscall`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InSyscall {
    /// On a CPU or runnable: the kernel cannot say.
    Running,
    /// Blocked outside any system call (stopped, or in a page fault).
    NotInCall,
    /// Asleep in this system call (its number, as `libc::SYS_*`), with its
    /// six arguments as the thread passed them.
    Call { nr: i64, args: [u64; 6] },
}

/// What thread `tid` of process `pid` is doing right now. `None` if it is
/// gone or the file cannot be read (it needs the right to ptrace the
/// process: the grader's own children are fine).
pub fn thread_syscall(pid: Pid, tid: Pid) -> Option<InSyscall> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/syscall")).ok()?;
    parse_syscall(&text)
}

fn parse_syscall(text: &str) -> Option<InSyscall> {
    let mut words = text.split_whitespace();
    let first = words.next()?;
    if first == "running" {
        return Some(InSyscall::Running);
    }
    let nr: i64 = first.parse().ok()?;
    if nr < 0 {
        return Some(InSyscall::NotInCall);
    }
    let mut args = [0u64; 6];
    for arg in &mut args {
        *arg = u64::from_str_radix(words.next()?.trim_start_matches("0x"), 16).ok()?;
    }
    Some(InSyscall::Call { nr, args })
}

/// `/proc/PID/task/TID/status` as text (its `SigBlk:` is that thread's mask).
pub fn thread_status(pid: Pid, tid: Pid) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).ok()
}

/// The name of a system call the checks talk about, by its number on this
/// machine (`None` for others: the report then shows the number).
pub fn syscall_name(nr: i64) -> Option<&'static str> {
    let known: &[(libc::c_long, &str)] = &[
        (libc::SYS_rt_sigsuspend, "sigsuspend"),
        (libc::SYS_rt_sigtimedwait, "sigtimedwait/sigwaitinfo"),
        (libc::SYS_nanosleep, "nanosleep"),
        (libc::SYS_clock_nanosleep, "clock_nanosleep"),
        (libc::SYS_read, "read"),
        (libc::SYS_readv, "readv"),
        (libc::SYS_pread64, "pread"),
        (libc::SYS_write, "write"),
        (libc::SYS_writev, "writev"),
        (libc::SYS_ppoll, "ppoll"),
        (libc::SYS_pselect6, "pselect"),
        (libc::SYS_epoll_pwait, "epoll_pwait"),
        (libc::SYS_futex, "futex (a lock, a condition variable, a channel or a thread join)"),
        (libc::SYS_wait4, "waitpid"),
        (libc::SYS_waitid, "waitid"),
        (libc::SYS_sendto, "send"),
        (libc::SYS_sendmsg, "sendmsg"),
        (libc::SYS_recvfrom, "recv"),
        (libc::SYS_recvmsg, "recvmsg"),
        (libc::SYS_splice, "splice"),
        (libc::SYS_sendfile, "sendfile"),
        (libc::SYS_accept4, "accept"),
        (libc::SYS_connect, "connect"),
        (libc::SYS_msgrcv, "msgrcv"),
        (libc::SYS_semop, "semop"),
        (libc::SYS_semtimedop, "semtimedop"),
        (libc::SYS_sched_yield, "sched_yield"),
    ];
    #[cfg(target_arch = "x86_64")]
    let arch: &[(libc::c_long, &str)] = &[
        (libc::SYS_pause, "pause"),
        (libc::SYS_poll, "poll"),
        (libc::SYS_select, "select"),
        (libc::SYS_epoll_wait, "epoll_wait"),
        (libc::SYS_accept, "accept"),
    ];
    #[cfg(not(target_arch = "x86_64"))]
    let arch: &[(libc::c_long, &str)] = &[];
    // c_long is i64 here, i32 on 32-bit systems.
    #[allow(clippy::useless_conversion)]
    known.iter().chain(arch).find(|(n, _)| i64::from(*n) == nr).map(|(_, name)| *name)
}

/// The open descriptors of `pid` and what each names (`pipe:[123]`,
/// `socket:[456]`, `anon_inode:[signalfd]`, a path).
pub fn fds(pid: Pid) -> Vec<(i32, String)> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
    let mut found: Vec<(i32, String)> = dir
        .flatten()
        .filter_map(|e| {
            let fd = e.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(e.path()).ok()?;
            Some((fd, target.to_string_lossy().into_owned()))
        })
        .collect();
    found.sort();
    found
}

/// The signals a signalfd descriptor takes (its `sigmask:` in
/// `/proc/PID/fdinfo/FD`, bit `n - 1` for signal `n`); `None` if `fd` is
/// no signalfd.
pub fn signalfd_mask(pid: Pid, fd: i32) -> Option<u64> {
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).ok()?;
    u64::from_str_radix(field(&info, "sigmask:")?, 16).ok()
}

/// The inodes of the sockets `pid` has open.
pub fn socket_inodes(pid: Pid) -> Vec<u64> {
    fds(pid)
        .into_iter()
        .filter_map(|(_, target)| target.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok())
        .collect()
}

/// The children of `pid` (zombies included), from `/proc/PID/task/*/children`,
/// or, where the kernel lacks that file, by looking for their parent in
/// every `/proc/N/stat`.
pub fn children(pid: Pid) -> Vec<Pid> {
    let mut found = Vec::new();
    let mut any_file = false;
    for tid in threads(pid) {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/children")) {
            any_file = true;
            found.extend(text.split_whitespace().filter_map(|p| p.parse().ok()).map(Pid::from_raw));
        }
    }
    if !any_file {
        found = pids()
            .into_iter()
            .map(Pid::from_raw)
            .filter(|&p| stat(p).is_some_and(|s| s.ppid == pid.as_raw()))
            .collect();
    }
    found.sort();
    found.dedup();
    found
}

/// One TCP socket in the kernel's table (`/proc/net/tcp` and `tcp6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSocket {
    pub inode: u64,
    /// The kernel's state number: see [`tcp_state_name`].
    pub state: u8,
    /// Bytes sent but not yet acknowledged by the other side.
    pub tx_queue: u64,
    /// Bytes received that the program has not read yet.
    pub rx_queue: u64,
}

/// Every TCP socket of this network namespace, IPv4 and IPv6.
pub fn tcp_sockets() -> Vec<TcpSocket> {
    let mut found = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(file) {
            found.extend(text.lines().skip(1).filter_map(parse_tcp_line));
        }
    }
    found
}

fn parse_tcp_line(line: &str) -> Option<TcpSocket> {
    // sl local rem st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
    let f: Vec<&str> = line.split_whitespace().collect();
    let (tx, rx) = f.get(4)?.split_once(':')?;
    Some(TcpSocket {
        inode: f.get(9)?.parse().ok()?,
        state: u8::from_str_radix(f.get(3)?, 16).ok()?,
        tx_queue: u64::from_str_radix(tx, 16).ok()?,
        rx_queue: u64::from_str_radix(rx, 16).ok()?,
    })
}

/// A TCP state as `ss` names it, with what it means for a connection.
pub fn tcp_state_name(state: u8) -> &'static str {
    match state {
        1 => "ESTABLISHED",
        2 => "SYN-SENT",
        3 => "SYN-RECV",
        4 => "FIN-WAIT-1 (this side shut down writing)",
        5 => "FIN-WAIT-2 (this side shut down writing; the other side has not yet)",
        6 => "TIME-WAIT",
        7 => "CLOSE",
        8 => "CLOSE-WAIT (the other side shut down writing; this side has not)",
        9 => "LAST-ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => "UNKNOWN",
    }
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
    fn syscall_lines_parse() {
        assert_eq!(parse_syscall("running\n"), Some(InSyscall::Running));
        assert_eq!(parse_syscall("-1 0x7ffd 0x4011\n"), Some(InSyscall::NotInCall));
        let line = "130 0x7ffc8a1b2c30 0x8 0x0 0x0 0x0 0x0 0x7ffc8a1b2bf8 0x7f0e3c2a1b1e\n";
        assert_eq!(parse_syscall(line), Some(InSyscall::Call { nr: 130, args: [0x7ffc8a1b2c30, 8, 0, 0, 0, 0] }));
    }

    #[test]
    fn tcp_table_lines_parse() {
        let line = "   3: 0100007F:A3C4 0100007F:8AE1 01 00000000:0001F4A0 00:00000000 00000000     0        0 48213 1 0000000000000000 20 4 30 10 -1";
        let s = parse_tcp_line(line).unwrap();
        assert_eq!((s.inode, s.state, s.tx_queue, s.rx_queue), (48213, 1, 0, 0x1f4a0));
    }

    #[test]
    #[allow(clippy::useless_conversion)] // c_long is i32 on 32-bit systems
    fn this_thread_is_seen_in_its_system_call() {
        let me = Pid::this();
        let tid = nix::unistd::gettid();
        // A thread reading its own file is in that read(2).
        assert!(matches!(thread_syscall(me, tid), Some(InSyscall::Call { nr, .. }) if nr == libc::SYS_read));
        assert!(thread_status(me, tid).is_some_and(|s| signal_mask(&s, "SigBlk:").is_some()));
        assert!(!fds(me).is_empty());
        assert_eq!(syscall_name(libc::SYS_rt_sigsuspend.into()), Some("sigsuspend"));
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
