//! Lab `rpc`: the wire format, and the grader's own server.

pub mod server;
pub mod wire;
