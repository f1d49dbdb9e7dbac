//! Deliberately broken programs, for proving that every check can fail.
//!
//! Each binary `PROGRAM-broken` behaves like a correct `PROGRAM` unless the
//! environment variable `IPC_FAULT` names one of its faults; then it makes
//! that one mistake, the kind a student makes. `broken/faults/LAB.toml` lists
//! every fault and the checks it must break; the grader's test
//! `every_check_fails_on_a_broken_variant` runs them all.

/// Whether the fault `name` is switched on (`IPC_FAULT=name[,name...]`).
pub fn fault(name: &str) -> bool {
    std::env::var("IPC_FAULT").is_ok_and(|faults| faults.split(',').any(|f| f == name))
}
