//! Lab `ring`: a circular buffer in shared memory (`ring-producer`,
//! `ring-consumer`, `ring-fork`).
//!
//! Student pairs are tested end to end, and each half is also paired with
//! the grader's own trusted partner (`ipc_peers::ring`). The grader reads the
//! object's header from /dev/shm and watches the counters of a running
//! transfer through a read-only mapping of its own.
//!
//! The checks are in `checks.rs`; `harness.rs` starts producers and
//! consumers (the student's or the grader's), reads the ring's header and
//! explains a stream that came out wrong.

use ipc_engine::check::Check;

mod checks;
mod harness;

use checks::*;

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["ring-producer", "ring-consumer", "ring-fork"];

pub fn checks() -> Vec<Check> {
    vec![
        Check::new("empty-stream", empty_stream),
        Check::new("one-byte", one_byte),
        Check::new("random-10mib", random_10mib),
        Check::new("capacity-1", capacity_1),
        Check::new("capacity-7", capacity_7),
        Check::new("producer-first", producer_first),
        Check::new("consumer-first", consumer_first),
        Check::new("producer-with-grader-consumer", producer_with_grader_consumer),
        Check::new("consumer-with-grader-producer", consumer_with_grader_producer),
        Check::new("consumer-splits-wrapped-runs", consumer_splits_wrapped_runs),
        Check::new("header-layout", header_layout),
        Check::new("invariant-holds", invariant_holds),
        Check::new("producer-waits-when-full", producer_waits_when_full),
        Check::new("consumer-wait-timeout", consumer_wait_timeout),
        Check::new("producer-file-exists", producer_file_exists),
        Check::new("consumer-not-a-ring", consumer_not_a_ring),
        Check::new("consumer-unlinks", consumer_unlinks),
        Check::new("waiting-uses-little-cpu", waiting_uses_little_cpu).exclusive(),
        Check::new("fork-10mib", fork_10mib),
        Check::new("fork-capacity-7", fork_capacity_7),
        Check::new("producer-usage", producer_usage),
        Check::new("consumer-usage", consumer_usage),
        Check::new("fork-usage", fork_usage),
    ]
}
