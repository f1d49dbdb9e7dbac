//! Code shared by the programs of lab `mq`: reading the command line.
//!
//! The starter reads its command line with clap, the right choice while
//! learning. The reference reads it by hand, because here the cost shows:
//! `cargo bench-ipc` starts an `mq-send` for every batch of messages, and
//! the reference is what students compare their programs with. Measured
//! (handouts/performance.md, "What a process costs before it does any
//! IPC"): clap built its parser and kept copies of every argument, and for
//! 200 messages of 4 KiB that took longer than sending them. Here each
//! argument is copied once, by std's `args_os`, and then moved, never copied
//! again.
//!
//! The rules are the contract's: options (`--count 3` or `--count=3`) may
//! come anywhere before `--`, operands keep their order, and anything else
//! that starts with `-` is an unknown option, a usage error.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::str::FromStr;

/// A usage error: the caller prints its one usage line and exits 2.
#[derive(Debug)]
pub struct Usage;

/// One word of the command line.
pub enum Word {
    /// `--NAME` (also `--NAME=VALUE`: [`Words::value`] then returns VALUE),
    /// or any other word starting with `-` before `--`.
    Option(String),
    /// An operand: a word not starting with `-`, `-` alone, or any word after `--`.
    Operand(OsString),
}

/// The command line after the program's name, one word at a time.
pub struct Words {
    args: std::env::ArgsOs,
    /// VALUE of a `--NAME=VALUE` just returned, until [`Words::value`] takes it.
    inline: Option<OsString>,
    /// `--` was seen: every later word is an operand.
    operands_only: bool,
}

impl Words {
    /// The process's arguments, without its name.
    pub fn new() -> Words {
        let mut args = std::env::args_os();
        args.next();
        Words { args, inline: None, operands_only: false }
    }

    /// The next word, `Ok(None)` at the end. An option given a value it does
    /// not take (`--all=yes`: nobody called [`Words::value`]) is a usage error.
    pub fn next_word(&mut self) -> Result<Option<Word>, Usage> {
        if self.inline.take().is_some() {
            return Err(Usage);
        }
        for word in self.args.by_ref() {
            if self.operands_only {
                return Ok(Some(Word::Operand(word)));
            }
            let bytes = word.as_bytes();
            if bytes == b"--" {
                self.operands_only = true;
                continue;
            }
            // Only the first byte decides: a message of 4 KiB is not read
            // through (let alone checked for UTF-8) to find it is an operand.
            if bytes.len() < 2 || bytes[0] != b'-' {
                return Ok(Some(Word::Operand(word)));
            }
            // An option's name is text; a word starting with `-` that is not
            // UTF-8 is no option we know.
            let text = word.to_str().ok_or(Usage)?;
            return Ok(Some(match text.split_once('=') {
                Some((name, value)) if name.starts_with("--") => {
                    self.inline = Some(value.into());
                    Word::Option(name.to_string())
                }
                _ => Word::Option(text.to_string()),
            }));
        }
        Ok(None)
    }

    /// The value of the option just returned: after its `=`, or the next word.
    pub fn value(&mut self) -> Result<OsString, Usage> {
        self.inline.take().or_else(|| self.args.next()).ok_or(Usage)
    }

    /// The option's value as a decimal number within `range`.
    pub fn number<T: FromStr + PartialOrd>(&mut self, range: impl std::ops::RangeBounds<T>) -> Result<T, Usage> {
        let value = self.value()?;
        let number = value.to_str().and_then(|text| text.parse::<T>().ok()).ok_or(Usage)?;
        if range.contains(&number) { Ok(number) } else { Err(Usage) }
    }
}

/// An operand that must be text (a queue's name), as a `String`.
pub fn text(word: OsString) -> Result<String, Usage> {
    word.into_string().map_err(|_| Usage)
}
