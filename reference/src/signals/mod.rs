//! Code shared by the programs of lab `signals`.

use std::os::raw::c_int;

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// Installs `handler` for `sig` with `sigaction(2)`, with `flags` and an
/// empty extra mask (the signal itself is blocked while its handler runs).
pub fn install(sig: Signal, handler: extern "C" fn(c_int), flags: SaFlags) -> nix::Result<()> {
    let action = SigAction::new(SigHandler::Handler(handler), flags, SigSet::empty());
    // SAFETY: every handler of this lab only touches atomics or calls
    // async-signal-safe functions, so it may interrupt the program anywhere.
    unsafe { sigaction(sig, &action) }.map(drop)
}

/// What exists only for broken/ (its fault hooks, broken/README.md).
#[cfg(ipc_faults)]
pub mod faults;
