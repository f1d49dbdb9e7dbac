//! Code that exists only for faults (broken/README.md): compiled into
//! broken/'s programs, never into the reference's.

use std::ffi::OsString;
use std::io::Write;
use std::sync::Mutex;

use nix::mqueue::MqdT;

/// `join-messages`: one message for all the words loses the boundaries.
pub fn joined(messages: Vec<OsString>) -> Vec<OsString> {
    vec![messages.join(std::ffi::OsStr::new(" "))]
}

/// `nul-terminator`: a C string's terminator is not part of the message.
pub fn nul_terminated(messages: Vec<OsString>) -> Vec<OsString> {
    messages.into_iter().map(|mut m| (m.push("\0"), m).1).collect()
}

/// `truncate-long`: cutting a message to the queue's size loses its end silently.
pub fn cut_to_queue_size<'a>(queue: &MqdT, message: &'a [u8]) -> &'a [u8] {
    let size = nix::mqueue::mq_getattr(queue).map_or(1024, |a| a.msgsize() as usize);
    &message[..message.len().min(size)]
}

/// `errno-name`: nix's Debug text is the errno's name (`ENOENT`), not the OS's text.
pub fn errno_name<T>(opened: nix::Result<T>, name: &str) -> ipc_common::Result<nix::Result<T>> {
    opened.map(Ok).map_err(|e| ipc_common::Error::new(name, format!("{e:?}")))
}

/// Output held back by `flush-at-exit`: a program whose output is
/// block-buffered prints only at exit.
static HELD_BACK: Mutex<Vec<u8>> = Mutex::new(Vec::new());

pub fn hold_back(line: &[u8]) {
    HELD_BACK.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(line);
}

pub fn print_held_back() {
    let mut out = std::io::stdout();
    let _ = out.write_all(&HELD_BACK.lock().unwrap_or_else(|e| e.into_inner())).and_then(|()| out.flush());
}

/// `one-deadline`: one deadline for all the receives, from the first one on.
pub fn left_of_first_deadline(timeout: Option<std::time::Duration>) -> Option<std::time::Duration> {
    static FIRST: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let started = *FIRST.get_or_init(std::time::Instant::now);
    timeout.map(|t| t.saturating_sub(started.elapsed()))
}
