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
    /// Maps `len` bytes of the shared-memory object `fd`, readable, writable
    /// and SHARED, so that the other process sees what we store.
    ///
    /// `unsafe { nix::sys::mman::mmap(None, NonZeroUsize, ProtFlags::PROT_READ
    /// | ProtFlags::PROT_WRITE, MapFlags::MAP_SHARED, fd, 0) }` (mmap(2)), with
    /// a `// SAFETY:` comment. Keep the pointer (`.cast()`) and the length.
    pub fn map_shared(fd: impl AsFd, len: usize) -> nix::Result<Ring> {
        let _ = (fd.as_fd(), len);
        todo!("mmap the object MAP_SHARED")
    }

    /// An anonymous shared mapping for `ring-fork`, made *before* fork:
    /// `mmap_anonymous(..., MapFlags::MAP_SHARED)`. Not MAP_PRIVATE: a private
    /// mapping is copied on write after fork, and the child would never see
    /// the parent's bytes. Anonymous memory starts zeroed.
    pub fn anonymous(capacity: u64) -> nix::Result<Ring> {
        let _ = capacity;
        todo!("mmap_anonymous MAP_SHARED of object_size(capacity) bytes")
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
    /// The pitfall: a consumer starts using the ring the moment it sees the
    /// magic. So store capacity, head, tail and closed first, and `MAGIC`
    /// LAST, with `Ordering::Release`: whoever loads the magic with
    /// `Ordering::Acquire` then also sees everything stored before it.
    pub fn init(&self, capacity: u64) {
        let _ = capacity;
        todo!("fill in the header, magic last (release)")
    }

    /// Producer: copies `input` into the ring until end of file, then stores
    /// `closed = 1` (release, after the last head store).
    ///
    /// Loop:
    /// 1. free = capacity - (head - tail), with tail loaded `Acquire` (the
    ///    consumer's reads of that space are finished before we overwrite it).
    /// 2. If free == 0, wait (see [`Waiter`]) and go to 1.
    /// 3. The free run starts at `head % capacity` and stops at the end of the
    ///    data area (wrap-around: the rest of it is at data[0]). Read stdin
    ///    into that run (`std::slice::from_raw_parts_mut(self.data().add(start),
    ///    run)`, with a `// SAFETY:` comment: the consumer does not read
    ///    unpublished space). `read` returning 0 means end of file.
    /// 4. Publish: head += n, stored with `Ordering::Release`, AFTER the bytes
    ///    are in. Storing it first would let the consumer read stale bytes.
    pub fn produce(&self, input: &mut impl Read) -> io::Result<()> {
        let _ = input;
        todo!("copy input into the ring (the steps above)")
    }

    /// Consumer: copies the stream to `output` until `closed == 1` and
    /// `tail == head`.
    ///
    /// Loop:
    /// 1. Load `closed`, THEN `head`, both `Acquire`: if closed was already 1,
    ///    the head you load after it is final.
    /// 2. If head == tail: done if closed was 1; otherwise wait and go to 1.
    /// 3. Copy the run from `tail % capacity` up to head, stopping at the end
    ///    of the data area, to `output`.
    /// 4. tail += n, stored with `Ordering::Release` AFTER the copy (the
    ///    producer may overwrite that space as soon as it sees the new tail).
    ///
    /// Flush `output` at the end (and before a long wait).
    pub fn consume(&self, output: &mut impl Write) -> io::Result<()> {
        let _ = output;
        todo!("copy the ring to output (the steps above)")
    }
}

// Add `impl Drop for Ring` that calls `nix::sys::mman::munmap` (munmap(2)).

/// Waiting without being woken. Nobody tells a waiting side that the other
/// moved: it re-checks the counters, at least once a millisecond. Spinning
/// the whole time burns a CPU (the grader measures it), so spin a little
/// (`std::hint::spin_loop`), then sleep (`std::thread::sleep`, 100-500 us)
/// between re-checks. Beware `std::thread::yield_now` (sched_yield(2)): it
/// looks like a polite middle ground, but with another busy process on the
/// machine one call can hand it the CPU for milliseconds
/// (handouts/performance.md measured it).
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
        todo!("spin a few times, then sleep briefly")
    }
}

impl Default for Waiter {
    fn default() -> Self {
        Waiter::new()
    }
}
