//! The grading engine of the IPC labs.
//!
//! It runs checks: functions that start programs through a [`ctx::Ctx`] and
//! observe them from outside (output, exit status, files, IPC objects,
//! processes, CPU time). The engine makes each check isolated (its own
//! folder, IPC names, process tag), bounded in time (deadline and watchdog)
//! and clean (everything it started is killed, every object it left is
//! reported and removed), and runs many in parallel ([`runner`]).
//!
//! It knows nothing of labs, rubrics, points or report formats: those are
//! the grader's (`ipc-grader`), built on top. The layering is in
//! ARCHITECTURE.md.
//!
//! - [`proc`]: starting, reaping and killing processes (subreaper, process
//!   groups, environment tags, the `kill(-1)` guard, output capture, /proc).
//! - [`check`]: a check, its typed failure ([`check::Fail`]) and the shared
//!   expectations on a finished program ([`check::Done`]).
//! - [`ctx`]: a check's world and the [`ctx::Cmd`] builder.
//! - [`runner`]: runs jobs in parallel, with the watchdog and the leak check.
//! - [`load`]: how crowded the machine is while checks run (a probe
//!   thread's scheduling delay, CPU pressure, load, usable CPUs).
//! - [`leaks`]: POSIX shared memory and message queues left behind.
//! - [`sysv`]: System V shared-memory segments: key files, leaks, clean-up.
//! - [`build`]: building a crate of the workspace into programs to grade.
//! - [`observe`]: the grader's probes that a program under test starts,
//!   seen in /proc.
//! - [`peer`]: trusted programs the engine and the labs run as partners.
//! - [`misuse`]: a program under test that runs the grader's own programs.
//! - [`sandbox`]: what confines student code: separate users, Landlock,
//!   private IPC namespaces, the seccomp filters.
//! - [`remove`]: removing a check's folder, whatever a program left in it.
//! - [`text`]: escaping and excerpts of whatever programs print.

pub mod build;
pub mod check;
pub mod ctx;
pub mod leaks;
pub mod load;
pub mod misuse;
pub mod net;
pub mod observe;
pub mod peer;
pub mod proc;
pub mod remove;
pub mod runner;
pub mod sandbox;
pub mod sysv;
pub mod text;
