//! The grader's own, trusted side of a message queue: checks create, fill,
//! inspect and drain queues with nix directly, so that each student program
//! is tested on its own. Every call here is non-blocking.

use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, MqdT, mq_close, mq_getattr, mq_open, mq_receive, mq_send};
use nix::sys::stat::{Mode, fstat};

use ipc_engine::check::Fail;

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
    /// Creates a new queue (mode 0600) that must not exist yet.
    pub fn create(name: &str, maxmsg: i64, msgsize: i64) -> Result<Queue, Fail> {
        let flags = MQ_OFlag::O_RDWR | MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_NONBLOCK;
        let attr = MqAttr::new(0, maxmsg, msgsize, 0);
        let mqd = mq_open(name, flags, Mode::from_bits_truncate(0o600), Some(&attr)).map_err(|e| {
            Fail::infra(format!("mq_open({name}, O_CREAT|O_EXCL, maxmsg {maxmsg}, msgsize {msgsize}): {e}"))
        })?;
        Ok(Queue { name: name.to_string(), mqd: Some(mqd) })
    }

    /// Opens a queue a program under test should have created.
    pub fn open(name: &str, who: &str) -> Result<Queue, Fail> {
        match mq_open(name, MQ_OFlag::O_RDWR | MQ_OFlag::O_NONBLOCK, Mode::empty(), None) {
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

    /// Sends one message; the queue must have room.
    pub fn send(&self, priority: u32, message: &[u8]) -> Result<(), Fail> {
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

    /// Receives every message now in the queue, in the kernel's order
    /// (highest priority first, oldest first within a priority).
    pub fn drain(&self) -> Result<Vec<Message>, Fail> {
        let attr = self.attr()?;
        // Bounded: never more than the queue can hold (plus one for a racing sender).
        self.receive_up_to(attr.maxmsg.max(attr.curmsgs) + 1)
    }

    /// Receives at most `limit` messages, fewer if the queue runs empty.
    pub fn receive_up_to(&self, limit: i64) -> Result<Vec<Message>, Fail> {
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
