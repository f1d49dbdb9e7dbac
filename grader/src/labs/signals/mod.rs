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
//!
//! The checks of each program are in a file of its own: `counter.rs`,
//! `reaper.rs`, `segv.rs`, `timeout.rs`; `harness.rs` starts the programs,
//! sends signals and reads what they report.

use ipc_engine::check::Check;

mod counter;
mod harness;
mod reaper;
mod segv;
mod timeout;
mod waiting;

use counter::*;
use reaper::*;
use segv::*;
use timeout::*;

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
