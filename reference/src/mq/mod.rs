//! Code shared by the programs of lab `mq` (none: each program is short).

/// What exists only for broken/ (its fault hooks, broken/README.md).
#[cfg(ipc_faults)]
pub mod faults;
