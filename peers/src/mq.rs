//! The grader's own, trusted side of a message queue: checks create, fill,
//! inspect and drain queues with nix directly, so that each student program
//! is tested on its own. Every call here is non-blocking.
//!
//! Each call a check makes is also a step of the check's reproduction: the
//! peer [`NAME`] (`ipc-grader --peer ipc-mq ...`) does the same by hand,
//! through the same functions, so a student can make the queue the check
//! made, with its attributes, and look into it as the check did.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::process::ExitCode;

use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, MqdT, mq_close, mq_getattr, mq_open, mq_receive, mq_send};
use nix::sys::stat::{Mode, fstat};

use ipc_engine::check::Fail;
use ipc_engine::ctx::Ctx;
use ipc_engine::text::shell_quote;

/// The peer that does by hand what this module does for a check.
pub const NAME: &str = "ipc-mq";

/// One message as received: priority and bytes.
pub type Message = (u32, Vec<u8>);

/// An open queue of the grader's, closed when dropped.
///
/// nix's `MqdT` does not close itself: a forgotten descriptor keeps even an
/// unlinked queue's memory charged to the user's RLIMIT_MSGQUEUE (800 KiB),
/// and the grader runs many checks in one process.
pub struct Queue {
    name: String,
    mqd: Option<MqdT>,
}

impl Drop for Queue {
    fn drop(&mut self) {
        if let Some(mqd) = self.mqd.take() {
            let _ = mq_close(mqd);
        }
    }
}

/// A queue's attributes, as `mq_getattr` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr {
    pub maxmsg: i64,
    pub msgsize: i64,
    pub curmsgs: i64,
}

impl Queue {
    /// Creates a new queue (mode 0600) that must not exist yet; shown as
    /// `ipc-mq create NAME --maxmsg N --msgsize S`.
    pub fn create(ctx: &Ctx, name: &str, maxmsg: i64, msgsize: i64) -> Result<Queue, Fail> {
        ctx.shown_peer(NAME, &format!("create {} --maxmsg {maxmsg} --msgsize {msgsize}", shell_quote(name)));
        Queue::create_quietly(name, maxmsg, msgsize)
    }

    fn create_quietly(name: &str, maxmsg: i64, msgsize: i64) -> Result<Queue, Fail> {
        let flags = MQ_OFlag::O_RDWR | MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_NONBLOCK;
        let attr = MqAttr::new(0, maxmsg, msgsize, 0);
        let mqd = mq_open(name, flags, Mode::from_bits_truncate(0o600), Some(&attr)).map_err(|e| {
            Fail::infra(format!("mq_open({name}, O_CREAT|O_EXCL, maxmsg {maxmsg}, msgsize {msgsize}): {e}"))
        })?;
        Ok(Queue { name: name.to_string(), mqd: Some(mqd) })
    }

    /// Opens a queue a program under test should have created.
    pub fn open(name: &str, who: &str) -> Result<Queue, Fail> {
        // Past its mode: a queue made with the wrong one must still be seen.
        let opened = ipc_engine::sandbox::identity::overriding(|| {
            mq_open(name, MQ_OFlag::O_RDWR | MQ_OFlag::O_NONBLOCK, Mode::empty(), None)
        });
        match opened {
            Ok(mqd) => Ok(Queue { name: name.to_string(), mqd: Some(mqd) }),
            Err(Errno::ENOENT) => Err(Fail::new(format!("the queue {name} does not exist after {who}"))
                .expected(format!("a queue {name}, created by mq_open with O_CREAT"))
                .got("mq_open: No such file or directory")),
            Err(e) => Err(Fail::infra(format!("mq_open({name}): {e}"))),
        }
    }

    fn mqd(&self) -> &MqdT {
        self.mqd.as_ref().expect("open until dropped")
    }

    /// Sends one message; the queue must have room. Shown as
    /// `ipc-mq send NAME PRIORITY MESSAGE`.
    pub fn send(&self, ctx: &Ctx, priority: u32, message: &[u8]) -> Result<(), Fail> {
        let shown = String::from_utf8_lossy(message);
        ctx.shown_peer(NAME, &format!("send {} {priority} {}", shell_quote(&self.name), shell_quote(&shown)));
        self.send_quietly(priority, message)
    }

    /// [`Queue::send`] of text that a shell command makes (too long to show).
    pub fn send_made(&self, ctx: &Ctx, priority: u32, made: &ipc_engine::ctx::Made) -> Result<(), Fail> {
        ctx.shown_peer(NAME, &format!("send {} {priority} \"$({})\"", shell_quote(&self.name), made.shell));
        self.send_quietly(priority, made.text.as_bytes())
    }

    fn send_quietly(&self, priority: u32, message: &[u8]) -> Result<(), Fail> {
        mq_send(self.mqd(), message, priority).map_err(|e| {
            Fail::infra(format!("the grader's mq_send of {} bytes to {} failed: {e}", message.len(), self.name))
        })
    }

    /// The queue's attributes.
    pub fn attr(&self) -> Result<Attr, Fail> {
        let a = mq_getattr(self.mqd()).map_err(|e| Fail::infra(format!("mq_getattr({}): {e}", self.name)))?;
        Ok(Attr { maxmsg: a.maxmsg(), msgsize: a.msgsize(), curmsgs: a.curmsgs() })
    }

    /// The permission bits of the queue (a queue descriptor is a file descriptor on Linux).
    pub fn mode(&self) -> Result<u32, Fail> {
        let st = fstat(self.mqd().as_fd()).map_err(|e| Fail::infra(format!("fstat({}): {e}", self.name)))?;
        Ok(st.st_mode & 0o7777)
    }

    /// The mode and attributes as `ipc-mq stat NAME` prints them.
    pub fn stat(&self) -> Result<String, Fail> {
        let a = self.attr()?;
        Ok(format!(
            "mode {:04o}, mq_maxmsg {}, mq_msgsize {}, mq_curmsgs {}",
            self.mode()?,
            a.maxmsg,
            a.msgsize,
            a.curmsgs
        ))
    }

    /// Shows `ipc-mq stat NAME` (the check looks at the mode or attributes).
    pub fn show_stat(&self, ctx: &Ctx) {
        ctx.shown_peer(NAME, &format!("stat {}", shell_quote(&self.name)));
    }

    /// Receives every message now in the queue, in the kernel's order
    /// (highest priority first, oldest first within a priority). Shown as
    /// `ipc-mq drain NAME`, which prints them as [`show`] does.
    pub fn drain(&self, ctx: &Ctx) -> Result<Vec<Message>, Fail> {
        ctx.shown_peer(NAME, &format!("drain {}", shell_quote(&self.name)));
        self.drain_quietly()
    }

    fn drain_quietly(&self) -> Result<Vec<Message>, Fail> {
        let attr = self.attr()?;
        // Bounded: never more than the queue can hold (plus one for a racing sender).
        self.receive_quietly(attr.maxmsg.max(attr.curmsgs) + 1)
    }

    /// Receives at most `limit` messages, fewer if the queue runs empty.
    /// Shown as `ipc-mq receive NAME LIMIT`.
    pub fn receive_up_to(&self, ctx: &Ctx, limit: i64) -> Result<Vec<Message>, Fail> {
        ctx.shown_peer(NAME, &format!("receive {} {limit}", shell_quote(&self.name)));
        self.receive_quietly(limit)
    }

    fn receive_quietly(&self, limit: i64) -> Result<Vec<Message>, Fail> {
        let attr = self.attr()?;
        let mut buf = vec![0u8; attr.msgsize.max(1) as usize];
        let mut got = Vec::new();
        for _ in 0..limit {
            let mut priority = 0;
            match mq_receive(self.mqd(), &mut buf, &mut priority) {
                Ok(len) => got.push((priority, buf[..len].to_vec())),
                Err(Errno::EAGAIN) => break,
                Err(e) => return Err(Fail::infra(format!("the grader's mq_receive from {} failed: {e}", self.name))),
            }
        }
        Ok(got)
    }
}

/// Messages as a person reads them: `[0 "hello", 5 "high"]`.
pub fn show(messages: &[Message]) -> String {
    let items: Vec<String> = messages
        .iter()
        .map(|(p, m)| {
            let text = String::from_utf8_lossy(m);
            if m.len() > 60 {
                format!("{p} ({} bytes) {:?}...", m.len(), text.chars().take(40).collect::<String>())
            } else {
                format!("{p} {text:?}")
            }
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// The peer `ipc-mq`: the grader's side of a queue, by hand.
///
/// - `ipc-mq create NAME --maxmsg N --msgsize S`: a new, empty queue of mode
///   0600 (one left by an earlier try is removed first).
/// - `ipc-mq send NAME PRIORITY MESSAGE`: one message, without waiting.
/// - `ipc-mq receive NAME N`: at most N messages, without waiting, printed
///   as the checks show them: `[PRIORITY "MESSAGE", ...]`.
/// - `ipc-mq drain NAME`: every message, printed the same way.
/// - `ipc-mq stat NAME`: `mode 0600, mq_maxmsg 10, mq_msgsize 1024, mq_curmsgs 1`.
/// - `ipc-mq unlink NAME`: removes the queue if it exists.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let args: Vec<String> = args.into_iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["create", name, "--maxmsg", maxmsg, "--msgsize", msgsize] => match (maxmsg.parse(), msgsize.parse()) {
            (Ok(maxmsg), Ok(msgsize)) => {
                ipc_engine::leaks::remove_queue(name);
                Queue::create_quietly(name, maxmsg, msgsize).map(|_| None)
            }
            _ => return usage(),
        },
        ["send", name, priority, message] => match priority.parse() {
            Ok(priority) => opened(name).and_then(|q| q.send_quietly(priority, message.as_bytes())).map(|_| None),
            Err(_) => return usage(),
        },
        ["receive", name, limit] => match limit.parse() {
            Ok(limit) => opened(name).and_then(|q| q.receive_quietly(limit)).map(|m| Some(show(&m))),
            Err(_) => return usage(),
        },
        ["drain", name] => opened(name).and_then(|q| q.drain_quietly()).map(|m| Some(show(&m))),
        ["stat", name] => opened(name).and_then(|q| q.stat()).map(Some),
        ["unlink", name] => {
            ipc_engine::leaks::remove_queue(name);
            Ok(None)
        }
        _ => return usage(),
    };
    match result {
        Ok(Some(text)) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(fail) => {
            eprintln!("{NAME}: {}", fail.what);
            if let Some(got) = fail.got {
                eprintln!("{NAME}: {got}");
            }
            ExitCode::from(1)
        }
    }
}

fn opened(name: &str) -> Result<Queue, Fail> {
    Queue::open(name, "this command")
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: {NAME} create NAME --maxmsg N --msgsize S | send NAME PRIORITY MESSAGE | receive NAME N | drain NAME | stat NAME | unlink NAME"
    );
    ExitCode::from(2)
}
