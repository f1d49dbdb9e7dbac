//! How crowded the machine is while checks run: what the grader actually
//! gets, not what the machine has.
//!
//! A probe thread of the grader's own sleeps 10 ms again and again and
//! records how late it wakes (its scheduling delay); every 100 ms it also
//! notes the kernel's CPU pressure (`/proc/pressure/cpu`, the share of time
//! some task waited for a CPU), where the kernel has it. A window of a run
//! (one check, or the whole run) is judged from those samples, from the
//! load average and from the CPUs this process may use (its affinity and
//! its cgroup's quota, [`usable_cpus`]). Facilities the machine lacks are
//! said to be missing, never guessed.
//!
//! `IPC_GRADER_PRETEND_OVERLOADED=1` (or `0`) in the grader's environment
//! makes every window overloaded (or not), for tests; reports say it was
//! pretended.

use std::collections::VecDeque;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

/// The probe's sleep.
const TICK: Duration = Duration::from_millis(10);
/// Ticks per bucket of samples (100 ms).
const TICKS_PER_BUCKET: u32 = 10;
/// Buckets kept: the last 30 minutes.
const BUCKETS: usize = 18_000;

/// The environment variable that pretends a state of the machine.
pub const PRETEND: &str = "IPC_GRADER_PRETEND_OVERLOADED";

/// A machine is overloaded when some task waited for a CPU at least this
/// share of the time (CPU pressure, "some")...
const PRESSURE_OVERLOADED: f64 = 0.5;
/// ... or when a 10 ms sleep of the probe ended this late on average ...
const OVERSLEEP_OVERLOADED: Duration = Duration::from_millis(2);
/// ... or when the load average is this many times the usable CPUs.
const LOAD_OVERLOADED: f64 = 3.0;

/// 100 ms of the probe's samples.
#[derive(Clone, Copy)]
struct Bucket {
    start: Instant,
    ticks: u32,
    oversleep_sum: Duration,
    oversleep_max: Duration,
    /// `/proc/pressure/cpu`'s `some total=` (microseconds) at its start.
    pressure_total: Option<u64>,
}

static SAMPLES: Mutex<VecDeque<Bucket>> = Mutex::new(VecDeque::new());

/// Starts the probe thread (once per process; it runs until the process
/// ends, waking 100 times a second).
pub fn start() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        // Without a probe, windows have no samples and say so.
        let _ = std::thread::Builder::new().name("ipc-load-probe".into()).spawn(probe);
    });
}

fn probe() {
    loop {
        let mut bucket = Bucket {
            start: Instant::now(),
            ticks: 0,
            oversleep_sum: Duration::ZERO,
            oversleep_max: Duration::ZERO,
            pressure_total: pressure_total(),
        };
        for _ in 0..TICKS_PER_BUCKET {
            let before = Instant::now();
            std::thread::sleep(TICK);
            let late = before.elapsed().saturating_sub(TICK);
            bucket.ticks += 1;
            bucket.oversleep_sum += late;
            bucket.oversleep_max = bucket.oversleep_max.max(late);
        }
        let mut samples = SAMPLES.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() >= BUCKETS {
            samples.pop_front();
        }
        samples.push_back(bucket);
    }
}

/// CPU pressure: microseconds during which some task waited for a CPU,
/// since boot (`None`: the kernel has no PSI, or it is off).
fn pressure_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/pressure/cpu").ok()?;
    let some = text.lines().find(|l| l.starts_with("some "))?;
    some.split_whitespace().find_map(|f| f.strip_prefix("total="))?.parse().ok()
}

/// The 1-minute load average.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// The CPUs this process may use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cpus {
    /// CPUs in its affinity mask (`sched_getaffinity`), or online.
    pub affinity: usize,
    /// Its cgroup's quota in CPUs (v2 `cpu.max`, v1 `cpu.cfs_quota_us`),
    /// the smallest on the way up; `None` when there is none.
    pub quota: Option<f64>,
}

impl Cpus {
    /// How many CPUs' worth of time it may use.
    pub fn usable(&self) -> f64 {
        let affinity = self.affinity.max(1) as f64;
        self.quota.map_or(affinity, |q| q.min(affinity))
    }

    /// "2 usable CPUs", "a quota of 1.5 CPUs of 4", ...
    pub fn describe(&self) -> String {
        match self.quota {
            Some(q) if q < self.affinity as f64 => {
                format!("{} usable CPUs (a cgroup quota, of {})", trim(q), self.affinity)
            }
            _ => format!("{} usable CPU{}", self.affinity, if self.affinity == 1 { "" } else { "s" }),
        }
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The CPUs this process may use: its affinity mask and its cgroup's quota.
pub fn usable_cpus() -> Cpus {
    let affinity = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .ok()
        .map(|set| (0..nix::sched::CpuSet::count()).filter(|&i| set.is_set(i).unwrap_or(false)).count())
        .filter(|&n| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1);
    Cpus { affinity, quota: cgroup_quota() }
}

/// The smallest CPU quota of this process's cgroups and their parents.
fn cgroup_quota() -> Option<f64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mut quotas = Vec::new();
    for line in own.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (fields.next(), fields.next(), fields.next()) else { continue };
        let path = path.trim_start_matches('/');
        if controllers.is_empty() {
            // v2: "max 100000" or "150000 100000".
            for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
                quotas.extend(up_from(root, path, |dir| {
                    let text = std::fs::read_to_string(dir.join("cpu.max")).ok()?;
                    let mut f = text.split_whitespace();
                    let (quota, period) = (f.next()?, f.next()?);
                    ratio(quota.parse().ok()?, period.parse().ok()?)
                }));
            }
        } else if controllers.split(',').any(|c| c == "cpu") {
            for root in ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"] {
                quotas.extend(up_from(root, path, |dir| {
                    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok()?.trim().parse::<f64>().ok();
                    ratio(read("cpu.cfs_quota_us")?, read("cpu.cfs_period_us")?)
                }));
            }
        }
    }
    quotas.into_iter().reduce(f64::min)
}

fn ratio(quota: f64, period: f64) -> Option<f64> {
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

/// `read` of `root/path` and each folder above it up to `root`.
fn up_from(root: &str, path: &str, read: impl Fn(&std::path::Path) -> Option<f64>) -> Vec<f64> {
    let root = std::path::Path::new(root);
    let mut dir = root.join(path);
    let mut found = Vec::new();
    while dir.starts_with(root) {
        found.extend(read(&dir));
        if !dir.pop() {
            break;
        }
    }
    found
}

/// How crowded the machine was over a window, as measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    pub window: Duration,
    /// The probe's 10 ms sleeps in the window, and how late they ended.
    pub ticks: u32,
    pub oversleep_mean: Duration,
    pub oversleep_max: Duration,
    /// Share of the window during which some task waited for a CPU.
    pub pressure: Option<f64>,
    /// The 1-minute load average at the window's end.
    pub load_average: Option<f64>,
    pub cpus: Cpus,
    /// What [`PRETEND`] says, if set.
    pub pretended: Option<bool>,
}

impl Load {
    /// Whether the machine was too busy for timing to be trusted.
    pub fn overloaded(&self) -> bool {
        if let Some(pretended) = self.pretended {
            return pretended;
        }
        self.pressure.is_some_and(|p| p >= PRESSURE_OVERLOADED)
            || (self.ticks > 0 && self.oversleep_mean >= OVERSLEEP_OVERLOADED)
            || self.load_average.is_some_and(|l| l >= LOAD_OVERLOADED * self.cpus.usable())
    }

    /// The figures, in words: "CPU pressure 91% of the time; load average
    /// 16.2 on 2 usable CPUs; ...".
    pub fn figures(&self) -> String {
        let mut parts = Vec::new();
        match self.pressure {
            Some(p) => parts.push(format!("some task waited for a CPU {:.0}% of the time", p * 100.0)),
            None => parts.push("CPU pressure not measured (this kernel has no /proc/pressure/cpu)".into()),
        }
        match self.load_average {
            Some(l) => parts.push(format!("load average {l:.1} on {}", self.cpus.describe())),
            None => parts.push(format!("{} (no load average)", self.cpus.describe())),
        }
        if self.ticks > 0 {
            parts.push(format!(
                "the grader's 10 ms sleeps ended {:.1} ms late on average, {:.1} ms at worst",
                self.oversleep_mean.as_secs_f64() * 1000.0,
                self.oversleep_max.as_secs_f64() * 1000.0
            ));
        } else {
            parts.push("no scheduling delay measured (the window was too short for the probe)".into());
        }
        let mut text = parts.join("; ");
        if let Some(p) = self.pretended {
            text.push_str(&format!(
                " [{} pretended by {PRETEND}={}]",
                if p { "overloaded" } else { "not overloaded" },
                u8::from(p)
            ));
        }
        text
    }

    /// "the machine was overloaded (...)" or "the machine was not
    /// overloaded (...)".
    pub fn sentence(&self) -> String {
        let state = if self.overloaded() { "overloaded" } else { "not overloaded" };
        format!("the machine was {state} ({})", self.figures())
    }
}

/// What [`PRETEND`] asks for: `Some(true)` for `1`, `Some(false)` for `0`.
pub fn pretended() -> Option<bool> {
    match std::env::var(PRETEND).ok()?.trim() {
        "1" | "yes" | "true" => Some(true),
        "0" | "no" | "false" => Some(false),
        _ => None,
    }
}

/// The machine over `from..to` (the probe's buckets that began in it;
/// pressure between the first such bucket and the last).
pub fn between(from: Instant, to: Instant) -> Load {
    let samples = SAMPLES.lock().unwrap_or_else(|e| e.into_inner());
    let inside: Vec<Bucket> = samples.iter().filter(|b| b.start >= from && b.start <= to).copied().collect();
    drop(samples);
    let ticks: u32 = inside.iter().map(|b| b.ticks).sum();
    let sum: Duration = inside.iter().map(|b| b.oversleep_sum).sum();
    let pressure = match (inside.first(), inside.last()) {
        (Some(a), Some(b)) if b.start > a.start => match (a.pressure_total, b.pressure_total) {
            (Some(x), Some(y)) => {
                let span = b.start.duration_since(a.start).as_micros() as f64;
                Some((y.saturating_sub(x) as f64 / span).clamp(0.0, 1.0))
            }
            _ => None,
        },
        // Too short a window for two buckets: the kernel's own 10 s average.
        _ => pressure_avg10(),
    };
    Load {
        window: to.saturating_duration_since(from),
        ticks,
        oversleep_mean: if ticks > 0 { sum / ticks } else { Duration::ZERO },
        oversleep_max: inside.iter().map(|b| b.oversleep_max).max().unwrap_or_default(),
        pressure,
        load_average: load_average(),
        cpus: usable_cpus(),
        pretended: pretended(),
    }
}

/// `/proc/pressure/cpu`'s `some avg10=`, as a share.
fn pressure_avg10() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/pressure/cpu").ok()?;
    let some = text.lines().find(|l| l.starts_with("some "))?;
    let pct: f64 = some.split_whitespace().find_map(|f| f.strip_prefix("avg10="))?.parse().ok()?;
    Some(pct / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet() -> Load {
        Load {
            window: Duration::from_secs(10),
            ticks: 900,
            oversleep_mean: Duration::from_micros(100),
            oversleep_max: Duration::from_millis(1),
            pressure: Some(0.05),
            load_average: Some(1.0),
            cpus: Cpus { affinity: 2, quota: None },
            pretended: None,
        }
    }

    #[test]
    fn each_figure_can_say_overloaded() {
        assert!(!quiet().overloaded());
        assert!(Load { pressure: Some(0.9), ..quiet() }.overloaded());
        assert!(Load { oversleep_mean: Duration::from_millis(4), ..quiet() }.overloaded());
        assert!(Load { load_average: Some(6.5), ..quiet() }.overloaded());
        let one_cpu = Cpus { affinity: 2, quota: Some(1.0) };
        assert!(Load { load_average: Some(3.5), cpus: one_cpu, ..quiet() }.overloaded());
        assert!(Load { pretended: Some(true), ..quiet() }.overloaded());
        assert!(!Load { pressure: Some(0.9), pretended: Some(false), ..quiet() }.overloaded());
    }

    #[test]
    fn missing_facilities_are_said() {
        let text = Load { pressure: None, ticks: 0, ..quiet() }.sentence();
        assert!(text.starts_with("the machine was not overloaded ("), "{text}");
        assert!(text.contains("CPU pressure not measured"), "{text}");
        assert!(text.contains("no scheduling delay measured"), "{text}");
    }

    #[test]
    fn a_quota_below_the_affinity_counts() {
        let cpus = Cpus { affinity: 4, quota: Some(1.5) };
        assert_eq!(cpus.usable(), 1.5);
        assert_eq!(cpus.describe(), "1.5 usable CPUs (a cgroup quota, of 4)");
        assert_eq!(Cpus { affinity: 1, quota: None }.describe(), "1 usable CPU");
    }

    #[test]
    fn this_machine_has_a_cpu() {
        assert!(usable_cpus().usable() > 0.0);
    }
}
