//! Lab `signals`: the checks of `timeout-run`.

use std::time::{Duration, Instant};

use ipc_engine::check::{Fail, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::proc::Exit;

use super::harness::*;

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
pub(super) fn timeout_command_status(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("timeout-run").args(["5", "true"]).run()?;
    expect_status(&done, 0, "a command that exits 0")?;
    let done = ctx.program("timeout-run").args(["5", "sh", "-c", "exit 3"]).run()?;
    expect_status(&done, 3, "a command that exits 3")
}

/// `timeout-run 0.5 sleep 10` ends with 124 after about 0.5 s (0.45 to 2.5 s).
pub(super) fn timeout_expires(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("timeout-run").args(["0.5", "sleep", "10"]).timeout(Duration::from_secs(4)).run()?;
    expect_status(&done, 124, "a command that runs too long")?;
    let took = done.elapsed.as_secs_f64();
    ensure((0.45..=2.5).contains(&took), || {
        let fail =
            done.fail("timed out at the wrong time").expected("between 0.45 s and 2.5 s").got(format!("{took:.2} s"));
        if took > 2.5 { fail.timing(ipc_engine::check::Timing::Latency) } else { fail }
    })
}

/// A command that cannot be found: 127.
pub(super) fn timeout_not_found(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("timeout-run").args(["5", "ipclabs-no-such-program"]).run()?;
    expect_status(&done, 127, "a command that does not exist")
}

/// A command that exists but cannot be run (no execute permission): 126.
pub(super) fn timeout_not_executable(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.write_file("not-executable", b"#!/bin/sh\nexit 0\n")?;
    let done = ctx.program("timeout-run").args(["5", "./not-executable"]).run()?;
    expect_status(&done, 126, "a file without execute permission")
}

/// A command killed by signal N: 128+N (SIGTERM 143, SIGKILL 137).
pub(super) fn timeout_signal_status(ctx: &mut Ctx) -> Result<(), Fail> {
    for (sig, n) in [("TERM", 15), ("KILL", 9)] {
        let done = ctx.program("timeout-run").args(["5", "sh", "-c", &format!("kill -{sig} $$")]).run()?;
        expect_status(&done, 128 + n, &format!("a command killed by SIG{sig}"))?;
    }
    Ok(())
}

/// On timeout the whole process group goes: a grandchild (`sleep 30 &` of
/// a shell) is gone within 1 s of timeout-run's exit.
pub(super) fn timeout_kills_group(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn timeout_kill_after(ctx: &mut Ctx) -> Result<(), Fail> {
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
        let fail = done
            .fail("the command ignoring SIGTERM did not end about 1 s after the time ran out")
            .expected("between 1.4 s and 4 s after start (0.5 s, then SIGKILL 1 s after SIGTERM)")
            .got(format!("{took:.2} s"));
        if took > 4.0 { fail.timing(ipc_engine::check::Timing::Latency) } else { fail }
    })
}

/// Fractional seconds work: `timeout-run 0.2 sleep 10` ends (124) within 0.95 s.
pub(super) fn timeout_fractional(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("timeout-run").args(["0.2", "sleep", "10"]).timeout(Duration::from_secs(3)).run()?;
    expect_status(&done, 124, "a command that runs too long")?;
    let took = done.elapsed.as_secs_f64();
    ensure(took <= 0.95, || {
        done.fail("0.2 seconds was not honoured")
            .expected("done within 0.95 s")
            .got(format!("{took:.2} s"))
            .timing(ipc_engine::check::Timing::Latency)
    })
}

/// No command, or SECONDS not a number: usage error.
pub(super) fn timeout_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    for args in [&[][..], &["1"], &["abc", "true"], &["-1", "true"]] {
        ctx.program("timeout-run").args(args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    Ok(())
}
