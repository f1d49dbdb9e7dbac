//! Capturing what a program writes: kept up to a cap, always drained (so a
//! flood neither fills memory nor blocks the program), with waits on what
//! has arrived.

use std::io::Read;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Bytes a program wrote to one stream, kept up to a cap and always drained.
#[derive(Debug)]
pub struct Output {
    inner: Mutex<OutputInner>,
    changed: Condvar,
    cap: usize,
}

#[derive(Debug, Default)]
struct OutputInner {
    bytes: Vec<u8>,
    total: u64,
    eof: bool,
}

impl Output {
    pub(super) fn new(cap: usize) -> Arc<Output> {
        Arc::new(Output { inner: Mutex::default(), changed: Condvar::new(), cap })
    }

    fn lock(&self) -> MutexGuard<'_, OutputInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn drain(&self, mut from: impl Read) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let mut inner = self.lock();
                    inner.total += n as u64;
                    let room = self.cap.saturating_sub(inner.bytes.len());
                    let keep = n.min(room);
                    inner.bytes.extend_from_slice(&buf[..keep]);
                    drop(inner);
                    self.changed.notify_all();
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.lock().eof = true;
        self.changed.notify_all();
    }

    /// A copy of what was captured so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.lock().bytes.clone()
    }

    /// How many bytes the program wrote in all (captured or not).
    pub fn total(&self) -> u64 {
        self.lock().total
    }

    /// Waits until `found` returns `Some` on the captured bytes, the stream
    /// ends, or `deadline` passes.
    pub fn wait_for<T>(&self, deadline: Instant, mut found: impl FnMut(&[u8]) -> Option<T>) -> Option<T> {
        let mut inner = self.lock();
        loop {
            if let Some(t) = found(&inner.bytes) {
                return Some(t);
            }
            let now = Instant::now();
            if inner.eof || now >= deadline {
                return None;
            }
            inner = self.changed.wait_timeout(inner, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Waits for end of file on the stream, until `deadline`. Returns whether it came.
    pub fn wait_eof(&self, deadline: Instant) -> bool {
        let mut inner = self.lock();
        while !inner.eof {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            inner = self.changed.wait_timeout(inner, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        true
    }
}
