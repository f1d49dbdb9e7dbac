//! Lab `signals`'s harness: starting `sig-counter` and sending it signals
//! one at a time, reading its reports; running `sig-reaper` and watching
//! its children (forked, stopped, reaped).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use ipc_engine::check::{Done, Fail, Kind, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::proc::Proc;
use ipc_engine::proc::procfs::{self, InSyscall};

use super::waiting::bit;

/// Complete lines of stdout so far.
pub(super) fn lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.rfind('\n').map(|end| text[..end].split('\n').map(str::to_string).collect()).unwrap_or_default()
}

/// Starts `sig-counter` and waits (up to 3 s) for its `pid PID` line.
pub(super) fn start_counter(ctx: &mut Ctx) -> Result<Proc, Fail> {
    let deadline = ctx.within(Duration::from_secs(3));
    let mut running = ctx.program("sig-counter").spawn()?;
    let first = running.stdout.wait_for(deadline, |b| lines(b).into_iter().next());
    let Some(first) = first else {
        return Err(fail_running(&mut running, "no `pid PID` line within 3 s")
            .expected(format!("pid {}", running.pid()))
            .timing(ipc_engine::check::Timing::Deadline));
    };
    ensure(first == format!("pid {}", running.pid()), || {
        Fail::new("the first line is not `pid PID` with the program's own pid")
            .expected(format!("pid {}", running.pid()))
            .got(first.clone())
            .command(&running.command)
            .note("print getpid() (nix::unistd::getpid) and make sure the line is flushed")
    })?;
    Ok(running)
}

/// A failure about a program still (or no longer) running, with its output so far.
pub(super) fn fail_running(running: &mut Proc, what: &str) -> Fail {
    Fail::new(what).output_so_far(running)
}

/// Whether signal `signo` is pending for `pid` (thread or process), from /proc.
pub(super) fn pending(pid: nix::unistd::Pid, signo: i32) -> Option<bool> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let bit = 1u64 << (signo - 1);
    let mut any = false;
    for key in ["SigPnd:", "ShdPnd:"] {
        let line = status.lines().find(|l| l.starts_with(key))?;
        let mask = u64::from_str_radix(line[key.len()..].trim(), 16).ok()?;
        any |= mask & bit != 0;
    }
    Some(any)
}

/// Waits (up to 3 s) until `signo` is no longer pending: its handler has
/// been entered, so any signal sent after it is handled after it.
pub(super) fn wait_handled(running: &mut Proc, signo: i32, name: &str) -> Result<(), Fail> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        if running.try_exit().is_some() {
            return Err(fail_running(running, &format!("sig-counter ended after {name}")).note(
                "install a handler for every signal the contract names, with sigaction and without SA_RESETHAND",
            ));
        }
        match pending(running.pid(), signo) {
            Some(false) | None => return Ok(()),
            Some(true) if Instant::now() >= deadline => {
                return Err(fail_running(running, &format!("{name} stayed pending for 3 s")).kind(Kind::Timeout).note(
                    "nothing took the signal: wait in sigsuspend with a mask that lets it in, or take it with \
                     sigwaitinfo or from a signalfd",
                ));
            }
            Some(true) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Sends `sig` and waits until it has been taken for handling.
pub(super) fn send(running: &mut Proc, sig: Signal) -> Result<(), Fail> {
    running
        .signal(sig)
        .map_err(|e| fail_running(running, &format!("could not send {} to sig-counter: {e}", sig.as_str())))?;
    wait_handled(running, sig as i32, sig.as_str())
}

/// Sends SIGHUP and waits (up to 3 s) for report number `n` (1-based), the
/// `n`-th line after `pid`.
pub(super) fn report(running: &mut Proc, n: usize) -> Result<String, Fail> {
    running
        .signal(Signal::SIGHUP)
        .map_err(|e| fail_running(running, &format!("could not send SIGHUP to sig-counter: {e}")))?;
    let deadline = Instant::now() + Duration::from_secs(3);
    let line = running.stdout.wait_for(deadline, |b| lines(b).get(n).cloned());
    line.ok_or_else(|| {
        fail_running(running, &format!("no report line within 3 s of SIGHUP number {n}"))
            .expected("a line `usr1=A usr2=B rt=C` after each SIGHUP")
            .timing(ipc_engine::check::Timing::Deadline)
    })
}

pub(super) fn expect_report(running: &mut Proc, n: usize, expected: &str, after: &str) -> Result<(), Fail> {
    let got = report(running, n)?;
    ensure(got == expected, || {
        fail_running(running, &format!("wrong report after {after}")).expected(expected.to_string()).got(got.clone())
    })
}

/// The signals sig-counter waits for, as a mask.
pub(super) fn counter_signals() -> u64 {
    [Signal::SIGUSR1, Signal::SIGUSR2, Signal::SIGHUP, Signal::SIGINT, Signal::SIGTERM]
        .into_iter()
        .fold(bit(libc::SIGRTMIN()), |mask, sig| mask | bit(sig as i32))
}

/// Runs `sig-reaper N`, watching it as it goes (see [`watch_reaper`]), and
/// checks every line.
pub(super) fn reaper(ctx: &mut Ctx, n: usize) -> Result<(), Fail> {
    let mut running = ctx.program("sig-reaper").arg(n.to_string()).spawn()?;
    let mut children = Children::default();
    watch_reaper(ctx, &mut running, n, &mut children)?;
    let done = ctx.finish(&mut running)?;
    check_reaped(&done, n)?;
    children.check(&done, n)
}

/// The children the grader saw sig-reaper have, looking in /proc while it
/// ran: the `reaped PID` lines are the program's own words, these the
/// kernel's. Each child is kept with the executable its parent ran then,
/// so that a wrapper script's own commands before it execs the program
/// (a `cat`, say) are told from the program's children.
#[derive(Default)]
pub(super) struct Children {
    /// (executable of sig-reaper as device and inode, child pid).
    seen: BTreeSet<((u64, u64), i32)>,
    /// Looks taken while sig-reaper ran.
    looks: u32,
    /// The executable sig-reaper ran at the last look.
    last_exe: Option<(u64, u64)>,
}

impl Children {
    fn look(&mut self, pid: Pid) {
        use std::os::unix::fs::MetadataExt;
        self.looks += 1;
        if let Ok(meta) = std::fs::metadata(format!("/proc/{pid}/exe")) {
            self.last_exe = Some((meta.dev(), meta.ino()));
        }
        let exe = self.last_exe.unwrap_or_default();
        self.seen.extend(procfs::children(pid).into_iter().map(|c| (exe, c.as_raw())));
    }

    /// Every child seen while sig-reaper ran its last executable was
    /// reported; a run looked at five times or more had children; and no
    /// run ends long before its slowest child can (child i sleeps
    /// `(i * 7) % 50` ms; the grader's clock starts a little after the
    /// program does, a few milliseconds on a loaded machine: half of it).
    fn check(&self, done: &Done, n: usize) -> Result<(), Fail> {
        let slowest = (0..n).map(|i| (i * 7) % 50).max().unwrap_or(0) as u64;
        ensure(done.elapsed >= Duration::from_millis(slowest / 2), || {
            done.fail(format!(
                "sig-reaper ended after {} ms, before its slowest child (sleeping {slowest} ms) could have ended",
                done.elapsed.as_millis()
            ))
            .note("fork the N children, and reap each as it ends: the reported pids are your children's")
        })?;
        let reported: BTreeSet<i32> = reaped_lines(&done.stdout).into_iter().map(|(pid, _)| pid).collect();
        let unreported: Vec<String> = self
            .seen
            .iter()
            .filter(|(exe, pid)| Some(*exe) == self.last_exe && !reported.contains(pid))
            .take(5)
            .map(|(_, pid)| pid.to_string())
            .collect();
        ensure(unreported.is_empty(), || {
            done.fail("children the grader saw sig-reaper have are not among the pids it reported")
                .got(format!("not reported: {}", unreported.join(", ")))
                .note("report each child by the pid fork (or waitpid) gave you")
        })?;
        ensure(!self.seen.is_empty() || self.looks < 5, || {
            done.fail(format!(
                "the grader looked at sig-reaper {} times while it ran and never saw it have a child",
                self.looks
            ))
            .note("fork the N children: the reported pids are your children's")
            // A child that ends at once may come and go between looks a
            // crowded machine spaces out.
            .timing(ipc_engine::check::Timing::Race)
        })
    }
}

/// The `reaped PID status S` lines so far, as (pid, status).
pub(super) fn reaped_lines(bytes: &[u8]) -> Vec<(i32, i32)> {
    lines(bytes)
        .iter()
        .filter_map(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["reaped", pid, "status", s] => pid.parse().ok().zip(s.parse().ok()),
                _ => None,
            }
        })
        .collect()
}

/// Whether every thread of `pid` is asleep in a system call.
pub(super) fn asleep(pid: Pid) -> bool {
    let threads = procfs::threads(pid);
    !threads.is_empty()
        && threads.iter().all(|&tid| matches!(procfs::thread_syscall(pid, tid), Some(InSyscall::Call { .. })))
}

/// How long sig-reaper may go without printing before the check looks
/// whether it is stuck (its children live under 50 ms).
pub(super) const STUCK: Duration = Duration::from_secs(1);

/// The zombie children of `pid`.
pub(super) fn zombies(pid: Pid) -> Vec<Pid> {
    procfs::children(pid).into_iter().filter(|&c| procfs::state(c) == Some('Z')).collect()
}

/// Whether `pid` stays asleep, with the same children, over five looks
/// 50 ms apart (a program that is forking, or that a pending signal woke,
/// does not); then its children that were zombies all along.
pub(super) fn settled(pid: Pid) -> Option<Vec<Pid>> {
    let (children, before) = (procfs::children(pid), zombies(pid));
    for _ in 0..5 {
        if !asleep(pid) || procfs::children(pid) != children {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = zombies(pid);
    Some(before.into_iter().filter(|z| after.contains(z)).collect())
}

/// Waits for sig-reaper to end. If it sleeps for a second without printing
/// while ended children wait to be reaped, or after it has reaped all N
/// without printing the summary, that is the bug, and the failure says so
/// at once (instead of at the time limit) with what it printed so far.
pub(super) fn watch_reaper(ctx: &Ctx, running: &mut Proc, n: usize, children: &mut Children) -> Result<(), Fail> {
    let pid = running.pid();
    let mut printed = 0;
    let mut since = Instant::now();
    loop {
        // Looks at its children every few milliseconds: they live up to 49.
        let until = Instant::now() + Duration::from_millis(50);
        while Instant::now() < until && running.try_exit().is_none() {
            children.look(pid);
            running.wait_timeout(Duration::from_millis(3));
        }
        if running.try_exit().is_some() {
            return Ok(());
        }
        let total = running.stdout.total();
        if total != printed {
            (printed, since) = (total, Instant::now());
        }
        let reaped = reaped_lines(&running.stdout.bytes()).len();
        let stuck = if since.elapsed() >= STUCK { settled(pid) } else { None };
        if let Some(zombies) = stuck.filter(|_| running.stdout.total() == printed) {
            let summary =
                lines(&running.stdout.bytes()).iter().any(|l| l.starts_with("reaped ") && !l.contains("status"));
            if !zombies.is_empty() {
                let fail = Fail::new(format!(
                    "sig-reaper printed {reaped} of {n} `reaped` lines, then slept for over {:.0} s while {} of its \
                     children had ended and were not reaped (zombies)",
                    STUCK.as_secs_f64(),
                    zombies.len()
                ))
                .kind(Kind::Timeout)
                .clue("unreaped-zombies")
                .note(
                    "each of those children sent SIGCHLD, but a pending SIGCHLD is one bit, not a count: children \
                     ending close together are delivered as ONE signal. Reaping one child per SIGCHLD leaves the \
                     others, and the program then waits for signals that never come.",
                )
                .output_so_far(running);
                running.kill_group();
                return Err(fail);
            }
            if zombies.is_empty() && reaped >= n && !summary {
                let fail = Fail::new(format!(
                    "sig-reaper reaped all {n} children, then went to sleep instead of printing `reaped {n} \
                     children`: nothing was left to wait for"
                ))
                .kind(Kind::Timeout)
                .clue("lost-wakeup")
                .note(
                    "the last SIGCHLD was handled after main looked at its count and before it slept: a lost \
                     wake-up. Keep SIGCHLD blocked except inside sigsuspend (or take it with sigwaitinfo or a \
                     signalfd).",
                )
                .output_so_far(running);
                running.kill_group();
                return Err(fail);
            }
        }
        if Instant::now() >= ctx.deadline() {
            let fail = Fail::new(format!(
                "sig-reaper did not finish within the check's time limit ({:.1}s): it printed {reaped} of {n} \
                 `reaped` lines",
                ctx.limit().as_secs_f64()
            ))
            .kind(Kind::Timeout)
            .output_so_far(running);
            running.kill_group();
            return Err(fail);
        }
    }
}

/// Checks a finished `sig-reaper N`: status 0, N distinct pids, the
/// multiset of statuses `i % 256` for i in 0..N, `reaped N children` last.
pub(super) fn check_reaped(done: &Done, n: usize) -> Result<(), Fail> {
    done.expect_code(0)?;
    let stdout = done.stdout_text();
    let lines: Vec<&str> = stdout.lines().collect();
    let summary = format!("reaped {n} children");
    ensure(lines.last() == Some(&summary.as_str()), || {
        done.fail("the last line is not the summary")
            .kind(Kind::Output)
            .expected(summary.clone())
            .got(lines.last().unwrap_or(&"(nothing)").to_string())
    })?;
    let mut pids = BTreeMap::new();
    let mut statuses: BTreeMap<i32, usize> = BTreeMap::new();
    for line in &lines[..lines.len() - 1] {
        let Some(&(pid, status)) = reaped_lines(format!("{line}\n").as_bytes()).first() else {
            return Err(done.fail("a line is not `reaped PID status S`").kind(Kind::Output).got(line.to_string()));
        };
        if pids.insert(pid, status).is_some() {
            return Err(done
                .fail(format!("child {pid} is reported twice"))
                .kind(Kind::Output)
                .note("reap each child exactly once"));
        }
        *statuses.entry(status).or_default() += 1;
    }
    let mut expected: BTreeMap<i32, usize> = BTreeMap::new();
    for i in 0..n {
        *expected.entry((i % 256) as i32).or_default() += 1;
    }
    ensure(pids.len() == n, || {
        done.fail(format!("{} children reported, {n} forked", pids.len())).kind(Kind::Output).note(
            "several SIGCHLD may arrive as one: after each, call waitpid(-1, WNOHANG) until no ended child is left",
        )
    })?;
    ensure(statuses == expected, || {
        let wrong: Vec<String> = statuses
            .iter()
            .filter(|(s, c)| expected.get(s) != Some(c))
            .take(5)
            .map(|(s, c)| format!("status {s} x{c}"))
            .collect();
        done.fail("the statuses are not those of the children (child i exits i % 256)")
            .kind(Kind::Output)
            .got(format!("unexpected: {}", wrong.join(", ")))
            .note("print the exit code from WaitStatus::Exited, not the raw wait status")
    })
}

/// Stops (SIGSTOP) every child of `running` seen alive, until all `n` have
/// been forked (seen, or reported reaped); returns the stopped ones.
pub(super) fn stop_children(ctx: &Ctx, running: &mut Proc, n: usize) -> Result<Vec<Pid>, Fail> {
    let pid = running.pid();
    let mut seen: BTreeSet<i32> = BTreeSet::new();
    let mut stopped = Vec::new();
    let until = ctx.within(Duration::from_secs(3));
    loop {
        for child in procfs::children(pid) {
            seen.insert(child.as_raw());
            let alive = !matches!(procfs::state(child), None | Some('Z' | 'X'));
            // A child of the program under test, unreaped (it is listed as
            // sig-reaper's child), so its pid cannot have been reused.
            if alive && !stopped.contains(&child) && nix::sys::signal::kill(child, Signal::SIGSTOP).is_ok() {
                stopped.push(child);
            }
        }
        seen.extend(reaped_lines(&running.stdout.bytes()).into_iter().map(|(p, _)| p));
        if seen.len() >= n {
            return Ok(stopped);
        }
        if let Some(exit) = running.try_exit() {
            for &child in &stopped {
                let _ = nix::sys::signal::kill(child, Signal::SIGCONT);
            }
            let done = ctx.finish(running)?;
            check_reaped(&done, n)?;
            return Err(done.fail(format!("sig-reaper ended ({exit}) before the grader saw its {n} children")));
        }
        if Instant::now() >= until {
            for &child in &stopped {
                let _ = nix::sys::signal::kill(child, Signal::SIGCONT);
            }
            return Err(Fail::new(format!(
                "within 3 s of its start, sig-reaper had forked only {} of {n} children",
                seen.len()
            ))
            .kind(Kind::Timeout)
            .output_so_far(running));
        }
        std::thread::sleep(Duration::from_micros(300));
    }
}
