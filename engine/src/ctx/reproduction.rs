//! The commands that reproduce a check by hand (`--verbose`): each step as
//! it happens, programs left running in the background, input and
//! arguments as shell expressions.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use nix::unistd::Pid;

use crate::peer;
use crate::text::shell_quote;

use super::Ctx;

impl Ctx<'_> {
    /// Adds a step to the commands that reproduce this check by hand, for
    /// something the check did itself rather than through a program (the
    /// queue it created with nix, a pause while a program waits): the
    /// command that does the same, e.g. `ipc-grader --peer ipc-mq create
    /// NAME --maxmsg 1 --msgsize 64` or `sleep 0.5`. A program started with
    /// [`Cmd::spawn`](super::Cmd::spawn) and still running is shown in the background (`&`).
    pub fn shown(&self, command: impl Into<String>) {
        self.reproduction.lock().unwrap_or_else(|e| e.into_inner()).step(command.into());
    }

    /// A step that runs one of the grader's peers by hand (`ipc-grader
    /// --peer NAME ARGS`, with `args` already quoted for the shell), for
    /// what the check did itself as that peer would; the reproduction then
    /// puts `ipc-grader` on `PATH`.
    pub fn shown_peer(&self, name: &str, args: &str) {
        self.shown_later().peer(name, args);
    }

    /// A handle that adds steps like [`Ctx::shown`] and outlives borrows of
    /// the context (for a clean-up step shown when a guard is dropped).
    pub fn shown_later(&self) -> Shown {
        Shown(self.reproduction.clone())
    }

    /// The commands that reproduce this check by hand, in an empty
    /// directory: first a line that puts the grader's own programs on
    /// `PATH` if a command needs them, then every step in order.
    pub(crate) fn take_reproduction(&mut self) -> Vec<String> {
        let repro = std::mem::take(&mut *self.reproduction.lock().unwrap_or_else(|e| e.into_inner()));
        let mut lines = Vec::new();
        if !repro.on_path.is_empty() {
            match peer::by_hand_dir(&repro.on_path) {
                Ok(dir) => lines.push(format!(
                    "export PATH={}:\"$PATH\"    # the grader's own programs ({})",
                    shell_quote(&dir.to_string_lossy()),
                    repro.on_path.iter().cloned().collect::<Vec<_>>().join(", ")
                )),
                Err(e) => lines.push(format!(
                    "# (the grader's own programs {} could not be linked for you: {e}; `cargo grade --peer-path` tries again)",
                    repro.on_path.iter().cloned().collect::<Vec<_>>().join(", ")
                )),
            }
        }
        let partial = repro.partial().map(str::to_string);
        lines.extend(repro.lines);
        if !lines.is_empty() {
            if let Some(program) = partial {
                lines.push(format!(
                    "# partial: while `{program}` ran, the grader also acted on it itself (sent it signals, \
                     connected to it, or read and wrote as it ran), which no command here shows; \
                     the failure above says what it did"
                ));
            }
        }
        lines
    }
}

pub(super) fn describe_input(bytes: &[u8]) -> String {
    if bytes.len() <= 200 {
        format!("printf {} |", printf_format(bytes))
    } else {
        format!("({} bytes of input) |", bytes.len())
    }
}

/// A `printf` format (quoted for the shell) that prints exactly `bytes`, on
/// one line whatever they hold: `'end of file\n'`.
pub fn printf_format(bytes: &[u8]) -> String {
    let mut s = String::from("'");
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'%' => s.push_str("%%"),
            b'\'' => s.push_str("'\\''"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\{b:03o}")),
        }
    }
    s.push('\'');
    s
}

/// Text made by a shell command as well as by the check, so that a
/// reproduction can make the same bytes: see [`numbers_text`].
#[derive(Debug, Clone)]
pub struct Made {
    pub text: String,
    /// The command that prints `text` (no trailing newline).
    pub shell: String,
}

/// `len` bytes of the numbers from 1 up, separated by spaces (`1 2 3 ...`),
/// as `seq -s ' ' N | head -c LEN` prints them: no byte pattern repeats, so
/// a lost, doubled or reordered chunk shows.
pub fn numbers_text(len: usize) -> Made {
    let mut text = String::new();
    let mut n = 0u64;
    while text.len() < len {
        n += 1;
        if n > 1 {
            text.push(' ');
        }
        text.push_str(&n.to_string());
    }
    text.truncate(len);
    Made { text, shell: format!("seq -s ' ' {n} | head -c {len}") }
}

/// An argument as the command shown in reports prints it: quoted for a
/// shell, or, when it is huge, only its size (a check that wants such an
/// argument reproducible gives it with [`Cmd::arg_made`](super::Cmd::arg_made)).
pub(super) fn shown_arg(arg: &str) -> String {
    const MAX: usize = 200;
    if arg.len() > MAX {
        return format!("ARG ({} bytes)", arg.len());
    }
    shell_quote(arg)
}

/// The steps that reproduce a check by hand, as they happen.
#[derive(Debug, Default)]
pub(super) struct Reproduction {
    pub(super) lines: Vec<String>,
    /// Programs started and not yet waited for: pid, their line, whether
    /// they are shown in the background, and their name.
    pub(super) running: Vec<(Pid, usize, bool, String)>,
    /// The grader's own programs the commands call by name.
    pub(super) on_path: BTreeSet<String>,
    /// Programs the check waited for after doing things with them that no
    /// step shows (it started them, then, before any other step, signalled
    /// them, talked to them or read them as they ran).
    pub(super) unshown: Vec<String>,
}

impl Reproduction {
    /// A step; programs still running go to the background.
    pub(super) fn step(&mut self, line: String) {
        for (_, at, background, _) in &mut self.running {
            if !*background {
                self.lines[*at].push_str(" &");
                *background = true;
            }
        }
        self.lines.push(line);
    }

    /// A program the check acted on in ways no step shows: one it waited
    /// for with no step between its start and its end, or one still in the
    /// foreground when the check ended (the check talked to it, then
    /// stopped it).
    pub(super) fn partial(&self) -> Option<&str> {
        let foreground = self.running.iter().find(|(_, _, background, _)| !background).map(|r| &r.3);
        self.unshown.first().or(foreground).map(String::as_str)
    }

    pub(super) fn spawned(&mut self, pid: Pid, line: String, name: String) {
        self.step(line);
        self.running.push((pid, self.lines.len() - 1, false, name));
    }

    /// A program that ended (or was stopped): one in the background is
    /// waited for. `at_once`: the check only waited for it (`Cmd::run`);
    /// otherwise, with no step since its start, what the check did with it
    /// meanwhile is not shown.
    pub(super) fn finished(&mut self, pid: Pid, at_once: bool) {
        if let Some(i) = self.running.iter().position(|(p, ..)| *p == pid) {
            let (_, _, background, name) = self.running.remove(i);
            if background {
                self.lines.push("wait".into());
            } else if !at_once {
                self.unshown.push(name);
            }
        }
    }
}

/// Adds steps to a check's reproduction (see [`Ctx::shown_later`]).
#[derive(Clone)]
pub struct Shown(Arc<Mutex<Reproduction>>);

impl Shown {
    pub fn step(&self, command: impl Into<String>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).step(command.into());
    }

    /// As [`Ctx::shown_peer`].
    pub fn peer(&self, name: &str, args: &str) {
        let mut repro = self.0.lock().unwrap_or_else(|e| e.into_inner());
        repro.on_path.insert(peer::GRADER.to_string());
        repro.step(format!("{} --peer {} {args}", peer::GRADER, shell_quote(name)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proc::{self, Spec};
    use std::time::Duration;

    /// What `sh -c script` prints (through the reaper, as every spawn here).
    fn sh(script: &str) -> Vec<u8> {
        let out = proc::output(Spec::new("sh", ["-c", script], "/"), Duration::from_secs(10)).unwrap();
        assert_eq!(out.exit, Some(proc::Exit::Code(0)), "{script}");
        out.stdout
    }

    /// A printf format reproduces newlines, quotes, percent signs and
    /// bytes that are not text, on one line.
    #[test]
    fn printf_format_is_one_line_and_exact() {
        let bytes = b"end of file\n'%s' \\ \x00\xff";
        let format = printf_format(bytes);
        assert!(!format.contains('\n'), "{format}");
        assert_eq!(sh(&format!("printf {format}")), bytes);
    }

    /// The numbers text is what `seq -s ' ' N | head -c LEN` prints.
    #[test]
    fn numbers_text_matches_its_shell_command() {
        for len in [1, 10, 5000] {
            let made = numbers_text(len);
            assert_eq!(made.text.len(), len);
            assert_eq!(String::from_utf8(sh(&made.shell)).unwrap(), made.text, "{}", made.shell);
        }
    }

    /// A program left running while the check does something else is shown
    /// in the background, and waited for when it ends; one run to its end
    /// stays in the foreground.
    #[test]
    fn programs_still_running_go_to_the_background() {
        let mut r = Reproduction::default();
        r.spawned(Pid::from_raw(1), "mq-recv /q".into(), "mq-recv".into());
        r.step("sleep 0.5".into());
        r.step("ipc-grader --peer ipc-mq send /q 0 hi".into());
        r.finished(Pid::from_raw(1), false);
        r.spawned(Pid::from_raw(2), "mq-recv /q".into(), "mq-recv".into());
        r.finished(Pid::from_raw(2), true);
        assert_eq!(
            r.lines,
            ["mq-recv /q &", "sleep 0.5", "ipc-grader --peer ipc-mq send /q 0 hi", "wait", "mq-recv /q"]
        );
        assert!(r.unshown.is_empty(), "every step was shown: {:?}", r.unshown);
    }

    /// A program the check did something with, between its start and its
    /// end, that no step shows (signals, say), or left running when it
    /// ended, makes the reproduction say it is partial, naming it.
    #[test]
    fn what_the_check_did_unseen_is_said() {
        let mut r = Reproduction::default();
        r.spawned(Pid::from_raw(1), "sig-counter".into(), "sig-counter".into());
        r.finished(Pid::from_raw(1), false);
        assert_eq!(r.partial(), Some("sig-counter"));
        let mut r = Reproduction::default();
        r.spawned(Pid::from_raw(1), "tcp-server 0".into(), "tcp-server".into());
        assert_eq!(r.partial(), Some("tcp-server"));
        let mut r = Reproduction::default();
        r.spawned(Pid::from_raw(1), "pipe-message hi".into(), "pipe-message".into());
        r.finished(Pid::from_raw(1), true);
        assert_eq!(r.partial(), None);
    }
}
