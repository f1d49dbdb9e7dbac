//! Code shared by the programs of lab `mq`: the entry point and reading
//! the command line.
//!
//! The starter reads its command line with clap and starts in Rust's
//! `fn main`, the right choices while learning. The reference does neither,
//! because here the cost shows: `cargo bench-ipc` starts an `mq-send` for
//! every batch of messages, and the reference is what students compare
//! their programs with. Measured (docs/performance.md, "What a process
//! costs before it does any IPC"): clap built its parser and kept copies of
//! every argument, and for 200 messages of 4 KiB that took longer than
//! sending them; `std::env::args_os` still copied every argument once.
//!
//! So each program starts where a C program starts, in `main(argc, argv)`
//! (`#![no_main]` and [`c_args`]), and reads its words where the kernel put
//! them: a message is never copied before `mq_send` copies it into the queue,
//! and its length is found just before that copy ([`Arg`]), as C's
//! `strlen(argv[i])` beside `mq_send` finds it.
//!
//! The rules are the contract's: options (`--count 3` or `--count=3`) may
//! come anywhere before `--`, operands keep their order, and anything else
//! that starts with `-` is an unknown option, a usage error.

use std::ffi::{CStr, OsStr, c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::str::FromStr;

/// The arguments after the program's name, as `main(argc, argv)` got them.
///
/// A program with `#![no_main]` exports the C entry point itself,
///
/// ```ignore
/// #[unsafe(no_mangle)]
/// extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int
/// ```
///
/// and the C library calls it as it would call a C program's `main`.
/// Rust's own start-up does not run then: standard input, output and error
/// are not checked to be open, `SIGPIPE` keeps its default action (death, as
/// in C), there is no guard page against stack overflow, and nothing is
/// flushed at exit but what the program flushes itself. Neither mq program
/// needs any of that: `mq-send` prints nothing on stdout, and `mq-recv`
/// writes every line with one write(2).
///
/// # Safety
///
/// `argc` and `argv` must be the ones the C library passed to `main`:
/// `argc` pointers to NUL-terminated strings.
pub unsafe fn c_args(argc: c_int, argv: *const *const c_char) -> Vec<Arg> {
    let count = usize::try_from(argc).unwrap_or(0);
    // SAFETY: by this function's contract argv holds argc pointers to
    // NUL-terminated strings, which is what an Arg needs (see Arg).
    (1..count).map(|i| Arg(unsafe { *argv.add(i) })).collect()
}

/// One argument, where execve(2) put it, not yet measured.
///
/// Its length is found (strlen(3)) only when its bytes are asked for: for
/// a message, just before `mq_send` copies it, while it is still in the
/// cache. Measuring every argument first and sending afterwards read 800
/// KiB twice, and made the sender of 200 messages of 4 KiB about 1.5% slower
/// (a C program that does the same was measured against the plain one:
/// docs/performance.md).
#[derive(Clone, Copy)]
pub struct Arg(*const c_char);

impl Arg {
    /// The argument's bytes, without the terminator.
    pub fn bytes(self) -> &'static [u8] {
        // SAFETY: an Arg is made only by c_args, from a pointer of main's
        // argv: a NUL-terminated string on the process's stack since
        // execve(2), never changed or freed before the process exits.
        unsafe { CStr::from_ptr(self.0) }.to_bytes()
    }

    /// The argument as an OsStr (its bytes).
    pub fn os_str(self) -> &'static OsStr {
        OsStr::from_bytes(self.bytes())
    }

    /// Its first byte and whether a second follows: all it takes to tell an
    /// operand from an option, without reading a message to its end.
    fn head(self) -> (u8, bool) {
        // SAFETY: as in `bytes`; a NUL-terminated string has at least its
        // terminator, and a second byte is read only if the first is not it.
        unsafe {
            let first = *self.0 as u8;
            (first, first != 0 && *self.0.add(1) != 0)
        }
    }
}

/// A usage error: the caller prints its one usage line and exits 2.
#[derive(Debug)]
pub struct Usage;

/// One word of the command line.
pub enum Word {
    /// `--NAME` (also `--NAME=VALUE`: [`Words::value`] then returns VALUE),
    /// or any other word starting with `-` before `--`.
    Option(&'static str),
    /// An operand: a word not starting with `-`, `-` alone, or any word after `--`.
    Operand(Arg),
}

/// The command line after the program's name, one word at a time.
pub struct Words {
    args: std::vec::IntoIter<Arg>,
    /// VALUE of a `--NAME=VALUE` just returned, until [`Words::value`] takes it.
    inline: Option<&'static OsStr>,
    /// `--` was seen: every later word is an operand.
    operands_only: bool,
}

impl Words {
    /// The words of a command line, without the program's name ([`c_args`]).
    pub fn new(args: Vec<Arg>) -> Words {
        Words { args: args.into_iter(), inline: None, operands_only: false }
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
            // Only the first two bytes decide: a message of 4 KiB is not
            // read through (let alone checked for UTF-8) to find it is an
            // operand.
            let (first, more) = word.head();
            if first != b'-' || !more {
                return Ok(Some(Word::Operand(word)));
            }
            if word.bytes() == b"--" {
                self.operands_only = true;
                continue;
            }
            // An option's name is text; a word starting with `-` that is not
            // UTF-8 is no option we know.
            let text = word.os_str().to_str().ok_or(Usage)?;
            return Ok(Some(match text.split_once('=') {
                Some((name, value)) if name.starts_with("--") => {
                    self.inline = Some(OsStr::new(value));
                    Word::Option(name)
                }
                _ => Word::Option(text),
            }));
        }
        Ok(None)
    }

    /// The value of the option just returned: after its `=`, or the next word.
    pub fn value(&mut self) -> Result<&'static OsStr, Usage> {
        self.inline.take().or_else(|| self.args.next().map(Arg::os_str)).ok_or(Usage)
    }

    /// The option's value as a decimal number within `range`.
    pub fn number<T: FromStr + PartialOrd>(&mut self, range: impl std::ops::RangeBounds<T>) -> Result<T, Usage> {
        let value = self.value()?;
        let number = value.to_str().and_then(|text| text.parse::<T>().ok()).ok_or(Usage)?;
        if range.contains(&number) { Ok(number) } else { Err(Usage) }
    }
}

/// An operand that must be text (a queue's name).
pub fn text(word: Arg) -> Result<&'static str, Usage> {
    word.os_str().to_str().ok_or(Usage)
}
