//! How much CPU a program uses while it should be waiting, next to what a
//! busy loop gets on the same machine meanwhile.

use std::time::Duration;

use crate::check::Fail;
use crate::peer;
use crate::proc::{self, Proc};

use super::Ctx;

impl Ctx<'_> {
    /// How each of `procs` uses the CPU over `window`: CPU time and how often
    /// it blocked, next to the CPU time a trusted busy loop (the engine's
    /// peer [`peer::SPIN`]) gets over the same window on the same machine. A
    /// program that ends during the window gives `None`. See [`CpuUse::verdict`].
    pub fn cpu_used(&mut self, procs: &mut [&mut Proc], window: Duration) -> Result<CpuUse, Fail> {
        let spin_ms = (window + Duration::from_millis(400)).as_millis().to_string();
        // Calibration, not part of what a person would do by hand.
        let mut spinner = self.peer(peer::SPIN)?.arg(spin_ms.as_str()).unshown().spawn()?;
        std::thread::sleep(Duration::from_millis(100));
        let sample = |p: &Proc| p.cpu_time().zip(proc::context_switches(p.pid()));
        let spin_before = spinner.cpu_time();
        let before: Vec<Option<(Duration, (u64, u64))>> = procs.iter().map(|p| sample(p)).collect();
        std::thread::sleep(window);
        let spin_after = spinner.cpu_time();
        let used = procs
            .iter_mut()
            .zip(before)
            .map(|(p, start)| match (start, sample(p), p.try_exit()) {
                (Some((cpu0, (vol0, inv0))), Some((cpu1, (vol1, inv1))), None) => Some(Usage {
                    cpu: cpu1.saturating_sub(cpu0),
                    blocked: vol1.saturating_sub(vol0),
                    preempted: inv1.saturating_sub(inv0),
                }),
                _ => None,
            })
            .collect();
        spinner.kill_group();
        let spinner = match (spin_before, spin_after) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => return Err(Fail::infra("the calibration spinner ended early")),
        };
        Ok(CpuUse { used, spinner, window })
    }
}

/// What [`Ctx::cpu_used`] measured.
#[derive(Debug, Clone)]
pub struct CpuUse {
    /// Each process over the window (`None`: it ended).
    pub used: Vec<Option<Usage>>,
    /// CPU time a busy loop got over the same window.
    pub spinner: Duration,
    pub window: Duration,
}

/// One process's use of the CPU over a window.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub cpu: Duration,
    /// Voluntary context switches: how often it blocked (slept, waited).
    pub blocked: u64,
    /// Involuntary context switches: how often it was preempted or yielded
    /// while still runnable.
    pub preempted: u64,
}

/// CPU time below which a process that sleeps is never blamed.
const CPU_FLOOR: Duration = Duration::from_millis(20);
/// Blocking fewer times than this in a window while running is busy
/// waiting: a correct waiter sleeps at least every few milliseconds, or
/// sleeps throughout (then it neither runs nor blocks).
const MIN_BLOCKS: u64 = 10;
/// "Running": this much CPU, or this many preemptions and yields. On a
/// loaded machine a busy loop that yields may get almost no CPU time, but it
/// is switched out hundreds of times a second.
const RUN_CPU: Duration = Duration::from_millis(5);
const RUN_SWITCHES: u64 = 20;

impl CpuUse {
    /// Whether a process waited without burning the CPU. It burns the CPU if
    /// it ran but never blocked (a busy loop, with or without sched_yield:
    /// this holds however loaded the machine is), or if it used more than
    /// `share` of what the busy loop got (and more than 20 ms). `Err` says
    /// which, in words for the report.
    pub fn verdict(&self, usage: Usage, share: f64) -> Result<(), String> {
        let window = self.window.as_secs_f64();
        let running = usage.cpu > RUN_CPU || usage.preempted > RUN_SWITCHES;
        if usage.blocked < MIN_BLOCKS && running {
            return Err(format!(
                "in {window:.1}s it ran ({:.3}s of CPU, switched out {} times while runnable) but blocked only {} \
                 times: it never sleeps",
                usage.cpu.as_secs_f64(),
                usage.preempted,
                usage.blocked
            ));
        }
        if usage.cpu <= CPU_FLOOR {
            return Ok(());
        }
        let limit = self.spinner.mul_f64(share).max(CPU_FLOOR);
        if usage.cpu > limit {
            return Err(format!(
                "it used {:.2}s of CPU in {window:.1}s, more than {:.0}% of the {:.2}s a busy loop got meanwhile",
                usage.cpu.as_secs_f64(),
                share * 100.0,
                self.spinner.as_secs_f64()
            ));
        }
        Ok(())
    }
}
