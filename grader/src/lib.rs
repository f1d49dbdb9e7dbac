//! The IPC labs' grader, as a library (the binary is `src/main.rs`).
//!
//! See ARCHITECTURE.md for the map. In short: [`labs`] holds the checks,
//! [`rubric`] their points, [`runner`] runs them isolated and in parallel,
//! [`proc`] starts and kills programs, [`report`] writes the results.

pub mod batch;
pub mod build;
pub mod check;
pub mod cli;
pub mod ctx;
pub mod export;
pub mod formats;
pub mod handouts;
pub mod labs;
pub mod leaks;
pub mod proc;
pub mod report;
pub mod rubric;
pub mod runner;
pub mod sysv;
pub mod tamper;
pub mod text;
