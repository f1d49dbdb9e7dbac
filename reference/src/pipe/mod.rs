//! Code shared by the programs of lab `pipe` (none yet).

/// What exists only for broken/ (its fault hooks, broken/README.md).
#[cfg(ipc_faults)]
pub mod faults;
