//! Code shared by the programs of lab `fifo`: the longest line a client may
//! send, and ending the server cleanly on SIGINT or SIGTERM.

/// A write of at most `PIPE_BUF` bytes (4096 on Linux) to a pipe or FIFO is
/// atomic: its bytes land together, never mixed with another writer's.
pub const PIPE_BUF: usize = libc::PIPE_BUF;

/// The longest line a client sends: the line and its newline are one
/// atomic write.
pub const MAX_LINE: usize = PIPE_BUF - 1;

/// Given complete, in common/src/lib.rs (see its documentation there).
#[allow(unused_imports)]
pub use ipc_common::on_termination;

/// What exists only for broken/ (its fault hooks, broken/README.md).
#[cfg(ipc_faults)]
pub mod faults;
