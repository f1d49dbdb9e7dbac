//! Code shared by the programs of lab `mq` (none yet).
