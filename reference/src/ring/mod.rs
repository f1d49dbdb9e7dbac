//! The ring buffer shared by `ring-producer`, `ring-consumer` and `ring-fork`:
//! the contract's header layout on a shared mapping, and the two loops that
//! move bytes through it.
//!
//! The header is six `u64`s, each on its own 64-byte cache line:
//!
//! ```text
//! 0 magic | 8 capacity | 64 head | 128 tail | 192 closed | 256 data[capacity]
//! ```
//!
//! Only the producer stores `head` and `closed`, only the consumer stores
//! `tail`. Each side publishes with a release store and reads the other
//! side's counter with an acquire load, so bytes copied before a store are
//! visible to whoever loads the stored value. No locks.

use std::io::{self, Read, Write};
use std::num::NonZeroUsize;
use std::os::fd::AsFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ipc_common::fault;
use nix::sys::mman::{MapFlags, ProtFlags, mmap, mmap_anonymous, munmap};

/// What exists only for broken/ (its fault hooks, broken/README.md).
#[cfg(ipc_faults)]
pub mod faults;

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

/// A mapping of one ring (header and data). Unmapped on drop.
pub struct Ring {
    base: NonNull<u8>,
    len: usize,
}

impl Ring {
    /// Maps `len` bytes of the shared-memory object `fd`, shared and writable.
    pub fn map_shared(fd: impl AsFd, len: usize) -> nix::Result<Ring> {
        let size = NonZeroUsize::new(len).ok_or(nix::errno::Errno::EINVAL)?;
        // SAFETY: a new mapping chosen by the kernel (no address hint) cannot
        // overlap any Rust object; `Ring` only touches it through atomics and
        // the data area the protocol gives it.
        let base =
            unsafe { mmap(None, size, ProtFlags::PROT_READ | ProtFlags::PROT_WRITE, MapFlags::MAP_SHARED, fd, 0) }?;
        Ok(Ring { base: base.cast(), len })
    }

    /// An anonymous shared mapping for a ring of `capacity` bytes, to be
    /// inherited across `fork`. Anonymous memory starts zeroed.
    pub fn anonymous(capacity: u64) -> nix::Result<Ring> {
        let len = object_size(capacity).ok_or(nix::errno::Errno::ENOMEM)?;
        let size = NonZeroUsize::new(len).ok_or(nix::errno::Errno::EINVAL)?;
        // Fault `private-mapping`: copied on write after fork, so the child never sees data.
        let sharing = if fault!("private-mapping") { MapFlags::MAP_PRIVATE } else { MapFlags::MAP_SHARED };
        // SAFETY: as in `map_shared`: a fresh mapping that overlaps nothing.
        let base = unsafe { mmap_anonymous(None, size, ProtFlags::PROT_READ | ProtFlags::PROT_WRITE, sharing) }?;
        Ok(Ring { base: base.cast(), len })
    }

    /// The mapped size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never, for a mapped ring).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The header field at `offset` (one of the `*_OFFSET`s), as an atomic.
    pub fn field(&self, offset: usize) -> &AtomicU64 {
        // `packed-header`: head, tail and closed at 16, 24, 32, as in a
        // struct of u64s without the padding.
        let offset = if fault!("packed-header") && offset >= HEAD_OFFSET { offset / 8 + 8 } else { offset };
        assert!(offset % 8 == 0 && offset + 8 <= DATA_OFFSET.min(self.len));
        // SAFETY: the offset is 8-aligned inside the mapping (which is
        // page-aligned), and every process only accesses header fields
        // atomically, so an `AtomicU64` view of them is sound.
        unsafe { AtomicU64::from_ptr(self.base.as_ptr().add(offset).cast()) }
    }

    /// Writes the header for a ring of `capacity` bytes, `magic` last, so a
    /// consumer that sees the magic (acquire) also sees the rest.
    pub fn init(&self, capacity: u64) {
        self.field(CAPACITY_OFFSET).store(capacity, Ordering::Relaxed);
        self.field(HEAD_OFFSET).store(0, Ordering::Relaxed);
        self.field(TAIL_OFFSET).store(0, Ordering::Relaxed);
        self.field(CLOSED_OFFSET).store(0, Ordering::Relaxed);
        self.field(MAGIC_OFFSET).store(MAGIC, Ordering::Release);
    }

    /// The magic number (0 while the producer has not finished `init`).
    pub fn magic(&self) -> u64 {
        self.field(MAGIC_OFFSET).load(Ordering::Acquire)
    }

    /// The capacity the header states.
    pub fn capacity(&self) -> u64 {
        self.field(CAPACITY_OFFSET).load(Ordering::Relaxed)
    }

    /// Whether the header states a capacity that fits in this mapping.
    pub fn capacity_fits(&self) -> bool {
        let capacity = self.capacity();
        capacity >= 1 && object_size(capacity).is_some_and(|size| size <= self.len)
    }

    /// The start of the data area (`capacity` bytes).
    pub fn data(&self) -> *mut u8 {
        // SAFETY: DATA_OFFSET is inside the mapping (len >= 256 + capacity).
        unsafe { self.base.as_ptr().add(DATA_OFFSET) }
    }

    /// Producer: copies `input` into the ring until end of file, waiting
    /// while the ring is full, then stores `closed = 1`.
    ///
    /// Reads straight into the free part of the data area, so each byte is
    /// copied once. Sets `closed` even if reading fails, so that the consumer
    /// ends.
    pub fn produce(&self, input: &mut impl Read) -> io::Result<()> {
        let capacity = self.capacity();
        let head = self.field(HEAD_OFFSET);
        let tail = self.field(TAIL_OFFSET);
        let mut written = head.load(Ordering::Relaxed);
        let mut waiter = Waiter::new();
        let result = loop {
            // Acquire: the consumer's copies out of the space it freed
            // happened before we overwrite that space.
            let free = capacity - (written - tail.load(Ordering::Acquire));
            fault!("no-wrap" => let free = capacity.saturating_sub(written));
            fault!("no-wait-when-full" => let free = capacity);
            if free == 0 {
                waiter.wait();
                continue;
            }
            waiter.reset();
            // The free run starting at `written`, up to the end of the data area.
            let start = written % capacity;
            let run = free.min(capacity - start) as usize;
            // SAFETY: [start, start + run) lies in the data area, and the
            // consumer does not read it until we publish it with `head`.
            let space = unsafe { std::slice::from_raw_parts_mut(self.data().add(start as usize), run) };
            fault!("head-before-copy" => match faults::publish_then_copy(self, input, space, &mut written)? { 0 => break Ok(()), _ => continue });
            match input.read(space) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    written += n as u64;
                    // Release: the bytes just read are visible with the new head.
                    head.store(written, Ordering::Release);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        // After the final head store, so that `closed == 1` means head is
        // final; also after an error, so that the consumer ends.
        if !fault!("no-closed") {
            self.field(CLOSED_OFFSET).store(1, Ordering::Release);
        }
        result
    }

    /// Consumer: copies the stream to `output` until the producer has closed
    /// the ring and every byte has been read.
    pub fn consume(&self, output: &mut impl Write) -> io::Result<()> {
        let capacity = self.capacity();
        let head = self.field(HEAD_OFFSET);
        let tail = self.field(TAIL_OFFSET);
        let closed = self.field(CLOSED_OFFSET);
        let mut read = tail.load(Ordering::Relaxed);
        let mut waiter = Waiter::new();
        loop {
            // `closed` first: if it is 1, the head loaded after it is final.
            let done = closed.load(Ordering::Acquire) == 1;
            // Acquire: the producer's copies into [read, written) are visible.
            let written = head.load(Ordering::Acquire);
            if written == read {
                if done || fault!("exit-on-empty") {
                    return output.flush();
                }
                waiter.wait();
                continue;
            }
            waiter.reset();
            let start = read % capacity;
            let run = (written - read).min(capacity - start) as usize;
            fault!("consumer-no-wrap" => let run = (written - read) as usize);
            // SAFETY: [start, start + run) lies in the data area and holds
            // published bytes the producer will not touch until we move `tail`.
            let bytes = unsafe { std::slice::from_raw_parts(self.data().add(start as usize), run) };
            output.write_all(bytes)?;
            read += run as u64;
            // Release: our copy is done before the producer may reuse the space.
            tail.store(read, Ordering::Release);
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `Ring` and nothing borrows from it
        // once the ring is dropped.
        let _ = unsafe { munmap(self.base.cast(), self.len) };
    }
}

/// Waiting without being woken: nobody tells a waiting side that the other
/// moved, so it re-checks the counters. It spins a little first (the other
/// side is often microseconds from its next store), then sleeps between
/// re-checks: 50 µs for the first 40 naps, so that a short wait ends soon
/// after the other side moves, then 400 µs (the contract asks for a look at
/// least once a millisecond), so that a long wait costs about two thousand
/// short sleeps a second, not a core. No `sched_yield`: with a third busy
/// process on the machine one yield can hand it the CPU for a whole time
/// slice.
pub struct Waiter {
    pub spins: u32,
}

impl Waiter {
    /// Re-checks spent spinning before the first sleep.
    const SPINS: u32 = 2000;
    /// Short naps before the long ones.
    const SHORT_NAPS: u32 = 40;
    const SHORT_NAP: Duration = Duration::from_micros(50);
    const LONG_NAP: Duration = Duration::from_micros(400);

    pub fn new() -> Waiter {
        Waiter { spins: 0 }
    }

    /// Called when the other side has made progress.
    pub fn reset(&mut self) {
        self.spins = 0;
    }

    /// Waits a little before the caller re-checks.
    pub fn wait(&mut self) {
        self.spins = self.spins.saturating_add(1);
        if self.spins <= Self::SPINS {
            std::hint::spin_loop();
            return;
        }
        fault!("busy-spin" => return std::thread::yield_now());
        let short = self.spins <= Self::SPINS + Self::SHORT_NAPS;
        std::thread::sleep(if short { Self::SHORT_NAP } else { Self::LONG_NAP });
    }
}

impl Default for Waiter {
    fn default() -> Self {
        Waiter::new()
    }
}
