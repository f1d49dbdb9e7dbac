//! `Cmd`: a program to start, `std::process::Command`-like, and how it is
//! shown to a person.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::check::{Done, Fail, Kind};
use crate::peer;
use crate::proc::{self, Input, Members, Proc, Spec};
use crate::text::shell_quote;

use super::reproduction::{describe_input, shown_arg};
use super::wait::{Waits, finish};
use super::{Ctx, DEFAULT_OUTPUT_CAP, Made};

/// A command being prepared, `std::process::Command`-like.
pub struct Cmd<'c, 'a> {
    pub(super) ctx: &'c mut Ctx<'a>,
    /// The contract name, for programs under test.
    pub(super) name: Option<String>,
    /// The peer's name, for the grader's own programs the check starts.
    pub(super) peer: Option<String>,
    pub(super) spec: Spec,
    pub(super) stdin_desc: Option<String>,
    /// Shown after the command: where its stdout goes (`| wc -c`).
    pub(super) stdout_desc: Option<String>,
    /// How each argument is shown, where not quoted as it is.
    pub(super) shown_args: Vec<Option<String>>,
    pub(super) timeout: Option<Duration>,
    /// Part of the reproduction (false for calibration the check does).
    pub(super) shown: bool,
}

impl<'c, 'a> Cmd<'c, 'a> {
    /// A program under test (or a launcher), confined as one; [`Ctx::peer`]
    /// confines its peers otherwise. Either starts from an empty
    /// environment with only these variables: nothing of the grader's
    /// (tokens, paths, secrets) reaches it.
    pub(super) fn new(ctx: &'c mut Ctx<'a>, program: PathBuf, name: Option<String>) -> Cmd<'c, 'a> {
        let mut env = vec![
            (OsString::from("PATH"), ctx.path_env.clone()),
            (OsString::from("LC_ALL"), OsString::from("C")),
            // A panic's message is what helps; a backtrace only buries it.
            (OsString::from("RUST_BACKTRACE"), OsString::from("0")),
            // Temporary files land in the check's own folder, removed after it.
            (OsString::from("TMPDIR"), ctx.dir.clone().into_os_string()),
            (OsString::from("HOME"), ctx.dir.clone().into_os_string()),
        ];
        if let Members::Tag(tag) = &ctx.members {
            env.push((OsString::from(proc::TAG_VAR), OsString::from(tag)));
        }
        let spec = Spec {
            program,
            arg0: None,
            args: Vec::new(),
            cwd: ctx.dir.clone(),
            env,
            stdin: Input::Null,
            output_cap: DEFAULT_OUTPUT_CAP,
            inherit_stderr: false,
            clear_env: true,
            confine: Some(ctx.program_confine.clone()),
        };
        Cmd {
            ctx,
            name,
            peer: None,
            spec,
            stdin_desc: None,
            stdout_desc: None,
            shown_args: Vec::new(),
            timeout: None,
            shown: true,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.spec.args.push(arg.as_ref().to_owned());
        self.shown_args.push(None);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    /// An argument too long to show (a 100 KiB TEXT), shown as the shell
    /// expression that makes the same bytes ([`numbers_text`](super::numbers_text)).
    pub fn arg_made(mut self, made: &Made) -> Self {
        self.spec.args.push(OsString::from(&made.text));
        self.shown_args.push(Some(format!("\"$({})\"", made.shell)));
        self
    }

    /// In the reproduction, stdout goes through `filter` (e.g. `wc -c`, or
    /// `cmp - input`): for output too large or too binary for a terminal.
    pub fn stdout_shown_through(mut self, filter: &str) -> Self {
        self.stdout_desc = Some(format!("| {filter}"));
        self
    }

    /// Feeds these bytes on stdin; the reproduction first writes a file
    /// `file` with `made_by` (a command whose output is like the bytes,
    /// e.g. `head -c 20971520 /dev/urandom`) and reads stdin from it.
    pub fn stdin_from_file(mut self, bytes: impl Into<Arc<Vec<u8>>>, file: &str, made_by: &str) -> Self {
        self.spec.stdin = Input::Bytes(bytes.into());
        self.ctx.shown(format!("{made_by} > {}", shell_quote(file)));
        self.stdin_desc = Some(format!("< {}", shell_quote(file)));
        self
    }

    /// Leaves this command out of the reproduction (calibration).
    pub(super) fn unshown(mut self) -> Self {
        self.shown = false;
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.spec.env.push((key.into(), value.as_ref().to_owned()));
        self
    }

    /// Feeds these bytes on stdin, then end of file.
    pub fn stdin_bytes(mut self, bytes: impl Into<Arc<Vec<u8>>>) -> Self {
        let bytes = bytes.into();
        self.stdin_desc = Some(describe_input(&bytes));
        self.spec.stdin = Input::Bytes(bytes);
        self
    }

    /// Like [`Cmd::stdin_bytes`], but says how to make the input by hand in
    /// the reproduce command (for large generated input).
    pub fn stdin_generated(mut self, bytes: impl Into<Arc<Vec<u8>>>, how: &str) -> Self {
        self.spec.stdin = Input::Bytes(bytes.into());
        self.stdin_desc = Some(format!("{how} |"));
        self
    }

    /// Keeps stdin as a pipe the check writes through [`Proc::stdin`].
    pub fn stdin_pipe(mut self) -> Self {
        self.spec.stdin = Input::Pipe;
        self.stdin_desc = Some("(input typed by the check) |".into());
        self
    }

    /// Keeps stdin as a pipe the check holds open until it closes it
    /// ([`Proc::close_stdin`]); the reproduction shows `shown |` (a
    /// command that holds it open a while, as the check does: `sleep 1`).
    pub fn stdin_held(mut self, shown: &str) -> Self {
        self.spec.stdin = Input::Pipe;
        self.stdin_desc = Some(format!("{shown} |"));
        self
    }

    /// Keeps up to `cap` bytes of stdout and of stderr.
    pub fn output_cap(mut self, cap: usize) -> Self {
        self.spec.output_cap = cap;
        self
    }

    /// Waits at most this long in [`Cmd::run`] (never past the check's deadline).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The command as a person would type it, in any directory: a program
    /// under test by its path, a peer as `ipc-grader --peer NAME` (the
    /// grader's own executable, which the reproduction puts on `PATH`).
    pub(super) fn display(&self) -> String {
        let mut words = match (&self.name, &self.peer) {
            (Some(_), _) => vec![shell_quote(&self.spec.program.to_string_lossy())],
            (None, Some(peer)) => vec![format!("{} --peer", peer::GRADER), shell_quote(peer)],
            (None, None) => vec![shell_quote(&self.spec.program.file_name().unwrap_or_default().to_string_lossy())],
        };
        words.extend(
            self.spec
                .args
                .iter()
                .zip(&self.shown_args)
                .map(|(a, shown)| shown.clone().unwrap_or_else(|| shown_arg(&a.to_string_lossy()))),
        );
        let mut cmd = words.join(" ");
        cmd = match &self.stdin_desc {
            Some(desc) if desc.ends_with('|') => format!("{desc} {cmd}"),
            Some(desc) => format!("{cmd} {desc}"),
            None => format!("{cmd} < /dev/null"),
        };
        if let Some(desc) = &self.stdout_desc {
            cmd = format!("{cmd} {desc}");
        }
        cmd
    }

    /// Starts the program and returns at once.
    pub fn spawn(self) -> Result<Proc, Fail> {
        let command = self.display();
        if let Some(name) = &self.name {
            if let Some(error) = self.ctx.programs.not_built(name) {
                return Err(Fail::new(format!("`{name}` did not compile, so this check could not run it"))
                    .kind(Kind::Missing)
                    .got(error.to_string())
                    .note(format!("fix the compiler's first error in `{name}`; the other programs were graded")));
            }
            if !self.spec.program.is_file() {
                return Err(Fail::new(format!("program `{name}` not found"))
                    .kind(Kind::Missing)
                    .expected(format!("an executable at {}", self.spec.program.display()))
                    .note("build it (cargo build), or check the folder given to --bin-dir"));
            }
        }
        let started = proc::spawn(&self.spec).map_err(|e| {
            let name = self.name.clone().unwrap_or_else(|| self.spec.program.display().to_string());
            Fail::new(format!("could not start `{name}`: {e}"))
                .kind(Kind::Missing)
                .command(&command)
                .note("is it an executable file (chmod +x) with a valid #! line or binary format?")
        })?;
        if self.shown {
            let mut repro = self.ctx.reproduction.lock().unwrap_or_else(|e| e.into_inner());
            if self.peer.is_some() {
                repro.on_path.insert(peer::GRADER.to_string());
            }
            let name = self.name.clone().unwrap_or_else(|| {
                self.spec.program.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            });
            repro.spawned(started.pid(), command.clone(), name);
        }
        self.ctx.spawned.push(started.pid());
        let mut started = started;
        started.command = command;
        Ok(started)
    }

    /// Runs the program to the end (or the time limit) and collects its output.
    pub fn run(self) -> Result<Done, Fail> {
        let waits = match self.timeout {
            Some(t) if self.ctx.within(t) < self.ctx.deadline => Waits::Timeout(t),
            _ => Waits::Check(self.ctx.limit),
        };
        let deadline = match waits {
            Waits::Timeout(t) => self.ctx.within(t),
            Waits::Check(_) => self.ctx.deadline,
        };
        let repro = self.ctx.reproduction.clone();
        let mut running = self.spawn()?;
        let done = finish(&mut running, deadline, waits);
        repro.lock().unwrap_or_else(|e| e.into_inner()).finished(running.pid(), true);
        done
    }
}
