//! Code shared by the programs of lab `mmap` (none yet).
