//! What a check is, how it fails, and the expectations checks share.

use std::fmt::Display;
use std::time::Duration;

use crate::ctx::Ctx;
use crate::proc::Exit;
use crate::text;

/// The body of a check: runs programs through the context and returns
/// `Err(Fail)` at the first expectation they break.
pub type CheckFn = fn(&mut Ctx) -> Result<(), Fail>;

/// One observable behaviour of one program (or pair of programs).
///
/// Points, time limit and hint live in the rubric (`rubric/LAB.toml`), not
/// here: this is only the code.
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

/// Why a check failed, in words a student can act on.
#[derive(Debug, Clone, Default)]
pub struct Fail {
    /// One sentence: what went wrong.
    pub what: String,
    pub expected: Option<String>,
    pub got: Option<String>,
    /// Further facts (stderr excerpts, the command that ran).
    pub notes: Vec<String>,
    /// The grader itself failed (not the program): the run exits 2.
    pub infrastructure: bool,
}

impl Fail {
    pub fn new(what: impl Into<String>) -> Fail {
        Fail { what: what.into(), ..Fail::default() }
    }

    /// A failure of the grader or the machine, not of the program.
    pub fn infra(what: impl Display) -> Fail {
        Fail { what: format!("grader error: {what}"), infrastructure: true, ..Fail::default() }
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
}

/// Fails with `what` unless `cond` holds.
pub fn ensure(cond: bool, what: impl FnOnce() -> Fail) -> Result<(), Fail> {
    if cond { Ok(()) } else { Err(what()) }
}

/// How much of a program's output a failure keeps (the human report shows
/// the first lines unless `--verbose`; JSON reports keep all of it).
const NOTE_LINES: usize = 40;
const NOTE_CHARS: usize = 4000;

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

    fn stderr_note(&self) -> String {
        let mut note = format!("stderr: {}", text::excerpt(&self.stderr, self.stderr_total, NOTE_LINES, NOTE_CHARS));
        if self.stderr_text().contains("not yet implemented") {
            note.push_str("\n(this part is still a `todo!()` in your code)");
        }
        note
    }

    fn stdout_note(&self) -> String {
        format!("stdout: {}", text::excerpt(&self.stdout, self.stdout_total, NOTE_LINES, NOTE_CHARS))
    }

    /// A failure about this run, with its command and stderr attached.
    pub fn fail(&self, what: impl Into<String>) -> Fail {
        Fail::new(what).note(format!("command: {}", self.command)).note(self.stderr_note())
    }

    /// Expects `exit(code)`.
    pub fn expect_code(&self, code: i32) -> Result<&Done, Fail> {
        if self.exit == Exit::Code(code) {
            return Ok(self);
        }
        Err(self
            .fail("wrong exit status")
            .expected(format!("exit status {code}"))
            .got(self.exit.to_string())
            .note(self.stdout_note()))
    }

    /// Expects stdout to be exactly `expected`.
    pub fn expect_stdout(&self, expected: &[u8]) -> Result<&Done, Fail> {
        if self.stdout_total == expected.len() as u64 && self.stdout == expected {
            return Ok(self);
        }
        Err(mismatch("stdout", expected, &self.stdout, self.stdout_total)
            .note(format!("command: {}", self.command))
            .note(format!("{} ({})", self.stderr_note(), self.exit)))
    }

    /// Expects nothing on stderr.
    pub fn expect_stderr_empty(&self) -> Result<&Done, Fail> {
        if self.stderr_total == 0 {
            return Ok(self);
        }
        Err(self.fail("printed on stderr where nothing was expected").expected("(nothing)").got(text::excerpt(
            &self.stderr,
            self.stderr_total,
            6,
            600,
        )))
    }

    /// Expects `line` as one whole line of stderr.
    pub fn expect_stderr_line(&self, line: &str) -> Result<&Done, Fail> {
        if self.stderr_text().lines().any(|l| l == line) {
            return Ok(self);
        }
        Err(Fail::new("the expected error message is not on stderr")
            .expected(line.to_string())
            .got(text::excerpt(&self.stderr, self.stderr_total, 6, 600))
            .note(format!("command: {}", self.command))
            .note(format!("({})", self.exit)))
    }

    /// Expects a usage error: status 2, one line on stderr, nothing on stdout.
    pub fn expect_usage_error(&self) -> Result<&Done, Fail> {
        self.expect_code(2)?;
        let stderr = self.stderr_text();
        let lines = stderr.lines().filter(|l| !l.trim().is_empty()).count();
        if lines != 1 {
            return Err(self
                .fail("a usage error should print exactly one line on stderr")
                .expected("one line, e.g. `usage: ...`")
                .got(format!("{lines} lines")));
        }
        if self.stdout_total != 0 {
            return Err(self.fail("a usage error should print nothing on stdout").got(self.stdout_note()));
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
