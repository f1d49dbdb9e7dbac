//! The grader's trusted peers and probes, as their own executable: it links
//! only the crate `ipc-peers` (no rubric, no hidden check), so a program under test
//! that may run a probe can read nothing of the grader's in it.

fn main() -> std::process::ExitCode {
    ipc_peers::main()
}
