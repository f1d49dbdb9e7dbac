//! Code shared by the programs of lab `signals`.

use std::os::raw::c_int;

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// Installs `handler` for `sig` with `sigaction(2)` (given complete: the lab
/// is what the handlers do and how main waits). The signal itself is blocked
/// while its handler runs. Flags you may want: `SaFlags::SA_RESTART`;
/// `SaFlags::SA_NOCLDSTOP` for SIGCHLD. Never `SA_RESETHAND`: it would
/// uninstall the handler after the first signal.
pub fn install(sig: Signal, handler: extern "C" fn(c_int), flags: SaFlags) -> nix::Result<()> {
    let action = SigAction::new(SigHandler::Handler(handler), flags, SigSet::empty());
    // SAFETY: the caller's handler must only touch atomics or call
    // async-signal-safe functions (see signal-safety(7)).
    unsafe { sigaction(sig, &action) }.map(drop)
}
