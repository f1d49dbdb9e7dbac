//! Lab `signals`: signal handlers (`sig-counter`, `sig-reaper`, `sig-segv`,
//! `timeout-run`).
//!
//! No check races the program: a signal is sent to `sig-counter` only after
//! its `pid` line, and the next one only once the kernel shows the previous
//! one is no longer pending (/proc/PID/status), so standard signals never
//! merge and the SIGHUP report always comes after the handler ran.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use ipc_engine::check::{Check, Fail, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::peer::Peer;
use ipc_engine::proc::{Exit, Proc};

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
        Check::new("reaper-one", reaper_one),
        Check::new("reaper-fifty", reaper_fifty),
        Check::new("reaper-500", reaper_500),
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

pub fn peers() -> Vec<Peer> {
    Vec::new()
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
                return Err(fail_running(running, &format!("{name} stayed pending for 3 s"))
                    .note("the program must wait with the signal unblocked (sigsuspend with the old mask, or pause)"));
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

// ---------------------------------------------------------------------------
// sig-reaper

/// Runs `sig-reaper N` and checks every line: N distinct pids, the multiset
/// of statuses `i % 256` for i in 0..N, and `reaped N children` last.
fn reaper(ctx: &mut Ctx, n: usize) -> Result<(), Fail> {
    let done = ctx.program("sig-reaper").arg(n.to_string()).run()?;
    done.expect_code(0)?;
    let stdout = done.stdout_text();
    let lines: Vec<&str> = stdout.lines().collect();
    let summary = format!("reaped {n} children");
    ensure(lines.last() == Some(&summary.as_str()), || {
        done.fail("the last line is not the summary")
            .expected(summary.clone())
            .got(lines.last().unwrap_or(&"(nothing)").to_string())
    })?;
    let mut pids = BTreeMap::new();
    let mut statuses: BTreeMap<i32, usize> = BTreeMap::new();
    for line in &lines[..lines.len() - 1] {
        let words: Vec<&str> = line.split(' ').collect();
        let parsed = match words.as_slice() {
            ["reaped", pid, "status", s] => pid.parse::<i32>().ok().zip(s.parse::<i32>().ok()),
            _ => None,
        };
        let Some((pid, status)) = parsed else {
            return Err(done.fail("a line is not `reaped PID status S`").got(line.to_string()));
        };
        if pids.insert(pid, status).is_some() {
            return Err(done.fail(format!("child {pid} is reported twice")).note("reap each child exactly once"));
        }
        *statuses.entry(status).or_default() += 1;
    }
    let mut expected: BTreeMap<i32, usize> = BTreeMap::new();
    for i in 0..n {
        *expected.entry((i % 256) as i32).or_default() += 1;
    }
    ensure(pids.len() == n, || {
        done.fail(format!("{} children reported, {n} forked", pids.len())).note(
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
