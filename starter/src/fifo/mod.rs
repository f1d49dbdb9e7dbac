//! Code shared by the programs of lab `fifo`. `on_termination` is given
//! complete: stopping cleanly on a signal is the `signals` lab's subject, not
//! this one's. Use it from a program as `fifo::on_termination`.

/// A write of at most `PIPE_BUF` bytes (4096 on Linux, see pipe(7)) to a
/// pipe or FIFO is atomic: its bytes land together, never mixed with another
/// writer's. A longer write may be split and interleaved.
pub const PIPE_BUF: usize = libc::PIPE_BUF;

/// The longest line a client may send: the line and its newline make one
/// write of at most `PIPE_BUF` bytes.
pub const MAX_LINE: usize = PIPE_BUF - 1;

/// Given complete, in common/src/lib.rs (see its documentation there).
#[allow(unused_imports)]
pub use ipc_common::on_termination;
