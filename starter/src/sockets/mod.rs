//! Code shared by the programs of lab `sockets` (none yet).
