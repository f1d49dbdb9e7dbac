//! Code shared by the programs of lab `signals` (none yet).
