//! The ring buffer shared by `ring-producer`, `ring-consumer` and
//! `ring-fork` (use it from a program as `ring::...`).
//!
//! The layout is given; the mapping, the header and the two copy loops are
//! yours. Read handouts/ring.md ("The layout", "Memory ordering") first.
//!
//! ```text
//! 0 magic | 8 capacity | 64 head | 128 tail | 192 closed | 256 data[capacity]
//! ```
//!
//! Only the producer stores `head` and `closed`; only the consumer stores
//! `tail`. Both only ever grow: byte number p of the stream lives at
//! `data[p % capacity]`, and `tail <= head <= tail + capacity` always.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

/// The bytes `IPCRING1` as a little-endian u64.
pub const MAGIC: u64 = 0x3147_4E49_5243_5049;
pub const MAGIC_OFFSET: usize = 0;
pub const CAPACITY_OFFSET: usize = 8;
pub const HEAD_OFFSET: usize = 64;
pub const TAIL_OFFSET: usize = 128;
pub const CLOSED_OFFSET: usize = 192;
/// Where the data area starts; also the size of the header.
pub const DATA_OFFSET: usize = 256;
pub const DEFAULT_CAPACITY: u64 = 65536;

/// The size of the whole object for a ring of `capacity` bytes.
pub fn object_size(capacity: u64) -> Option<usize> {
    usize::try_from(capacity).ok()?.checked_add(DATA_OFFSET)
}

/// A mapping of one ring (header and data).
pub struct Ring {
    base: NonNull<u8>,
    len: usize,
}

impl Ring {
    /// Maps `len` bytes of the shared-memory object `fd`, readable and
    /// writable, so that what one process stores the other sees.
    ///
    /// Pitfalls:
    /// - mapping is `unsafe` in nix: a `// SAFETY:` comment says why it is
    ///   sound. Keep the pointer and the length (for `Drop`).
    ///
    /// Read: mmap(2).
    pub fn map_shared(fd: impl AsFd, len: usize) -> nix::Result<Ring> {
        let _ = (fd.as_fd(), len);
        todo!("map the object")
    }

    /// An anonymous mapping for `ring-fork`, of `object_size(capacity)`
    /// bytes, that parent and child share once it is forked.
    ///
    /// Pitfalls:
    /// - After fork, a private mapping is copied on the first write: each
    ///   process would then see only its own bytes.
    ///
    /// Read: mmap(2) (MAP_ANONYMOUS), fork(2).
    pub fn anonymous(capacity: u64) -> nix::Result<Ring> {
        let _ = capacity;
        todo!("an anonymous mapping parent and child share")
    }

    /// The mapped size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The header field at `offset` (one of the `*_OFFSET`s), as an atomic.
    ///
    /// Given: every process accesses the header only atomically, so viewing
    /// these 8 aligned bytes of the mapping as an `AtomicU64` is sound. Use
    /// `.load(Ordering::Acquire)` and `.store(v, Ordering::Release)` on it.
    pub fn field(&self, offset: usize) -> &AtomicU64 {
        assert!(offset % 8 == 0 && offset + 8 <= DATA_OFFSET.min(self.len));
        // SAFETY: the offset is 8-aligned inside the (page-aligned) mapping,
        // and the header is only ever accessed atomically by every process.
        unsafe { AtomicU64::from_ptr(self.base.as_ptr().add(offset).cast()) }
    }

    /// The start of the data area (`capacity` bytes).
    pub fn data(&self) -> *mut u8 {
        // SAFETY: DATA_OFFSET is inside the mapping (len >= 256 + capacity).
        unsafe { self.base.as_ptr().add(DATA_OFFSET) }
    }

    /// Writes the header for a ring of `capacity` bytes.
    ///
    /// Pitfalls:
    /// - A consumer starts using the ring the moment it sees the magic:
    ///   everything else in the header must be visible to it by then. Which
    ///   store comes last, and with which ordering?
    ///
    /// Read: handouts/ring.md#memory-ordering.
    pub fn init(&self, capacity: u64) {
        let _ = capacity;
        todo!("fill in the header")
    }

    /// Producer: copies `input` into the ring until end of file, then marks
    /// the ring closed.
    ///
    /// Pitfalls:
    /// - Never overwrite a byte the consumer has not read yet: work out the
    ///   free space from the counters (the invariant above), and wait (see
    ///   [`Waiter`]) while there is none.
    /// - Free space may wrap around the end of the data area: no single
    ///   copy may run past it.
    /// - The consumer may copy any byte it sees published: publish a byte
    ///   only once it is in the ring, and `closed` only after the last one.
    /// - A `read` of 0 bytes is end of file.
    ///
    /// Read: handouts/ring.md (The protocol, Wrap-around, Memory ordering),
    /// `std::sync::atomic::Ordering`.
    pub fn produce(&self, input: &mut impl Read) -> io::Result<()> {
        let _ = input;
        todo!("copy input into the ring")
    }

    /// Consumer: copies the stream to `output` until the producer has closed
    /// the ring and every byte is read.
    ///
    /// Pitfalls:
    /// - `closed` and `head` are two loads: in which order may "closed, and
    ///   nothing left" be concluded without losing the last bytes?
    /// - A run of unread bytes may wrap around the end of the data area.
    /// - The producer may overwrite space as soon as it sees it freed: free
    ///   it only once the bytes are out.
    /// - Whoever reads your output may be waiting for it: flush before a
    ///   long wait, and at the end.
    ///
    /// Read: handouts/ring.md (The protocol, Memory ordering).
    pub fn consume(&self, output: &mut impl Write) -> io::Result<()> {
        let _ = output;
        todo!("copy the ring to output")
    }
}

// Add `impl Drop for Ring` that calls `nix::sys::mman::munmap` (munmap(2)).

/// Waiting without being woken: nobody tells a waiting side that the other
/// moved; it must look at the counters again, at least once a millisecond,
/// without burning a CPU while it waits (the grader measures both).
///
/// Pitfalls:
/// - `std::thread::yield_now` (sched_yield(2)) looks like a polite middle
///   ground, but it never sleeps, and with another busy process on the
///   machine one call can hand it the CPU for milliseconds
///   (handouts/performance.md measured it).
///
/// Read: handouts/ring.md#waiting.
pub struct Waiter {
    pub spins: u32,
}

impl Waiter {
    pub fn new() -> Waiter {
        Waiter { spins: 0 }
    }

    /// Called when the other side has made progress.
    pub fn reset(&mut self) {
        self.spins = 0;
    }

    /// Waits a little before the caller re-checks.
    pub fn wait(&mut self) {
        todo!("wait a little before the caller looks again")
    }
}

impl Default for Waiter {
    fn default() -> Self {
        Waiter::new()
    }
}
