//! Code shared by the programs of lab `sockets`, given complete: stopping
//! cleanly on a signal is the `signals` lab's subject, not this one's.
//!
//! Use it from a program as `sockets::on_termination`.

/// Given complete, in common/src/lib.rs (see its documentation there).
#[allow(unused_imports)]
pub use ipc_common::on_termination;
