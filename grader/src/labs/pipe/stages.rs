//! A pipeline's stages, seen by the grader itself: the checks run the
//! grader's probe as stages (`ipc-probe fds first`, ...), hold pipeline's
//! input open, and look at each probe in /proc while it waits for that
//! input to end (`ipc_engine::observe`). A report file the probe writes
//! afterwards is for a person reproducing the check: the program under
//! test could write it too, without running any stage.

use std::time::Duration;

use ipc_engine::check::{Done, Fail, Kind};
use ipc_engine::ctx::Ctx;
use ipc_engine::observe::{self, Probe};
use ipc_engine::proc::Proc;
use ipc_peers::pipe as probe;

/// How the reproduction holds pipeline's input open while the stages
/// wait, as the check does (`sleep 1 | pipeline ...`).
pub const HELD: &str = "sleep 1";

/// Waits until every stage in `stages` (each a probe's arguments, e.g.
/// `["fds", "first"]`) is seen in /proc as a process of the pipeline,
/// running the grader's probe and asleep reading its input; returns them
/// in the order given. Fails, naming the stages it never saw, if the
/// pipeline ends first or the check's time runs out.
pub fn wait_for(ctx: &Ctx, pipeline: &mut Proc, stages: &[&[&str]]) -> Result<Vec<Probe>, Fail> {
    let mut seen: Vec<Option<Probe>> = vec![None; stages.len()];
    // One more look after the pipeline ended: a stage it left running
    // (re-parented to the grader) still counts as seen.
    let mut last_look = false;
    loop {
        for found in observe::probes(pipeline.pid(), ctx.members(), probe::NAME) {
            let Some(i) = stages.iter().position(|s| found.args.iter().map(String::as_str).eq(s.iter().copied()))
            else {
                continue;
            };
            if seen[i].is_none() && found.waiting_on_stdin() {
                seen[i] = Some(found);
            }
        }
        if seen.iter().all(Option::is_some) {
            return Ok(seen.into_iter().flatten().collect());
        }
        let timed_out = ctx.check_deadline("waiting for pipeline's stages to start").is_err();
        if last_look || timed_out {
            let missing: Vec<String> = stages
                .iter()
                .zip(&seen)
                .filter(|(_, s)| s.is_none())
                .map(|(s, _)| format!("`{} {}`", probe::NAME, s.join(" ")))
                .collect();
            let ended = match pipeline.try_exit() {
                Some(exit) => format!("pipeline ended ({exit}) before they were seen"),
                None => format!("pipeline still ran after {:.1}s", ctx.limit().as_secs_f64()),
            };
            let fail = Fail::new(format!("the grader did not see the stage(s) {} run", missing.join(", ")))
                .expected("each stage running as a process that pipeline started, waiting for its input")
                .got(ended)
                .note(
                    "the grader looks at every stage in /proc while pipeline's input is held open: fork a \
                     child for each stage and execvp its program in it, the first stage reading pipeline's own stdin",
                );
            return Err(if timed_out { fail.kind(Kind::Timeout) } else { fail });
        }
        last_look = pipeline.try_exit().is_some();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Ends pipeline's input (the stages, seen, may end now) and waits a
/// little for pipeline to end: what it did with its stages is decided
/// already, and one that cannot end (a stage that never sees end of
/// file) is stopped.
pub fn release(ctx: &Ctx, pipeline: &mut Proc) -> Result<Done, Fail> {
    pipeline.close_stdin();
    ctx.finish_within(pipeline, Duration::from_secs(2), "its input ended")
}

/// Signal names of a mask of standard signals (bit `n - 1` for signal
/// `n`): the real-time ones (32 and up) belong to the C library and to
/// the programs that ask for them.
pub fn signal_names(mask: u64) -> Vec<String> {
    (1..32)
        .filter(|n| mask & (1u64 << (n - 1)) != 0)
        .map(|n| nix::sys::signal::Signal::try_from(n).map(|s| s.as_str().to_string()).unwrap_or(format!("SIG{n}")))
        .collect()
}
