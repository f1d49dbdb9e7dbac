//! Code that exists only for faults (broken/README.md): compiled into
//! broken/'s programs, never into the reference's.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// `collapse-spaces`: TEXT split into words and joined again loses runs of spaces.
pub fn collapse_spaces(text: &OsString) -> OsString {
    let words: Vec<&[u8]> = text.as_bytes().split(|b| *b == b' ').filter(|w| !w.is_empty()).collect();
    OsString::from_vec(words.join(&b' '))
}

/// `single-read`: one read() returns at most what the pipe holds (64 KiB).
pub fn first_read(mut received: Vec<u8>) -> Vec<u8> {
    received.truncate(1 << 16);
    received
}

/// `empty-stage-ok`: skipping blank stages hides the mistake instead of
/// reporting it.
pub fn without_empty_stages(mut stages: Vec<Vec<std::ffi::CString>>) -> Vec<Vec<std::ffi::CString>> {
    stages.retain(|argv| !argv.is_empty());
    stages
}

/// `shell-like-parent`, in the parent: ignore SIGINT and block SIGCHLD as a
/// shell does while it waits...
pub fn act_like_a_shell() {
    use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
    // SAFETY: SIG_IGN runs no handler code.
    let _ = unsafe { signal(Signal::SIGINT, SigHandler::SigIgn) };
    let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::from(Signal::SIGCHLD)), None);
}

/// ... and in each stage reset only SIGPIPE and keep the shell's mask
/// (SIGCHLD blocked again after the stage emptied its mask).
pub fn default_sigpipe_only() {
    use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
    // SAFETY: installing SIG_DFL runs no handler code.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::from(Signal::SIGCHLD)), None);
}

/// `stderr-to-null`: silencing the stages loses their error messages.
pub fn stderr_to_null() {
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = nix::unistd::dup2_stderr(&null);
    }
}
