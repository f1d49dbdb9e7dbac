//! Lab `signals`: the checks of `sig-counter`.

use std::time::Duration;

use nix::sys::signal::Signal;

use ipc_engine::check::{Fail, ensure};
use ipc_engine::ctx::Ctx;

use super::waiting::{self, Watched};

use super::harness::*;

/// `pid PID` is the first line, with the program's own pid.
pub(super) fn counter_pid(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut running = start_counter(ctx)?;
    let _ = running.signal(Signal::SIGKILL);
    Ok(())
}

/// SIGUSR1 and SIGUSR2, sent one at a time (each handled before the next is
/// sent), are counted exactly; a SIGHUP after each shows the counts.
pub(super) fn counter_usr_one_at_a_time(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn counter_rt_burst(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn counter_hup_goes_on(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut running = start_counter(ctx)?;
    expect_report(&mut running, 1, "usr1=0 usr2=0 rt=0", "the first SIGHUP")?;
    send(&mut running, Signal::SIGUSR2)?;
    expect_report(&mut running, 2, "usr1=0 usr2=1 rt=0", "SIGHUP, SIGUSR2, SIGHUP")?;
    ensure(running.try_exit().is_none(), || fail_running(&mut running, "sig-counter ended after SIGHUP"))?;
    let _ = running.signal(Signal::SIGKILL);
    Ok(())
}

/// SIGINT, and in another run SIGTERM, print the report, then `bye`, exit 0.
pub(super) fn counter_int_term(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn counter_idle_cpu(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut running = start_counter(ctx)?;
    std::thread::sleep(Duration::from_millis(100));
    let cpu = ctx.cpu_used(&mut [&mut running], Duration::from_millis(1500))?;
    let Some(used) = cpu.used[0] else {
        return Err(fail_running(&mut running, "sig-counter ended while waiting for signals"));
    };
    let _ = running.signal(Signal::SIGKILL);
    cpu.verdict(used, IDLE_CPU_SHARE).map_err(|why| {
        Fail::new(format!("sig-counter burns the CPU while it waits: {why}"))
            .timing(ipc_engine::check::Timing::CpuShare)
            .expected(format!(
                "a process asleep until a signal comes, using at most {:.0}% of what a busy loop gets",
                IDLE_CPU_SHARE * 100.0
            ))
            .note("sleep in sigsuspend (or sigwaitinfo, or a signalfd read) instead of looping over the flags")
    })
}

/// The lost wake-up as sig-counter meets it.
const COUNTER_LESSON: &str = "main finds no flag set; SIGHUP comes and its handler sets the flag; then main goes \
     to sleep, and sleeps until some other signal comes, the report still unprinted.";

/// While idle, before and after handling a signal, sig-counter sleeps as
/// the contract says: in sigsuspend, in sigwaitinfo/sigtimedwait with the
/// signals blocked, or reading a signalfd with them blocked; never in
/// pause() (or anything else) with them unblocked. It still counts, reports
/// and ends as the contract says.
pub(super) fn counter_waits_atomically(ctx: &mut Ctx) -> Result<(), Fail> {
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
