//! The C baselines of `cargo bench-ipc` (`bench/src/c/`) are programs of
//! the contract, not shortcuts: the ring's three and `mmap-copy` pass every
//! check of the grader for their programs. A baseline that cut a corner the
//! contract forbids would make the benchmark's "reference against C" a
//! comparison with something else.

use ipc_engine::build::workspace_root;
use ipc_engine::proc::Exit;
use serde_json::Value;

mod common;
use common::{failed_checks, run_to_end};

#[test]
fn the_c_baselines_of_the_ring_and_mmap_copy_pass_their_checks() {
    let sources = workspace_root().join("bench/src/c");
    let bin = tempfile::tempdir().unwrap();
    for program in ["ring-producer", "ring-consumer", "ring-fork", "mmap-copy"] {
        let source = sources.join(format!("{program}.c"));
        let exe = bin.path().join(program);
        // As the benchmark builds them (`cc -O2`), with warnings as errors.
        let args = ["-O2", "-Wall", "-Wextra", "-Werror", "-o", exe.to_str().unwrap(), source.to_str().unwrap()];
        let out = run_to_end("cc", &args, &sources);
        assert_eq!(out.exit, Some(Exit::Code(0)), "cc {program}.c: {}", String::from_utf8_lossy(&out.stderr));
    }
    // Lab `ring` whole, and the checks of lab `mmap` that run `mmap-copy`
    // alone (the lab's other programs have no baseline).
    let mmap_copy =
        ["copy-empty", "copy-one-byte", "copy-64mib-random", "copy-missing-source", "copy-truncates-longer-dst"];
    let mut filters = vec!["ring".to_string()];
    filters.extend(mmap_copy.iter().map(|c| format!("mmap::{c}")));
    let mut args = vec!["--bin-dir", bin.path().to_str().unwrap(), "--format", "json"];
    args.extend(filters.iter().map(String::as_str));
    let out = run_to_end(env!("CARGO_BIN_EXE_ipc-grader"), &args, &workspace_root());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("no JSON report ({e}); {:?}\nstderr:\n{}", out.exit, String::from_utf8_lossy(&out.stderr))
    });
    let failed = failed_checks(&report);
    assert!(failed.is_empty(), "a C baseline fails checks:\n{}", failed.join("\n\n"));
    let tests = report["tests"].as_array().expect("tests[]");
    assert!(tests.len() >= 20 + mmap_copy.len(), "too few checks ran: {}", tests.len());
    assert_eq!(report["score"], report["max_score"]);
}
