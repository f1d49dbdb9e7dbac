//! Code shared by the programs of lab `mq` (none: each program is short).
