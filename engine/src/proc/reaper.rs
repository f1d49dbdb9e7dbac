//! The reaper: one thread that waits for every child of the grader.
//!
//! The grader is a child subreaper (`PR_SET_CHILD_SUBREAPER`): orphans of the
//! programs under test are re-parented to it, not to PID 1, and this thread
//! reaps them. Nothing else in the process may call `wait`/`waitpid` (std's
//! `Child::wait` included): it would steal exit statuses from the reaper.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::Exit;

pub(super) struct Reaper {
    state: Mutex<ReaperState>,
    pub(super) changed: Condvar,
}

#[derive(Default)]
pub(super) struct ReaperState {
    /// Children started by [`spawn`] and not yet collected by their owner.
    /// `None` while running, `Some` once reaped.
    pub(super) ours: HashMap<i32, Option<Exit>>,
    /// Bumped by every spawn, so the reaper knows to wait again after ECHILD.
    pub(super) generation: u64,
}

pub(super) fn reaper() -> &'static Reaper {
    static REAPER: OnceLock<&'static Reaper> = OnceLock::new();
    REAPER.get_or_init(|| {
        // Orphans of the programs under test become our children, not PID 1's,
        // so that they can be reaped and never escape the sweep as zombies.
        let _ = nix::sys::prctl::set_child_subreaper(true);
        let reaper: &'static Reaper =
            Box::leak(Box::new(Reaper { state: Mutex::new(ReaperState::default()), changed: Condvar::new() }));
        std::thread::Builder::new()
            .name("reaper".into())
            .spawn(move || reaper.run())
            .expect("cannot start the reaper thread");
        reaper
    })
}

impl Reaper {
    pub(super) fn lock(&self) -> MutexGuard<'_, ReaperState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run(&self) {
        loop {
            let seen = self.lock().generation;
            match waitpid(None::<Pid>, Some(WaitPidFlag::__WALL)) {
                Ok(status) => {
                    let (pid, exit) = match status {
                        WaitStatus::Exited(pid, code) => (pid, Exit::Code(code)),
                        WaitStatus::Signaled(pid, sig, _) => (pid, Exit::Signal(sig as i32)),
                        _ => continue,
                    };
                    let mut state = self.lock();
                    // An unknown pid is an orphan adopted as subreaper: reaping
                    // it is all there is to do.
                    if let Some(slot) = state.ours.get_mut(&pid.as_raw()) {
                        *slot = Some(exit);
                        self.changed.notify_all();
                    }
                }
                Err(Errno::ECHILD) => {
                    let mut state = self.lock();
                    while state.generation == seen {
                        state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                    }
                }
                Err(_) => {}
            }
        }
    }
}
