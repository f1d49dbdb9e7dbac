//! Code shared between the programs of a lab lives in that lab's module.
//! Each program is its own file: `src/LAB/PROGRAM.rs` (see Cargo.toml).

pub mod mmap;
pub mod mq;
pub mod pipe;
pub mod ring;
pub mod signals;
pub mod sockets;
