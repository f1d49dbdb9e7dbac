//! A copy of the reference's shared code of lab `mmap`, for the broken programs.

#![allow(dead_code)]

use std::ffi::c_void;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::ptr::NonNull;

use nix::fcntl::{OFlag, open};
use nix::sys::mman::{MapFlags, MsFlags, ProtFlags, mmap, msync, munmap};
use nix::sys::stat::{Mode, fstat};
use nix::unistd::{SysconfVar, sysconf};

/// The size of a page (sysconf(_SC_PAGE_SIZE)); a mapping's file offset must
/// be a multiple of it.
pub fn page_size() -> u64 {
    match sysconf(SysconfVar::PAGE_SIZE) {
        Ok(Some(size)) if size > 0 => size as u64,
        _ => 4096,
    }
}

/// Opens `path` with `flags` (and `O_CLOEXEC`); new files get mode 0644.
pub fn open_file(path: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    open(path, flags | OFlag::O_CLOEXEC, Mode::from_bits_truncate(0o644))
}

/// The size of an open file in bytes (fstat(2)).
pub fn file_size(fd: impl AsFd) -> nix::Result<u64> {
    Ok(fstat(fd)?.st_size as u64)
}

/// A memory mapping of part of a file, unmapped when dropped.
pub struct Mapping {
    addr: NonNull<c_void>,
    len: NonZeroUsize,
    writable: bool,
}

impl Mapping {
    /// Maps `len` bytes of `fd` from `offset`, which must be a multiple of the
    /// page size. `flags` is `MAP_SHARED` or `MAP_PRIVATE`.
    pub fn new(fd: impl AsFd, offset: u64, len: NonZeroUsize, writable: bool, flags: MapFlags) -> nix::Result<Mapping> {
        let prot = if writable { ProtFlags::PROT_READ | ProtFlags::PROT_WRITE } else { ProtFlags::PROT_READ };
        let offset = i64::try_from(offset).map_err(|_| nix::errno::Errno::EOVERFLOW)?;
        // SAFETY: we ask for a fresh mapping (no address hint, no MAP_FIXED),
        // so no existing memory is replaced. The callers only touch the bytes
        // of the file that exist (they check or grow its size first).
        let addr = unsafe { mmap(None, len, prot, flags, fd, offset)? };
        Ok(Mapping { addr, len, writable })
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes, alive as long as `self`.
        unsafe { std::slice::from_raw_parts(self.addr.as_ptr().cast::<u8>(), self.len.get()) }
    }

    /// The mapped bytes, to write into. Panics on a read-only mapping.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        assert!(self.writable, "the mapping is read-only");
        // SAFETY: the mapping is `len` writable bytes, alive as long as `self`,
        // and `&mut self` makes this the only reference into it.
        unsafe { std::slice::from_raw_parts_mut(self.addr.as_ptr().cast::<u8>(), self.len.get()) }
    }

    /// The address of the first mapped byte (page-aligned).
    pub fn as_ptr(&self) -> *mut u8 {
        self.addr.as_ptr().cast()
    }

    /// Writes the mapping's changes to the file and waits (msync MS_SYNC).
    pub fn sync(&self) -> nix::Result<()> {
        // SAFETY: addr and len describe exactly this live mapping.
        unsafe { msync(self.addr, self.len.get(), MsFlags::MS_SYNC) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `Mapping::new` and no reference into
        // it outlives `self` (the slices borrow `self`).
        let _ = unsafe { munmap(self.addr, self.len.get()) };
    }
}
