//! Lab `signals`: the checks of `sig-reaper`.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use ipc_engine::check::Fail;
use ipc_engine::ctx::Ctx;
use ipc_engine::proc::procfs::{self};

use super::waiting::{self, Watched, bit};

use super::harness::*;

/// `sig-reaper 1`: one child reaped with status 0, then `reaped 1 children`.
pub(super) fn reaper_one(ctx: &mut Ctx) -> Result<(), Fail> {
    reaper(ctx, 1)
}

/// `sig-reaper 50`: fifty children, each reaped once with its status.
pub(super) fn reaper_fifty(ctx: &mut Ctx) -> Result<(), Fail> {
    reaper(ctx, 50)
}

/// `sig-reaper 500`: many children end together, so SIGCHLD coalesces; all
/// are still reaped once, in the time limit.
pub(super) fn reaper_500(ctx: &mut Ctx) -> Result<(), Fail> {
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
pub(super) fn reaper_waits_atomically(ctx: &mut Ctx) -> Result<(), Fail> {
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
                    .note("child i sleeps (i * 7) % 50 milliseconds before it exits")
                    .timing(ipc_engine::check::Timing::Race));
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

/// N missing, not a number, 0 or over 1000: usage error.
pub(super) fn reaper_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    for args in [&[][..], &["ten"], &["0"], &["1001"], &["1", "2"]] {
        ctx.program("sig-reaper").args(args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    Ok(())
}
