//! How an idle program waits for signals, seen from outside.
//!
//! The contract (lab `signals`): a program that waits for signals keeps them
//! blocked except inside the wait itself, which is `sigsuspend`,
//! `sigwaitinfo`/`sigtimedwait`, or a read of a signalfd. The kernel shows
//! each thread's state: `/proc/PID/task/TID/syscall` names the system call
//! a sleeping thread is in (and its arguments), `status` its blocked
//! signals (`SigBlk`), and `/proc/PID/fdinfo/FD` the signals of a signalfd.
//!
//! What no look from outside can tell: the mask a thread had before it
//! called `sigsuspend` or `sigtimedwait` (inside either, `SigBlk` shows the
//! mask it sleeps with: sigtimedwait unblocks the signals it waits for
//! while it sleeps). A thread asleep in one of them is taken as waiting
//! correctly: both unblock and sleep in one step.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use ipc_engine::check::{Fail, Kind};
use ipc_engine::proc::procfs::{self, InSyscall};

/// The bit of signal `signo` in a mask (`SigBlk`, a signalfd's `sigmask`).
pub fn bit(signo: i32) -> u64 {
    1u64 << (signo - 1)
}

/// The signals of `mask` by name, e.g. `SIGHUP, SIGINT, SIGRTMIN`.
pub fn names(mask: u64) -> String {
    let rtmin = libc::SIGRTMIN();
    let mut found = Vec::new();
    for signo in 1..=64 {
        if mask & bit(signo) == 0 {
            continue;
        }
        found.push(match Signal::try_from(signo) {
            Ok(sig) => sig.as_str().to_string(),
            Err(_) if signo == rtmin => "SIGRTMIN".to_string(),
            Err(_) if signo > rtmin => format!("SIGRTMIN+{}", signo - rtmin),
            Err(_) => format!("signal {signo}"),
        });
    }
    found.join(", ")
}

/// One thread, as one look saw it.
#[derive(Debug, Clone, Copy)]
struct Thread {
    call: InSyscall,
    blocked: u64,
}

/// All threads of `pid`, each read twice around its mask (a look in which
/// a thread moved is no look). `None` if the process is gone or moved.
fn look(pid: Pid) -> Option<Vec<Thread>> {
    let mut threads = Vec::new();
    for tid in procfs::threads(pid) {
        let call = procfs::thread_syscall(pid, tid)?;
        let blocked = procfs::signal_mask(&procfs::thread_status(pid, tid)?, "SigBlk:")?;
        if procfs::thread_syscall(pid, tid)? != call {
            return None;
        }
        threads.push(Thread { call, blocked });
    }
    (!threads.is_empty()).then_some(threads)
}

/// What one look at a process found.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// Some thread was running: no verdict.
    Busy,
    /// Asleep, waiting as the contract says (how).
    Good(&'static str),
    /// Asleep, waiting otherwise (how, in words).
    Bad(String),
}

/// The union of the signals the process's signalfds take.
fn signalfd_signals(pid: Pid) -> u64 {
    procfs::fds(pid)
        .into_iter()
        .filter(|(_, target)| target.contains("signalfd"))
        .filter_map(|(fd, _)| procfs::signalfd_mask(pid, fd))
        .fold(0, |all, mask| all | mask)
}

/// A system call as the report names it: `pause()`, `nanosleep()`, or a
/// description.
fn call_name(nr: i64) -> String {
    match procfs::syscall_name(nr) {
        Some(name) if name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') => format!("{name}()"),
        Some(name) => name.to_string(),
        None => format!("system call number {nr}"),
    }
}

/// Whether system call `nr` waits on descriptors (poll, select, epoll).
fn is_poll(nr: i64) -> bool {
    matches!(procfs::syscall_name(nr), Some("poll" | "ppoll" | "select" | "pselect" | "epoll_wait" | "epoll_pwait"))
}

/// The verdict on one look: which thread waits, and how.
fn judge(pid: Pid, threads: &[Thread], wanted: u64) -> Seen {
    let mut calls = Vec::new();
    for t in threads {
        match t.call {
            InSyscall::Call { nr, args } => calls.push((nr, args, t.blocked)),
            InSyscall::Running | InSyscall::NotInCall => return Seen::Busy,
        }
    }
    let mut how = None;
    let mut wrong = None;
    let mut signalfds = None;
    for &(nr, args, blocked) in &calls {
        let unblocked = wanted & !blocked;
        let name = procfs::syscall_name(nr);
        if name == Some("sigsuspend") || name == Some("sigtimedwait/sigwaitinfo") {
            // Inside either, the thread's mask is the one it sleeps with.
            how = Some(if name == Some("sigsuspend") { "sigsuspend" } else { "sigwaitinfo" });
            continue;
        }
        if unblocked != 0 {
            wrong.get_or_insert(format!("in {} with {} unblocked", call_name(nr), names(unblocked)));
            continue;
        }
        let mut by_signalfd = || {
            let all = *signalfds.get_or_insert_with(|| signalfd_signals(pid));
            all & wanted == wanted
        };
        if name == Some("read") && procfs::signalfd_mask(pid, args[0] as i32).is_some() && by_signalfd() {
            how = Some("a read of a signalfd");
        } else if is_poll(nr) && by_signalfd() {
            how = Some("poll on a signalfd");
        }
    }
    match (wrong, how) {
        (Some(wrong), _) => Seen::Bad(wrong),
        (None, Some(how)) => Seen::Good(how),
        (None, None) => {
            let (nr, _, _) = calls[0];
            Seen::Bad(format!("in {} with {} blocked, and no thread waits for them", call_name(nr), names(wanted)))
        }
    }
}

/// What watching an idle program found, over one or more windows.
#[derive(Debug, Clone, Default)]
pub struct Watched {
    /// Looks taken, and those in which every thread was asleep.
    pub looks: u32,
    pub asleep: u32,
    /// How it waited correctly, and how often.
    pub good: Option<&'static str>,
    pub good_looks: u32,
    /// The first wrong way of waiting seen, and how often one was seen.
    pub bad: Option<String>,
    pub bad_looks: u32,
}

/// Looks wrong waiting must be seen in before it counts (a correct program
/// is never asleep elsewhere for three looks 10 ms apart while idle).
const BAD_LOOKS: u32 = 3;
/// Looks asleep a program must be seen in to pass.
const ASLEEP_LOOKS: u32 = 3;

/// Watches `pid` over `window` (a look every 10 ms) while it should be idle,
/// waiting for the signals of `wanted`. Adds to `seen`.
pub fn watch(pid: Pid, wanted: u64, window: Duration, seen: &mut Watched) -> Result<(), Fail> {
    let main = procfs::threads(pid).first().copied().unwrap_or(pid);
    if let Err(e) = std::fs::read_to_string(format!("/proc/{pid}/task/{main}/syscall")) {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            return Err(Fail::infra(format!(
                "cannot read /proc/{pid}/task/{main}/syscall ({}): the grader needs the right to trace its own \
                 children (kernel.yama.ptrace_scope at most 1)",
                ipc_engine::text::os_reason(&e)
            )));
        }
    }
    let until = Instant::now() + window;
    while Instant::now() < until {
        if let Some(threads) = look(pid) {
            seen.looks += 1;
            match judge(pid, &threads, wanted) {
                Seen::Busy => {}
                Seen::Good(how) => {
                    seen.asleep += 1;
                    seen.good_looks += 1;
                    seen.good = Some(how);
                }
                Seen::Bad(how) => {
                    seen.asleep += 1;
                    seen.bad_looks += 1;
                    seen.bad.get_or_insert(how);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

impl Watched {
    /// Whether it was seen waiting the wrong way often enough to fail now.
    pub fn racy(&self) -> bool {
        self.bad.is_some() && self.bad_looks >= BAD_LOOKS
    }

    /// Passes if the program was seen asleep, waiting as the contract says,
    /// and never (three times or more) waiting otherwise. `program` and
    /// `lesson` make the message: the lost wake-up, in its terms.
    pub fn verdict(&self, program: &str, wanted: u64, lesson: &str) -> Result<(), Fail> {
        let fix = format!(
            "Block {} (sigprocmask), look at what the handlers recorded while they are blocked, then sleep in \
             sigsuspend with the old mask: it unblocks and sleeps in one step, so a signal that is already pending \
             wakes it at once. Or keep them blocked and take them with sigwaitinfo, or by reading a signalfd.",
            names(wanted)
        );
        let saw = format!(
            "What the grader saw ({} looks at /proc/PID/task/*/syscall and SigBlk, 10 ms apart, while {program} \
             was idle): asleep in {}, {} of them waiting otherwise{}.",
            self.looks,
            self.asleep,
            self.bad_looks,
            self.good.map(|g| format!(", {} in {g}", self.good_looks)).unwrap_or_default()
        );
        if let (Some(bad), true) = (&self.bad, self.racy()) {
            return Err(Fail::new(format!(
                "{program} waits for signals {bad}: a signal that comes after it last looked for work and before \
                 it sleeps is handled in between, and it then sleeps through it"
            ))
            .kind(Kind::Behaviour)
            .clue("racy-wait")
            .note(format!("The lost wake-up: {lesson} It happens rarely, which is why trying by hand never shows it."))
            .note(fix)
            .note(saw));
        }
        if self.asleep < ASLEEP_LOOKS || self.good.is_none() {
            return Err(Fail::new(format!(
                "{program} was seen asleep in only {} of {} looks while it had nothing to do: a program that waits \
                 for signals sleeps until one comes",
                self.asleep, self.looks
            ))
            .kind(Kind::Behaviour)
            // A correct program that waits for a CPU is not asleep either.
            .timing(ipc_engine::check::Timing::CpuShare)
            .note(fix)
            .note(saw));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_named() {
        assert_eq!(names(bit(1) | bit(10)), "SIGHUP, SIGUSR1");
        assert_eq!(names(bit(libc::SIGRTMIN())), "SIGRTMIN");
    }

    #[allow(clippy::useless_conversion)] // c_long is i32 on 32-bit systems
    fn call(name: libc::c_long, blocked: u64) -> Thread {
        Thread { call: InSyscall::Call { nr: name.into(), args: [0; 6] }, blocked }
    }

    #[test]
    fn sigsuspend_is_good_pause_with_signals_unblocked_is_not() {
        let me = Pid::this();
        let wanted = bit(libc::SIGCHLD);
        assert_eq!(judge(me, &[call(libc::SYS_rt_sigsuspend, 0)], wanted), Seen::Good("sigsuspend"));
        // sigtimedwait unblocks what it waits for while it sleeps.
        assert_eq!(judge(me, &[call(libc::SYS_rt_sigtimedwait, 0)], wanted), Seen::Good("sigwaitinfo"));
        let Seen::Bad(how) = judge(me, &[call(libc::SYS_read, 0)], wanted) else { panic!() };
        assert!(how.contains("in read() with SIGCHLD unblocked"), "{how}");
        let Seen::Bad(how) = judge(me, &[call(libc::SYS_nanosleep, wanted)], wanted) else { panic!() };
        assert!(how.contains("no thread waits"), "{how}");
        let running = Thread { call: InSyscall::Running, blocked: 0 };
        assert_eq!(judge(me, &[running, call(libc::SYS_rt_sigsuspend, 0)], wanted), Seen::Busy);
        // Another thread that could take the signal outside the wait spoils it.
        let Seen::Bad(_) = judge(me, &[call(libc::SYS_rt_sigsuspend, 0), call(libc::SYS_futex, 0)], wanted) else {
            panic!()
        };
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn pause_is_named() {
        let Seen::Bad(how) = judge(Pid::this(), &[call(libc::SYS_pause, 0)], bit(1)) else { panic!() };
        assert_eq!(how, "in pause() with SIGHUP unblocked");
    }
}
