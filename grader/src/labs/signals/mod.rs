//! Lab `signals`: signal handlers (`sig-counter`, `sig-reaper`, `sig-segv`,
//! `timeout-run`).
//!
//! No check races the program: a signal is sent to `sig-counter` only after
//! its `pid` line, and the next one only once the kernel shows the previous
//! one is no longer pending (/proc/PID/status), so standard signals never
//! merge and the SIGHUP report always comes after the handler ran.
//!
//! How an idle program waits (the contract's second paragraph) is read
//! from /proc while it has nothing to do (`waiting.rs`). To give
//! `sig-reaper` something to wait for, the grader stops some of its
//! children (SIGSTOP) and lets them go on (SIGCONT) once it has looked.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use ipc_engine::check::{Check, Done, Fail, Kind, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::proc::procfs::{self, InSyscall};
use ipc_engine::proc::{Exit, Proc};

mod waiting;

use waiting::{Watched, bit};

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["sig-counter", "sig-reaper", "sig-segv", "timeout-run"];

pub fn checks() -> Vec<Check> {
    vec![
        Check::new("counter-pid", counter_pid),
        Check::new("counter-usr-one-at-a-time", counter_usr_one_at_a_time),
        Check::new("counter-rt-burst", counter_rt_burst),
        Check::new("counter-hup-goes-on", counter_hup_goes_on),
        Check::new("counter-int-term", counter_int_term),
        Check::new("counter-idle-cpu", counter_idle_cpu),
        Check::new("counter-waits-atomically", counter_waits_atomically),
        Check::new("reaper-one", reaper_one),
        Check::new("reaper-fifty", reaper_fifty),
        Check::new("reaper-500", reaper_500),
        Check::new("reaper-waits-atomically", reaper_waits_atomically),
        Check::new("reaper-usage", reaper_usage),
        Check::new("segv-same-address", segv_same_address),
        Check::new("segv-recovers", segv_recovers),
        Check::new("timeout-command-status", timeout_command_status),
        Check::new("timeout-expires", timeout_expires),
        Check::new("timeout-not-found", timeout_not_found),
        Check::new("timeout-not-executable", timeout_not_executable),
        Check::new("timeout-signal-status", timeout_signal_status),
        Check::new("timeout-kills-group", timeout_kills_group),
        Check::new("timeout-kill-after", timeout_kill_after),
        Check::new("timeout-fractional", timeout_fractional),
        Check::new("timeout-usage", timeout_usage),
    ]
}

// ---------------------------------------------------------------------------
// sig-counter

/// Complete lines of stdout so far.
fn lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.rfind('\n').map(|end| text[..end].split('\n').map(str::to_string).collect()).unwrap_or_default()
}

/// Starts `sig-counter` and waits (up to 3 s) for its `pid PID` line.
fn start_counter(ctx: &mut Ctx) -> Result<Proc, Fail> {
    let deadline = ctx.within(Duration::from_secs(3));
    let mut running = ctx.program("sig-counter").spawn()?;
    let first = running.stdout.wait_for(deadline, |b| lines(b).into_iter().next());
    let Some(first) = first else {
        return Err(
            fail_running(&mut running, "no `pid PID` line within 3 s").expected(format!("pid {}", running.pid()))
        );
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
fn fail_running(running: &mut Proc, what: &str) -> Fail {
    Fail::new(what).output_so_far(running)
}

/// Whether signal `signo` is pending for `pid` (thread or process), from /proc.
fn pending(pid: nix::unistd::Pid, signo: i32) -> Option<bool> {
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
fn wait_handled(running: &mut Proc, signo: i32, name: &str) -> Result<(), Fail> {
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
fn send(running: &mut Proc, sig: Signal) -> Result<(), Fail> {
    running
        .signal(sig)
        .map_err(|e| fail_running(running, &format!("could not send {} to sig-counter: {e}", sig.as_str())))?;
    wait_handled(running, sig as i32, sig.as_str())
}

/// Sends SIGHUP and waits (up to 3 s) for report number `n` (1-based), the
/// `n`-th line after `pid`.
fn report(running: &mut Proc, n: usize) -> Result<String, Fail> {
    running
        .signal(Signal::SIGHUP)
        .map_err(|e| fail_running(running, &format!("could not send SIGHUP to sig-counter: {e}")))?;
    let deadline = Instant::now() + Duration::from_secs(3);
    let line = running.stdout.wait_for(deadline, |b| lines(b).get(n).cloned());
    line.ok_or_else(|| {
        fail_running(running, &format!("no report line within 3 s of SIGHUP number {n}"))
            .expected("a line `usr1=A usr2=B rt=C` after each SIGHUP")
    })
}

fn expect_report(running: &mut Proc, n: usize, expected: &str, after: &str) -> Result<(), Fail> {
    let got = report(running, n)?;
    ensure(got == expected, || {
        fail_running(running, &format!("wrong report after {after}")).expected(expected.to_string()).got(got.clone())
    })
}

/// `pid PID` is the first line, with the program's own pid.
fn counter_pid(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut running = start_counter(ctx)?;
    let _ = running.signal(Signal::SIGKILL);
    Ok(())
}

/// SIGUSR1 and SIGUSR2, sent one at a time (each handled before the next is
/// sent), are counted exactly; a SIGHUP after each shows the counts.
fn counter_usr_one_at_a_time(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut running = start_counter(ctx)?;
    let sequence = [Signal::SIGUSR1, Signal::SIGUSR2, Signal::SIGUSR1, Signal::SIGUSR1, Signal::SIGUSR2];
    let (mut usr1, mut usr2) = (0, 0);
    let mut sent = Vec::new();
    for (i, sig) in sequence.into_iter().enumerate() {
        send(&mut running, sig)?;
        sent.push(sig.as_str());
        if sig == Signal::SIGUSR1 {
            usr1 += 1
        } else {
            usr2 += 1
        }
        expect_report(&mut running, i + 1, &format!("usr1={usr1} usr2={usr2} rt=0"), &sent.join(", "))?;
    }
    let _ = running.signal(Signal::SIGKILL);
    Ok(())
}

/// 1000 SIGRTMIN sent with sigqueue in a burst are all counted (real-time
/// signals queue); the report is asked for once none is pending.
fn counter_rt_burst(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut running = start_counter(ctx)?;
    let rtmin = libc::SIGRTMIN();
    for i in 0..1000 {
        if running.try_exit().is_some() {
            return Err(fail_running(&mut running, &format!("sig-counter ended after {i} SIGRTMIN"))
                .note("install a handler for SIGRTMIN (libc::SIGRTMIN()), whose default action ends the process"));
        }
        let value = libc::sigval { sival_ptr: std::ptr::null_mut() };
        // SAFETY: sigqueue only sends a signal to our own, unreaped child.
        let res = unsafe { libc::sigqueue(running.pid().as_raw(), rtmin, value) };
        if res != 0 {
            let e = std::io::Error::last_os_error();
            return Err(Fail::infra(format!("sigqueue failed after {i} signals: {e}")));
        }
    }
    wait_handled(&mut running, rtmin, "SIGRTMIN")?;
    expect_report(&mut running, 1, "usr1=0 usr2=0 rt=1000", "1000 SIGRTMIN sent with sigqueue")?;
    let _ = running.signal(Signal::SIGKILL);
    Ok(())
}

/// SIGHUP prints the report and the program goes on: a second SIGHUP gives a
/// second report, and SIGTERM then ends it normally.
fn counter_hup_goes_on(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut running = start_counter(ctx)?;
    expect_report(&mut running, 1, "usr1=0 usr2=0 rt=0", "the first SIGHUP")?;
    send(&mut running, Signal::SIGUSR2)?;
    expect_report(&mut running, 2, "usr1=0 usr2=1 rt=0", "SIGHUP, SIGUSR2, SIGHUP")?;
    ensure(running.try_exit().is_none(), || fail_running(&mut running, "sig-counter ended after SIGHUP"))?;
    let _ = running.signal(Signal::SIGKILL);
    Ok(())
}

/// SIGINT, and in another run SIGTERM, print the report, then `bye`, exit 0.
fn counter_int_term(ctx: &mut Ctx) -> Result<(), Fail> {
    for quit in [Signal::SIGINT, Signal::SIGTERM] {
        let mut running = start_counter(ctx)?;
        send(&mut running, Signal::SIGUSR1)?;
        send(&mut running, Signal::SIGUSR2)?;
        send(&mut running, Signal::SIGUSR2)?;
        let _ = running.signal(quit);
        let done = ctx.finish(&mut running)?;
        let expected = format!("pid {}\nusr1=1 usr2=2 rt=0\nbye\n", running.pid());
        done.expect_stdout(expected.as_bytes())
            .map_err(|f| f.note(format!("sent SIGUSR1, SIGUSR2, SIGUSR2, then {}", quit.as_str())))?;
        done.expect_code(0).map_err(|f| f.note(format!("after {}", quit.as_str())))?;
    }
    Ok(())
}

/// Most CPU time sig-counter may use while it waits 1.5 s for a signal.
const IDLE_CPU_SHARE: f64 = 0.1;

/// Waiting costs almost no CPU: under 100 ms of CPU time over 1.5 s idle.
fn counter_idle_cpu(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut running = start_counter(ctx)?;
    std::thread::sleep(Duration::from_millis(100));
    let cpu = ctx.cpu_used(&mut [&mut running], Duration::from_millis(1500))?;
    let Some(used) = cpu.used[0] else {
        return Err(fail_running(&mut running, "sig-counter ended while waiting for signals"));
    };
    let _ = running.signal(Signal::SIGKILL);
    cpu.verdict(used, IDLE_CPU_SHARE).map_err(|why| {
        Fail::new(format!("sig-counter burns the CPU while it waits: {why}"))
            .expected(format!(
                "a process asleep until a signal comes, using at most {:.0}% of what a busy loop gets",
                IDLE_CPU_SHARE * 100.0
            ))
            .note("sleep in sigsuspend (or pause) instead of looping over the flags")
    })
}

/// The signals sig-counter waits for, as a mask.
fn counter_signals() -> u64 {
    [Signal::SIGUSR1, Signal::SIGUSR2, Signal::SIGHUP, Signal::SIGINT, Signal::SIGTERM]
        .into_iter()
        .fold(bit(libc::SIGRTMIN()), |mask, sig| mask | bit(sig as i32))
}

/// The lost wake-up as sig-counter meets it.
const COUNTER_LESSON: &str = "main finds no flag set; SIGHUP comes and its handler sets the flag; then main goes \
     to sleep, and sleeps until some other signal comes, the report still unprinted.";

/// While idle, before and after handling a signal, sig-counter sleeps as
/// the contract says: in sigsuspend, in sigwaitinfo/sigtimedwait with the
/// signals blocked, or reading a signalfd with them blocked; never in
/// pause() (or anything else) with them unblocked. It still counts, reports
/// and ends as the contract says.
fn counter_waits_atomically(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut running = start_counter(ctx)?;
    let wanted = counter_signals();
    let mut seen = Watched::default();
    std::thread::sleep(Duration::from_millis(150));
    waiting::watch(running.pid(), wanted, Duration::from_millis(400), &mut seen)?;
    if seen.racy() {
        seen.verdict("sig-counter", wanted, COUNTER_LESSON).map_err(|f| f.output_so_far(&mut running))?;
    }
    // Back to waiting after a signal was handled.
    send(&mut running, Signal::SIGUSR1)?;
    expect_report(&mut running, 1, "usr1=1 usr2=0 rt=0", "SIGUSR1, SIGHUP")?;
    std::thread::sleep(Duration::from_millis(100));
    waiting::watch(running.pid(), wanted, Duration::from_millis(400), &mut seen)?;
    seen.verdict("sig-counter", wanted, COUNTER_LESSON).map_err(|f| f.output_so_far(&mut running))?;
    running.signal(Signal::SIGTERM).map_err(|e| fail_running(&mut running, &format!("could not send SIGTERM: {e}")))?;
    let done = ctx.finish(&mut running)?;
    let expected = format!("pid {}\nusr1=1 usr2=0 rt=0\nusr1=1 usr2=0 rt=0\nbye\n", running.pid());
    done.expect_stdout(expected.as_bytes()).map_err(|f| f.note("sent SIGUSR1, SIGHUP, then SIGTERM"))?;
    done.expect_code(0)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// sig-reaper

/// Runs `sig-reaper N`, watching it as it goes (see [`watch_reaper`]), and
/// checks every line.
fn reaper(ctx: &mut Ctx, n: usize) -> Result<(), Fail> {
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
struct Children {
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
        })
    }
}

/// The `reaped PID status S` lines so far, as (pid, status).
fn reaped_lines(bytes: &[u8]) -> Vec<(i32, i32)> {
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
fn asleep(pid: Pid) -> bool {
    let threads = procfs::threads(pid);
    !threads.is_empty()
        && threads.iter().all(|&tid| matches!(procfs::thread_syscall(pid, tid), Some(InSyscall::Call { .. })))
}

/// How long sig-reaper may go without printing before the check looks
/// whether it is stuck (its children live under 50 ms).
const STUCK: Duration = Duration::from_secs(1);

/// The zombie children of `pid`.
fn zombies(pid: Pid) -> Vec<Pid> {
    procfs::children(pid).into_iter().filter(|&c| procfs::state(c) == Some('Z')).collect()
}

/// Whether `pid` stays asleep, with the same children, over five looks
/// 50 ms apart (a program that is forking, or that a pending signal woke,
/// does not); then its children that were zombies all along.
fn settled(pid: Pid) -> Option<Vec<Pid>> {
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
fn watch_reaper(ctx: &Ctx, running: &mut Proc, n: usize, children: &mut Children) -> Result<(), Fail> {
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
fn check_reaped(done: &Done, n: usize) -> Result<(), Fail> {
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

/// `sig-reaper 1`: one child reaped with status 0, then `reaped 1 children`.
fn reaper_one(ctx: &mut Ctx) -> Result<(), Fail> {
    reaper(ctx, 1)
}

/// `sig-reaper 50`: fifty children, each reaped once with its status.
fn reaper_fifty(ctx: &mut Ctx) -> Result<(), Fail> {
    reaper(ctx, 50)
}

/// `sig-reaper 500`: many children end together, so SIGCHLD coalesces; all
/// are still reaped once, in the time limit.
fn reaper_500(ctx: &mut Ctx) -> Result<(), Fail> {
    reaper(ctx, 500)
}

/// Children of `sig-reaper 20` in the waiting check.
const WAITING_CHILDREN: usize = 20;

/// The lost wake-up as sig-reaper meets it.
const REAPER_LESSON: &str = "main counts fewer children reaped than forked; the last child ends and the SIGCHLD \
     handler runs (and reaps it, or sets a flag); then main goes to sleep, and sleeps forever: no child is left to \
     send another SIGCHLD.";

/// While sig-reaper waits for children that have not ended, it sleeps as
/// the contract says (sigsuspend, sigwaitinfo, a signalfd; SIGCHLD blocked
/// otherwise). The grader stops the children still running once all are
/// forked (SIGSTOP), looks, lets them go on (SIGCONT), and then expects the
/// complete output of `sig-reaper 20`.
fn reaper_waits_atomically(ctx: &mut Ctx) -> Result<(), Fail> {
    let n = WAITING_CHILDREN;
    for attempt in 1..=3 {
        let mut running = ctx.program("sig-reaper").arg(n.to_string()).spawn()?;
        let stopped = stop_children(ctx, &mut running, n)?;
        if stopped.is_empty() {
            // Every child ended before the grader could stop one: a very
            // busy machine, or children that do not sleep. Try again.
            let done = ctx.finish(&mut running)?;
            if attempt == 3 {
                return Err(done
                    .fail(format!(
                        "in three runs of `sig-reaper {n}`, no child was still running when the grader looked, so \
                         it could not watch sig-reaper wait"
                    ))
                    .note("child i sleeps (i * 7) % 50 milliseconds before it exits"));
            }
            continue;
        }
        // The children not stopped end and are reaped; then sig-reaper
        // has nothing to do but wait for the stopped ones.
        let pid = running.pid();
        let settle = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < settle
            && procfs::children(pid).into_iter().any(|c| procfs::state(c) == Some('Z') || !stopped.contains(&c))
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
        let mut seen = Watched::default();
        let watched = waiting::watch(pid, bit(libc::SIGCHLD), Duration::from_millis(300), &mut seen);
        for &child in &stopped {
            let _ = nix::sys::signal::kill(child, Signal::SIGCONT);
        }
        watched?;
        seen.verdict("sig-reaper", bit(libc::SIGCHLD), REAPER_LESSON).map_err(|f| {
            f.note(format!("{} of its {n} children had been stopped (SIGSTOP) while the grader looked", stopped.len()))
                .output_so_far(&mut running)
        })?;
        watch_reaper(ctx, &mut running, n, &mut Children::default())?;
        let done = ctx.finish(&mut running)?;
        return check_reaped(&done, n).map_err(|f| {
            f.note(format!("{} children were stopped for a while (SIGSTOP, then SIGCONT)", stopped.len()))
        });
    }
    unreachable!("the loop returns")
}

/// Stops (SIGSTOP) every child of `running` seen alive, until all `n` have
/// been forked (seen, or reported reaped); returns the stopped ones.
fn stop_children(ctx: &Ctx, running: &mut Proc, n: usize) -> Result<Vec<Pid>, Fail> {
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

/// N missing, not a number, 0 or over 1000: usage error.
fn reaper_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    for args in [&[][..], &["ten"], &["0"], &["1001"], &["1", "2"]] {
        ctx.program("sig-reaper").args(args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// sig-segv

fn is_address(s: &str) -> bool {
    s.strip_prefix("0x").is_some_and(|h| {
        !h.is_empty() && !h.starts_with('0') && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// `page at ADDR`, then the handler's `SIGSEGV at ADDR` with the same
/// address (the write goes to the page's first byte), both `0x` lowercase hex.
fn segv_same_address(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("sig-segv").output_cap(1 << 16).run()?;
    let stdout = done.stdout_text();
    let lines: Vec<&str> = stdout.lines().collect();
    let page = lines.first().and_then(|l| l.strip_prefix("page at ")).filter(|a| is_address(a));
    let Some(page) = page else {
        return Err(done
            .fail("the first line is not `page at ADDR` (ADDR: 0x and lowercase hex, no padding)")
            .got(lines.first().unwrap_or(&"(nothing)").to_string()));
    };
    let expected = format!("SIGSEGV at {page}");
    ensure(lines.get(1) == Some(&expected.as_str()), || {
        done.fail("the second line is not the handler's report of the same address")
            .expected(expected.clone())
            .got(lines.get(1).unwrap_or(&"(nothing)").to_string())
            .note("take the address from siginfo's si_addr and format it like {:p}")
    })
}

/// The handler makes the page writable: the write is retried, `value 42`
/// follows, exit 0, and the handler ran exactly once.
fn segv_recovers(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("sig-segv").output_cap(1 << 16).run()?;
    let stdout = done.stdout_text();
    let lines: Vec<&str> = stdout.lines().collect();
    ensure(lines.len() == 3 && lines[2] == "value 42", || {
        done.fail("expected exactly three lines, the last `value 42`")
            .got(ipc_engine::text::excerpt(&done.stdout, done.stdout_total, 6, 400))
            .note(
                "the handler must mprotect the page PROT_READ|PROT_WRITE before it returns, or the write faults again",
            )
    })?;
    done.expect_code(0)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// timeout-run

/// Expects `status` as a shell shows it: `exit(status)`, or for 128+N also
/// death by signal N (GNU timeout re-raises the signal).
fn expect_status(done: &ipc_engine::check::Done, status: i32, what: &str) -> Result<(), Fail> {
    let ok = done.exit == Exit::Code(status) || (status > 128 && done.exit == Exit::Signal(status - 128));
    ensure(ok, || {
        done.fail(format!("wrong exit status for {what}"))
            .expected(format!("exit status {status}"))
            .got(done.exit.to_string())
    })
}

/// The command's own status: `true` gives 0, `sh -c 'exit 3'` gives 3.
fn timeout_command_status(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("timeout-run").args(["5", "true"]).run()?;
    expect_status(&done, 0, "a command that exits 0")?;
    let done = ctx.program("timeout-run").args(["5", "sh", "-c", "exit 3"]).run()?;
    expect_status(&done, 3, "a command that exits 3")
}

/// `timeout-run 0.5 sleep 10` ends with 124 after about 0.5 s (0.45 to 2.5 s).
fn timeout_expires(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("timeout-run").args(["0.5", "sleep", "10"]).timeout(Duration::from_secs(4)).run()?;
    expect_status(&done, 124, "a command that runs too long")?;
    let took = done.elapsed.as_secs_f64();
    ensure((0.45..=2.5).contains(&took), || {
        done.fail("timed out at the wrong time").expected("between 0.45 s and 2.5 s").got(format!("{took:.2} s"))
    })
}

/// A command that cannot be found: 127.
fn timeout_not_found(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("timeout-run").args(["5", "ipclabs-no-such-program"]).run()?;
    expect_status(&done, 127, "a command that does not exist")
}

/// A command that exists but cannot be run (no execute permission): 126.
fn timeout_not_executable(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.write_file("not-executable", b"#!/bin/sh\nexit 0\n")?;
    let done = ctx.program("timeout-run").args(["5", "./not-executable"]).run()?;
    expect_status(&done, 126, "a file without execute permission")
}

/// A command killed by signal N: 128+N (SIGTERM 143, SIGKILL 137).
fn timeout_signal_status(ctx: &mut Ctx) -> Result<(), Fail> {
    for (sig, n) in [("TERM", 15), ("KILL", 9)] {
        let done = ctx.program("timeout-run").args(["5", "sh", "-c", &format!("kill -{sig} $$")]).run()?;
        expect_status(&done, 128 + n, &format!("a command killed by SIG{sig}"))?;
    }
    Ok(())
}

/// On timeout the whole process group goes: a grandchild (`sleep 30 &` of
/// a shell) is gone within 1 s of timeout-run's exit.
fn timeout_kills_group(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut running = ctx.program("timeout-run").args(["0.5", "sh", "-c", "sleep 30 & echo $!; sleep 30"]).spawn()?;
    let pid = running
        .stdout
        .wait_for(ctx.within(Duration::from_secs(3)), |b| lines(b).first().and_then(|l| l.trim().parse::<i32>().ok()));
    let done = ctx.finish(&mut running)?;
    expect_status(&done, 124, "a command that runs too long")?;
    let Some(pid) = pid else {
        return Err(done.fail("the shell did not print its background job's pid"));
    };
    let pid = nix::unistd::Pid::from_raw(pid);
    let gone_by = Instant::now() + Duration::from_secs(1);
    loop {
        let alive = !matches!(ipc_engine::proc::state(pid), None | Some('Z') | Some('X'));
        if !alive {
            return Ok(());
        }
        if Instant::now() >= gone_by {
            return Err(done
                .fail(format!("the grandchild `sleep 30` (pid {pid}) is still running 1 s after timeout-run exited"))
                .note(
                    "put the child in its own process group (setpgid) and signal the group: killpg, or kill(-pgid)",
                ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A command that ignores SIGTERM is killed with SIGKILL one second later:
/// `timeout-run 0.5` ends between 1.4 s and 4 s after it started, with 124
/// (or 137, as GNU timeout gives after a SIGKILL).
fn timeout_kill_after(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx
        .program("timeout-run")
        .args(["0.5", "sh", "-c", "trap '' TERM; sleep 30"])
        .timeout(Duration::from_secs(4))
        .run()?;
    ensure(matches!(done.exit, Exit::Code(124) | Exit::Code(137) | Exit::Signal(9)), || {
        done.fail("wrong exit status after SIGKILL").expected("exit status 124 (or 137)").got(done.exit.to_string())
    })?;
    let took = done.elapsed.as_secs_f64();
    ensure((1.4..=4.0).contains(&took), || {
        done.fail("the command ignoring SIGTERM did not end about 1 s after the time ran out")
            .expected("between 1.4 s and 4 s after start (0.5 s, then SIGKILL 1 s after SIGTERM)")
            .got(format!("{took:.2} s"))
    })
}

/// Fractional seconds work: `timeout-run 0.2 sleep 10` ends (124) within 0.95 s.
fn timeout_fractional(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("timeout-run").args(["0.2", "sleep", "10"]).timeout(Duration::from_secs(3)).run()?;
    expect_status(&done, 124, "a command that runs too long")?;
    let took = done.elapsed.as_secs_f64();
    ensure(took <= 0.95, || {
        done.fail("0.2 seconds was not honoured").expected("done within 0.95 s").got(format!("{took:.2} s"))
    })
}

/// No command, or SECONDS not a number: usage error.
fn timeout_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    for args in [&[][..], &["1"], &["abc", "true"], &["-1", "true"]] {
        ctx.program("timeout-run").args(args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    Ok(())
}
