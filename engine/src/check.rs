//! What a check is, how it fails, and the expectations checks share.

use std::fmt::Display;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::ctx::Ctx;
use crate::proc::{Exit, Proc};
use crate::text;

/// The body of a check: runs programs through the context and returns
/// `Err(Fail)` at the first expectation they break.
pub type CheckFn = fn(&mut Ctx) -> Result<(), Fail>;

/// One observable behaviour of one program (or pair of programs): only the
/// code. Points, time limits and hints are the grader's business (its
/// rubric), not the engine's.
#[derive(Clone, Copy)]
pub struct Check {
    pub name: &'static str,
    pub run: CheckFn,
    /// Runs alone, after the parallel checks (for checks whose observation
    /// another check's load could disturb).
    pub exclusive: bool,
}

impl Check {
    pub const fn new(name: &'static str, run: CheckFn) -> Check {
        Check { name, run, exclusive: false }
    }

    pub const fn exclusive(mut self) -> Check {
        self.exclusive = true;
        self
    }
}

/// What kind of failure a check saw. Reports and hints choose by it (a
/// rubric may give a hint per kind): a program that hangs needs other advice
/// than one that prints the wrong bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// An observable effect other than output and status is wrong (a file,
    /// an IPC object, the order of events, CPU use).
    #[default]
    Behaviour,
    /// stdout or stderr is not what the contract says.
    Output,
    /// The exit status is wrong (or it died of a signal).
    Status,
    /// A program did not finish, or did not answer, in time.
    Timeout,
    /// Something was left behind: a process, an IPC object.
    Leak,
    /// A program is missing, could not be started, or did not compile.
    Missing,
    /// The grader or the machine failed, not the program.
    Infrastructure,
}

impl Kind {
    /// The name used in rubric files (`hints.timeout = "..."`) and reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Behaviour => "behaviour",
            Kind::Output => "output",
            Kind::Status => "status",
            Kind::Timeout => "timeout",
            Kind::Leak => "leak",
            Kind::Missing => "missing",
            Kind::Infrastructure => "infrastructure",
        }
    }

    pub const ALL: [Kind; 7] =
        [Kind::Behaviour, Kind::Output, Kind::Status, Kind::Timeout, Kind::Leak, Kind::Missing, Kind::Infrastructure];
}

/// Why a failure could be the machine's doing rather than the program's:
/// what it rests on is time, or a share of the CPU, which a crowded machine
/// takes away from a correct program. The runner runs such a failure again
/// alone when the machine was overloaded (see [`crate::runner`]); a failure
/// no load can cause (wrong bytes, a wrong exit status) has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timing {
    /// A time limit or a wait ran out.
    Deadline,
    /// CPU used against what a busy loop got, or how often it was seen asleep.
    CpuShare,
    /// Something took longer than a bound (a reply, a kill after a time).
    Latency,
    /// A window the program had to hit (e.g. still running when looked at).
    Race,
}

impl Timing {
    /// What the failure rests on, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Timing::Deadline => "a time limit",
            Timing::CpuShare => "a share of the CPU",
            Timing::Latency => "how long something took",
            Timing::Race => "a window in time",
        }
    }
}

/// Why a check failed, in words a student can act on, as named pieces
/// (reports choose what to show by field, never by the text's shape).
#[derive(Debug, Clone, Default)]
pub struct Fail {
    /// One sentence: what went wrong.
    pub what: String,
    pub kind: Kind,
    pub expected: Option<String>,
    pub got: Option<String>,
    /// The command that ran, as a person would type it (shown with --verbose).
    pub command: Option<String>,
    /// How the program ended, if that helps (`exit status 1`).
    pub ended: Option<String>,
    /// Excerpts of what the program printed, already escaped.
    pub stdout: Option<String>,
    pub stderr: Option<String>,
    /// The excerpts are of a program still running when the check stopped
    /// looking (a time-out): "stdout so far".
    pub so_far: bool,
    /// Further facts, one sentence each.
    pub notes: Vec<String>,
    /// Short names of symptoms the check recognised (`unwritten-bytes`,
    /// `unreaped-zombies`, ...): what a grader's diagnosis across checks
    /// looks for. Never shown to students as such; the check says the same
    /// in words in `what` or `notes`.
    pub clues: Vec<String>,
    /// Set when time or CPU share could have caused it (a time-out is
    /// always so): see [`Fail::time_dependent`].
    pub timing: Option<Timing>,
}

/// Lines and characters of output an excerpt keeps (the human report shows
/// the first lines unless `--verbose`).
pub const EXCERPT_LINES: usize = 40;
pub const EXCERPT_CHARS: usize = 4000;

impl Fail {
    pub fn new(what: impl Into<String>) -> Fail {
        Fail { what: what.into(), ..Fail::default() }
    }

    /// A failure of the grader or the machine, not of the program: the run
    /// exits 2.
    pub fn infra(what: impl Display) -> Fail {
        Fail::new(format!("grader error: {what}")).kind(Kind::Infrastructure)
    }

    pub fn is_infrastructure(&self) -> bool {
        self.kind == Kind::Infrastructure
    }

    pub fn kind(mut self, kind: Kind) -> Fail {
        self.kind = kind;
        self
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Fail {
        self.expected = Some(expected.into());
        self
    }

    pub fn got(mut self, got: impl Into<String>) -> Fail {
        self.got = Some(got.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Fail {
        self.notes.push(note.into());
        self
    }

    /// Says that the machine's load could cause this failure.
    pub fn timing(mut self, timing: Timing) -> Fail {
        self.timing = Some(timing);
        self
    }

    /// What time-dependent thing the failure rests on, if any: its own
    /// [`Fail::timing`], or a time limit for every time-out.
    pub fn time_dependent(&self) -> Option<Timing> {
        self.timing.or((self.kind == Kind::Timeout).then_some(Timing::Deadline))
    }

    /// Names a symptom the check recognised (see [`Fail::clues`]).
    pub fn clue(mut self, clue: &str) -> Fail {
        if !self.clues.iter().any(|c| c == clue) {
            self.clues.push(clue.to_string());
        }
        self
    }

    /// Whether the check recognised this symptom.
    pub fn has_clue(&self, clue: &str) -> bool {
        self.clues.iter().any(|c| c == clue)
    }

    pub fn command(mut self, command: impl Into<String>) -> Fail {
        self.command = Some(command.into());
        self
    }

    pub fn ended(mut self, ended: impl Display) -> Fail {
        self.ended = Some(ended.to_string());
        self
    }

    /// An excerpt of stdout (already escaped, e.g. by [`text::excerpt`]).
    pub fn stdout(mut self, excerpt: impl Into<String>) -> Fail {
        self.stdout = Some(excerpt.into());
        self
    }

    /// An excerpt of stderr (already escaped).
    pub fn stderr(mut self, excerpt: impl Into<String>) -> Fail {
        let excerpt = excerpt.into();
        if excerpt.contains("not yet implemented") && !excerpt.contains("todo!()") {
            self.notes.push("(this part is still a `todo!()` in your code)".into());
        }
        self.stderr = Some(excerpt);
        self
    }

    /// The command and what a program has printed so far, and whether it
    /// still runs or how it ended: the one way every check reports a
    /// program it stopped waiting for (a time-out, a missing line).
    pub fn output_so_far(mut self, running: &mut Proc) -> Fail {
        self.command = Some(running.command.clone());
        match running.try_exit() {
            Some(exit) => self.ended = Some(exit.to_string()),
            None => self.ended = Some("still running when the check stopped waiting".into()),
        }
        self.stdout = Some(text::excerpt(&running.stdout.bytes(), running.stdout.total(), EXCERPT_LINES, 1200));
        self = self.stderr(text::excerpt(&running.stderr.bytes(), running.stderr.total(), EXCERPT_LINES, 1200));
        self.so_far = true;
        self
    }
}

/// Waits (until `deadline`) for the first line a running program prints on
/// stdout, e.g. a server's `listening on ADDR`. If none comes, the failure
/// says so with what it printed so far and how it ended (a dying program
/// gets half a second to say why).
pub fn first_line(running: &mut Proc, deadline: Instant, expected: &str) -> Result<String, Fail> {
    let line = running.stdout.wait_for(deadline, |bytes| {
        let end = bytes.iter().position(|&b| b == b'\n')?;
        Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
    });
    if let Some(line) = line {
        return Ok(line);
    }
    let _ = running.wait_timeout(Duration::from_millis(500));
    running.stderr.wait_eof(Instant::now() + Duration::from_millis(200));
    let fail = Fail::new(format!("no `{expected}` line on stdout")).kind(Kind::Timeout).output_so_far(running);
    let stuck = fail.stderr.as_deref().is_some_and(|e| e.contains("not yet implemented"));
    Err(if stuck { fail } else { fail.note("print the line as soon as it is true, and flush stdout") })
}

/// How long a server may take to print its `listening on` line.
pub const LISTEN_WAIT: Duration = Duration::from_secs(3);

/// Waits for a server's first line, `listening on ADDR` (an IP address and
/// the port the system chose, never 0), and returns ADDR. It waits up to
/// [`LISTEN_WAIT`], and never past `deadline` (the check's).
pub fn listening_on_addr(server: &mut Proc, deadline: Instant) -> Result<SocketAddr, Fail> {
    let line = first_line(server, deadline.min(Instant::now() + LISTEN_WAIT), "listening on ADDR")?;
    let addr = line.strip_prefix("listening on ").and_then(|a| a.parse::<SocketAddr>().ok());
    let Some(addr) = addr else {
        return Err(Fail::new("the first line of stdout is not `listening on ADDR`")
            .expected("listening on 127.0.0.1:PORT (or [::1]:PORT for IPv6)")
            .kind(Kind::Output)
            .got(line)
            .command(&server.command));
    };
    ensure(addr.port() != 0, || {
        Fail::new("the `listening on` line shows port 0, not the port the system chose")
            .got(line.clone())
            .note("after bind to port 0, ask the socket for its address: getsockname(2) (`local_addr()`)")
    })?;
    Ok(addr)
}

/// Waits, as [`listening_on_addr`], for the first line of a server given
/// `path`, and expects `listening on PATH`.
pub fn listening_on_path(server: &mut Proc, path: &Path, deadline: Instant) -> Result<(), Fail> {
    let want = format!("listening on {}", path.display());
    let line = first_line(server, deadline.min(Instant::now() + LISTEN_WAIT), "listening on PATH")?;
    ensure(line == want, || {
        Fail::new("the first line of stdout is not `listening on PATH`")
            .kind(Kind::Output)
            .expected(want.clone())
            .got(text::one_line(&line, 200))
            .command(&server.command)
    })
}

/// Fails with `what` unless `cond` holds.
pub fn ensure(cond: bool, what: impl FnOnce() -> Fail) -> Result<(), Fail> {
    if cond { Ok(()) } else { Err(what()) }
}

/// A program that has finished, with what it printed.
#[derive(Debug, Clone)]
pub struct Done {
    /// The command as a person would type it (for messages).
    pub command: String,
    pub exit: Exit,
    pub stdout: Vec<u8>,
    pub stdout_total: u64,
    pub stderr: Vec<u8>,
    pub stderr_total: u64,
    pub elapsed: Duration,
}

impl Done {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    fn stderr_excerpt(&self) -> String {
        text::excerpt(&self.stderr, self.stderr_total, EXCERPT_LINES, EXCERPT_CHARS)
    }

    fn stdout_excerpt(&self) -> String {
        text::excerpt(&self.stdout, self.stdout_total, EXCERPT_LINES, EXCERPT_CHARS)
    }

    /// A failure about this run, with its command, how it ended and its
    /// stderr attached.
    pub fn fail(&self, what: impl Into<String>) -> Fail {
        Fail::new(what).command(&self.command).ended(self.exit).stderr(self.stderr_excerpt())
    }

    /// Expects `exit(code)`.
    pub fn expect_code(&self, code: i32) -> Result<&Done, Fail> {
        if self.exit == Exit::Code(code) {
            return Ok(self);
        }
        Err(self
            .fail(format!("{} where the contract asks for exit status {code}", self.exit))
            .kind(Kind::Status)
            .expected(format!("exit status {code}"))
            .got(self.exit.to_string())
            .stdout(self.stdout_excerpt()))
    }

    /// Expects stdout to be exactly `expected`.
    pub fn expect_stdout(&self, expected: &[u8]) -> Result<&Done, Fail> {
        if self.stdout_total == expected.len() as u64 && self.stdout == expected {
            return Ok(self);
        }
        Err(mismatch("stdout", expected, &self.stdout, self.stdout_total)
            .command(&self.command)
            .ended(self.exit)
            .stderr(self.stderr_excerpt()))
    }

    /// Expects nothing on stderr.
    pub fn expect_stderr_empty(&self) -> Result<&Done, Fail> {
        if self.stderr_total == 0 {
            return Ok(self);
        }
        Err(self
            .fail("printed on stderr where nothing was expected")
            .kind(Kind::Output)
            .expected("(nothing)")
            .got(text::excerpt(&self.stderr, self.stderr_total, 6, 600)))
    }

    /// Expects `line` as one whole line of stderr.
    pub fn expect_stderr_line(&self, line: &str) -> Result<&Done, Fail> {
        if self.stderr_text().lines().any(|l| l == line) {
            return Ok(self);
        }
        Err(Fail::new("the expected error message is not on stderr")
            .kind(Kind::Output)
            .expected(line.to_string())
            .got(text::excerpt(&self.stderr, self.stderr_total, 6, 600))
            .command(&self.command)
            .ended(self.exit))
    }

    /// Expects a usage error: status 2, one line on stderr, nothing on stdout.
    pub fn expect_usage_error(&self) -> Result<&Done, Fail> {
        self.expect_code(2)?;
        let stderr = self.stderr_text();
        let lines = stderr.lines().filter(|l| !l.trim().is_empty()).count();
        if lines != 1 {
            return Err(self
                .fail("a usage error should print exactly one line on stderr")
                .kind(Kind::Output)
                .expected("one line, e.g. `usage: ...`")
                .got(format!("{lines} lines")));
        }
        if self.stdout_total != 0 {
            return Err(self
                .fail("a usage error should print nothing on stdout")
                .kind(Kind::Output)
                .got(self.stdout_excerpt()));
        }
        Ok(self)
    }
}

/// A failure describing where `got` first differs from `expected`.
pub fn mismatch(stream: &str, expected: &[u8], got: &[u8], got_total: u64) -> Fail {
    let common = expected.iter().zip(got).take_while(|(a, b)| a == b).count();
    let small = expected.len() <= 400 && got_total <= 400;
    if small {
        return Fail::new(format!("{stream} is not what the contract says"))
            .kind(Kind::Output)
            .expected(text::excerpt(expected, expected.len() as u64, 12, 800))
            .got(text::excerpt(got, got_total, 12, 800));
    }
    let what = if got_total < expected.len() as u64 && common == got.len() {
        format!("{stream} stops early: {got_total} of {} bytes arrived, all correct", expected.len())
    } else if common == expected.len() {
        format!("{stream} has {} bytes more than the {} expected", got_total - expected.len() as u64, expected.len())
    } else {
        format!("{stream} differs from the expected {} bytes first at byte {common}", expected.len())
    };
    let around = |bytes: &[u8]| {
        let start = common.saturating_sub(16);
        let end = (common + 32).min(bytes.len());
        if start >= end {
            "(end of data)".to_string()
        } else {
            text::one_line(&text::escape(&bytes[start..end], true), 200)
        }
    };
    Fail::new(what)
        .kind(Kind::Output)
        .expected(format!("{} bytes; around byte {common}: {}", expected.len(), around(expected)))
        .got(format!("{got_total} bytes; around byte {common}: {}", around(got)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_names_the_first_differing_byte() {
        let expected = vec![7u8; 1000];
        let mut got = expected.clone();
        got[500] = 0;
        let fail = mismatch("stdout", &expected, &got, 1000);
        assert_eq!(fail.what, "stdout differs from the expected 1000 bytes first at byte 500");
    }

    #[test]
    fn mismatch_tells_a_short_stream() {
        let expected = vec![7u8; 1000];
        let fail = mismatch("stdout", &expected, &expected[..600], 600);
        assert_eq!(fail.what, "stdout stops early: 600 of 1000 bytes arrived, all correct");
    }
}
