//! `cargo bench-ipc`: measures the IPC mechanisms of the labs (throughput,
//! messages per second, round-trip latency) against shell and in-process
//! baselines. See `ipc-bench --help` and handouts/performance.md.

#[path = "../bench/mod.rs"]
mod bench;

fn main() -> std::process::ExitCode {
    bench::main()
}
