//! Waiting for a program to end, within the check's deadline or a shorter
//! wait, and collecting what it printed.

use std::time::{Duration, Instant};

use crate::check::{Done, Fail, Kind};
use crate::proc::Proc;

use super::Ctx;

/// How long after a program exits its output streams may take to reach end
/// of file (a process it left behind may hold them open).
const EOF_GRACE: Duration = Duration::from_millis(1000);

/// What a finished wait was bounded by, for the message of a time-out
/// (which states the limit once).
#[derive(Clone, Copy)]
pub(super) enum Waits {
    /// The check's own time limit.
    Check(Duration),
    /// A shorter wait the check allows this command.
    Timeout(Duration),
}

impl Ctx<'_> {
    /// Records that `running` ended: a program shown in the background gets
    /// a `wait` in the reproduction.
    pub(super) fn finished(&self, running: &Proc) {
        self.reproduction.lock().unwrap_or_else(|e| e.into_inner()).finished(running.pid(), false);
    }

    /// Waits for a program started with [`Cmd::spawn`](super::Cmd::spawn) to end (killing it at
    /// the check's deadline) and collects its output.
    pub fn finish(&self, running: &mut Proc) -> Result<Done, Fail> {
        let done = finish(running, self.deadline, Waits::Check(self.limit));
        self.finished(running);
        done
    }

    /// Waits at most `limit` (never past the deadline) for a program that
    /// should end soon (after `after`, e.g. "the grader sent a message"); one
    /// still running then is killed, and fails as a time-out with its output
    /// so far.
    pub fn finish_within(&self, running: &mut Proc, limit: Duration, after: &str) -> Result<Done, Fail> {
        if running.wait_until(self.within(limit)).is_none() {
            running.kill_group();
            let drained = Instant::now() + Duration::from_millis(100);
            running.stdout.wait_eof(drained);
            running.stderr.wait_eof(drained);
            self.finished(running);
            let mut fail = Fail::new(format!("still running {:.1} s after {after}", limit.as_secs_f64()))
                .kind(Kind::Timeout)
                .output_so_far(running);
            fail.ended = Some(KILLED.into());
            return Err(fail);
        }
        self.finish(running)
    }
}

/// How a program the check stopped waiting for ended: the grader killed it.
const KILLED: &str = "still running when the time ran out; the grader then killed it";

/// Waits for a spawned program to end (or kills it at `deadline`) and
/// collects its output.
pub(super) fn finish(running: &mut Proc, deadline: Instant, waits: Waits) -> Result<Done, Fail> {
    let start = running.started;
    let Some(exit) = running.wait_until(deadline) else {
        running.kill_group();
        // What was still in the pipes when it died belongs to "so far".
        let drained = Instant::now() + Duration::from_millis(100);
        running.stdout.wait_eof(drained);
        running.stderr.wait_eof(drained);
        let waited = start.elapsed().as_secs_f64();
        let what = match waits {
            Waits::Check(limit) => {
                format!(
                    "did not finish within the check's time limit of {:.1} s (waited {waited:.1} s)",
                    limit.as_secs_f64()
                )
            }
            Waits::Timeout(t) => format!("did not finish within {:.1} s (waited {waited:.1} s)", t.as_secs_f64()),
        };
        let mut fail = Fail::new(what).kind(Kind::Timeout).output_so_far(running);
        fail.ended = Some(KILLED.into());
        return Err(fail);
    };
    let elapsed = start.elapsed();
    let grace = deadline.min(Instant::now() + EOF_GRACE).max(Instant::now() + Duration::from_millis(50));
    running.stdout.wait_eof(grace);
    running.stderr.wait_eof(grace);
    Ok(Done {
        command: running.command.clone(),
        exit,
        stdout: running.stdout.bytes(),
        stdout_total: running.stdout.total(),
        stderr: running.stderr.bytes(),
        stderr_total: running.stderr.total(),
        elapsed,
    })
}
