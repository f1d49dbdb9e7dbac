//! Code that exists only for faults (broken/README.md): compiled into
//! broken/'s programs, never into the reference's.

use std::io::{self, Read};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{HEAD_OFFSET, Ring, TAIL_OFFSET};

/// `head-before-copy`: reads into a buffer of its own, stores `head`, and
/// only then copies the bytes into the ring: the consumer may copy out what
/// the ring held before. To make the proof see it every run, it waits (up to
/// 5 ms) for the consumer to take the unwritten bytes before it copies; a
/// real program leaves the same window open for microseconds.
pub fn publish_then_copy(ring: &Ring, input: &mut impl Read, space: &mut [u8], written: &mut u64) -> io::Result<usize> {
    let mut staged = vec![0u8; space.len()];
    let n = input.read(&mut staged)?;
    if n > 0 {
        *written += n as u64;
        ring.field(HEAD_OFFSET).store(*written, Ordering::Release);
        let until = Instant::now() + Duration::from_millis(5);
        while ring.field(TAIL_OFFSET).load(Ordering::Acquire) < *written && Instant::now() < until {
            std::thread::sleep(Duration::from_micros(100));
        }
        space[..n].copy_from_slice(&staged[..n]);
    }
    Ok(n)
}

/// `no-retry`: a consumer that looks once and gives up when the producer
/// is not there yet.
pub fn gave_up(name: &str) -> ipc_common::Error {
    ipc_common::Error::new(name, "No such file or directory")
}
