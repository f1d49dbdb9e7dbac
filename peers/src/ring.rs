//! The grader's own producer and consumer of the contract's ring layout,
//! written independently of any solution, to pair with a student's half.
//!
//! - `ipc-ring-producer [--capacity N] [--chunk B] [--pause-ms P] NAME`:
//!   creates NAME, then copies stdin into the ring B bytes at a time at
//!   most, sleeping P ms before each piece; stores `closed` at the end. Each
//!   piece that fits is published with one `head` store, even when it wraps
//!   around the end of the data area.
//! - `ipc-ring-consumer [--wait MS] NAME`: waits for NAME, copies the stream
//!   to stdout, unlinks NAME.
//!
//! Both check the consumer's and producer's counters on every load: a
//! `tail` past `head`, or a `head` more than `capacity` ahead of `tail`, ends
//! them with status 3 and a message naming the numbers.

use std::ffi::{CString, OsString};
use std::io::{Read, Write};
use std::num::NonZeroUsize;
use std::process::ExitCode;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::mman::{MapFlags, ProtFlags, mmap, shm_open, shm_unlink};
use nix::sys::stat::{Mode, fstat};

pub const PRODUCER: &str = "ipc-ring-producer";
pub const CONSUMER: &str = "ipc-ring-consumer";

pub const MAGIC: u64 = u64::from_le_bytes(*b"IPCRING1");
pub const HEADER: usize = 256;
pub const OFF_MAGIC: usize = 0;
pub const OFF_CAPACITY: usize = 8;
pub const OFF_HEAD: usize = 64;
pub const OFF_TAIL: usize = 128;
pub const OFF_CLOSED: usize = 192;

/// A shared mapping of a ring object, unmapped on drop.
pub struct Mapped {
    base: NonNull<u8>,
    pub len: usize,
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and nothing borrowed from it outlives `self`.
        let _ = unsafe { nix::sys::mman::munmap(self.base.cast(), self.len) };
    }
}

impl Mapped {
    /// Maps `len` bytes of `fd`, writable or read-only.
    pub fn map(fd: &std::os::fd::OwnedFd, len: usize, writable: bool) -> nix::Result<Mapped> {
        let prot = if writable { ProtFlags::PROT_READ | ProtFlags::PROT_WRITE } else { ProtFlags::PROT_READ };
        let size = NonZeroUsize::new(len).ok_or(Errno::EINVAL)?;
        // SAFETY: a fresh mapping at an address the kernel picks overlaps no
        // Rust object.
        let base = unsafe { mmap(None, size, prot, MapFlags::MAP_SHARED, fd, 0) }?;
        Ok(Mapped { base: base.cast(), len })
    }

    /// The u64 at header offset `off`.
    pub fn word(&self, off: usize) -> &AtomicU64 {
        assert!(off % 8 == 0 && off + 8 <= HEADER.min(self.len));
        // SAFETY: aligned, inside the mapping, and only ever accessed atomically.
        unsafe { AtomicU64::from_ptr(self.base.as_ptr().add(off).cast()) }
    }

    fn data(&self) -> *mut u8 {
        // SAFETY: HEADER <= len for every ring this module maps.
        unsafe { self.base.as_ptr().add(HEADER) }
    }
}

/// Re-checks often at first, then every 200 us. No `sched_yield`: with
/// another busy process on the machine, one call can hand it the CPU for
/// milliseconds (handouts/performance.md).
struct Pause(u32);

impl Pause {
    fn wait(&mut self) {
        self.0 += 1;
        if self.0 < 100 {
            std::hint::spin_loop();
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

/// `--key value` options (numbers) and positional words.
type Parsed = (Vec<(String, u64)>, Vec<String>);

/// Parses `--key value` options and positional words, loosely.
fn parse(args: Vec<OsString>, keys: &[&str]) -> Option<Parsed> {
    let mut opts = Vec::new();
    let mut words = Vec::new();
    let mut it = args.into_iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(a) = it.next() {
        if let Some(key) = a.strip_prefix("--") {
            if !keys.contains(&key) {
                return None;
            }
            opts.push((key.to_string(), it.next()?.parse().ok()?));
        } else {
            words.push(a);
        }
    }
    Some((opts, words))
}

fn opt(opts: &[(String, u64)], key: &str, default: u64) -> u64 {
    opts.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v).unwrap_or(default)
}

fn die(program: &str, status: u8, what: impl std::fmt::Display) -> ExitCode {
    eprintln!("{program}: {}", ipc_engine::text::without_os_error(what.to_string()));
    ExitCode::from(status)
}

pub fn producer(args: Vec<OsString>) -> ExitCode {
    let Some((opts, words)) = parse(args, &["capacity", "chunk", "pause-ms"]) else {
        return die(PRODUCER, 2, "usage: ipc-ring-producer [--capacity N] [--chunk B] [--pause-ms P] NAME");
    };
    let [name] = words.as_slice() else { return die(PRODUCER, 2, "one NAME expected") };
    let capacity = opt(&opts, "capacity", 65536).max(1);
    let chunk = opt(&opts, "chunk", u64::MAX).max(1);
    let pause = Duration::from_millis(opt(&opts, "pause-ms", 0));
    let cname = CString::new(name.as_str()).unwrap_or_default();
    let fd = match shm_open(
        cname.as_c_str(),
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR,
        Mode::from_bits_truncate(0o600),
    ) {
        Ok(fd) => fd,
        Err(e) => return die(PRODUCER, 1, format!("{name}: {}", e.desc())),
    };
    let len = HEADER + capacity as usize;
    let ring = match nix::unistd::ftruncate(&fd, len as i64).and_then(|()| Mapped::map(&fd, len, true)) {
        Ok(ring) => ring,
        Err(e) => return die(PRODUCER, 1, format!("{name}: {}", e.desc())),
    };
    ring.word(OFF_CAPACITY).store(capacity, Ordering::Relaxed);
    ring.word(OFF_MAGIC).store(MAGIC, Ordering::Release);
    // The ring exists from now on; the data comes when stdin has ended.
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        ring.word(OFF_CLOSED).store(1, Ordering::Release);
        return die(PRODUCER, 1, format!("stdin: {}", ipc_engine::text::os_reason(&e)));
    }

    let (head, tail) = (ring.word(OFF_HEAD), ring.word(OFF_TAIL));
    let mut sent = 0usize;
    while sent < input.len() {
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
        let end = input.len().min(sent.saturating_add(chunk as usize));
        let mut wait = Pause(0);
        while sent < end {
            let t = tail.load(Ordering::Acquire);
            if t > sent as u64 {
                return die(PRODUCER, 3, format!("invariant broken: the consumer's tail {t} passed head {sent}"));
            }
            let free = capacity - (sent as u64 - t);
            if free == 0 {
                wait.wait();
                continue;
            }
            wait.0 = 0;
            // Fill all the free space we may, wrapping around if needed, and
            // publish it with ONE head store: a consumer then sees runs that
            // cross the end of the data area, and must split them itself.
            let target = sent + (end - sent).min(free as usize);
            while sent < target {
                let at = sent as u64 % capacity;
                let n = (target - sent).min((capacity - at) as usize);
                // SAFETY: [at, at + n) is in the data area and free (the
                // consumer has moved past it); the source is our own buffer.
                unsafe { std::ptr::copy_nonoverlapping(input[sent..].as_ptr(), ring.data().add(at as usize), n) };
                sent += n;
            }
            head.store(sent as u64, Ordering::Release);
        }
    }
    ring.word(OFF_CLOSED).store(1, Ordering::Release);
    ExitCode::SUCCESS
}

pub fn consumer(args: Vec<OsString>) -> ExitCode {
    let Some((opts, words)) = parse(args, &["wait"]) else {
        return die(CONSUMER, 2, "usage: ipc-ring-consumer [--wait MS] NAME");
    };
    let [name] = words.as_slice() else { return die(CONSUMER, 2, "one NAME expected") };
    let cname = CString::new(name.as_str()).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_millis(opt(&opts, "wait", 10000));
    let ring = loop {
        match shm_open(cname.as_c_str(), OFlag::O_RDWR, Mode::empty()) {
            Ok(fd) => {
                let len = fstat(&fd).map(|s| s.st_size as usize).unwrap_or(0);
                if len >= HEADER {
                    match Mapped::map(&fd, len, true) {
                        Ok(ring) if ring.word(OFF_MAGIC).load(Ordering::Acquire) == MAGIC => break ring,
                        Ok(ring) if ring.word(OFF_MAGIC).load(Ordering::Acquire) != 0 => {
                            return die(CONSUMER, 1, format!("{name}: not a ring buffer (magic is wrong)"));
                        }
                        Ok(_) => {}
                        Err(e) => return die(CONSUMER, 1, format!("{name}: mmap: {}", e.desc())),
                    }
                }
            }
            Err(Errno::ENOENT) => {}
            Err(e) => return die(CONSUMER, 1, format!("{name}: {}", e.desc())),
        }
        if Instant::now() >= deadline {
            return die(CONSUMER, 1, format!("{name}: timed out waiting for producer"));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let capacity = ring.word(OFF_CAPACITY).load(Ordering::Relaxed);
    if capacity == 0 || HEADER as u64 + capacity != ring.len as u64 {
        return die(
            CONSUMER,
            3,
            format!(
                "{name}: the header's capacity ({capacity}) does not match the object's size ({} = 256 + capacity expected)",
                ring.len
            ),
        );
    }
    let (head, tail, closed) = (ring.word(OFF_HEAD), ring.word(OFF_TAIL), ring.word(OFF_CLOSED));
    let mut out = std::io::stdout().lock();
    let mut got = 0u64;
    let mut wait = Pause(0);
    loop {
        let c = closed.load(Ordering::Acquire);
        let h = head.load(Ordering::Acquire);
        if c > 1 {
            return die(CONSUMER, 3, format!("invariant broken: closed is {c}, not 0 or 1"));
        }
        if h < got || h - got > capacity {
            return die(CONSUMER, 3, format!("invariant broken: head {h}, tail {got}, capacity {capacity}"));
        }
        if h == got {
            if c == 1 {
                break;
            }
            if wait.0 == 100 {
                let _ = out.flush();
            }
            wait.wait();
            continue;
        }
        wait.0 = 0;
        let at = got % capacity;
        let n = (h - got).min(capacity - at) as usize;
        // SAFETY: [at, at + n) is in the data area and published by the producer.
        let bytes = unsafe { std::slice::from_raw_parts(ring.data().add(at as usize), n) };
        if let Err(e) = out.write_all(bytes) {
            return die(CONSUMER, 1, format!("stdout: {}", ipc_engine::text::os_reason(&e)));
        }
        got += n as u64;
        tail.store(got, Ordering::Release);
    }
    if let Err(e) = out.flush() {
        return die(CONSUMER, 1, format!("stdout: {}", ipc_engine::text::os_reason(&e)));
    }
    match shm_unlink(cname.as_c_str()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => die(CONSUMER, 1, format!("{name}: {}", e.desc())),
    }
}

/// Opens NAME read-only and maps it whole, for watching a transfer.
pub fn watch(name: &str) -> nix::Result<Mapped> {
    let cname = CString::new(name).map_err(|_| Errno::EINVAL)?;
    let fd = shm_open(cname.as_c_str(), OFlag::O_RDONLY, Mode::empty())?;
    let len = fstat(&fd)?.st_size as usize;
    if len < HEADER {
        return Err(Errno::EAGAIN);
    }
    Mapped::map(&fd, len, false)
}
