//! The IPC labs' grader, as a library (the binary is `src/main.rs`), built
//! on the engine (`ipc-engine`), which runs checks without knowing what
//! they are for.
//!
//! See ARCHITECTURE.md for the map. In short: [`labs`] holds the checks and
//! peers of each lab, [`hidden`] the checks left out of the student
//! template, [`rubric`] their points and hints, [`grading`] turns the
//! engine's runs into scored outcomes, [`report`] and [`formats`] write
//! them for people and machines, [`cli`] is the command line; [`batch`],
//! [`export`] (with [`guidance`]), [`handouts`] and [`tamper`] serve
//! instructors; [`hints`] gives students hints on demand; [`workflow`]
//! keeps a GitHub Actions log free of commands from student code.

pub mod batch;
pub mod cli;
pub mod export;
pub mod formats;
pub mod gradescope;
pub mod grading;
pub mod guidance;
pub mod handouts;
pub mod hidden;
pub mod hints;
pub mod interrupt;
pub mod labs;
pub mod lockfile;
pub mod report;
pub mod rubric;
pub mod submission;
pub mod tamper;
pub mod watch;
pub mod workflow;
