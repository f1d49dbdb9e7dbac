//! Code shared by the programs of lab `pipe` (none yet).
