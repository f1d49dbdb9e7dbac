//! Code shared by the programs of lab `ring` (none yet).
