//! Lab `ring`'s harness: starting and finishing producers and consumers
//! (the student's or the grader's), the ring's header as /dev/shm shows it,
//! and the clues of a stream that came out wrong.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ipc_engine::check::{Done, Fail, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::leaks::shm_exists;
use ipc_engine::proc::{Exit, Proc};

use ipc_peers::ring::{CONSUMER, HEADER, OFF_MAGIC, PRODUCER};

/// Which program plays a part: the student's or the grader's.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Who {
    Student,
    Grader,
}

/// `len` random bytes, the same for every run.
pub(super) fn random(seed: u64, len: usize) -> Arc<Vec<u8>> {
    let mut data = vec![0u8; len];
    fastrand::Rng::with_seed(seed).fill(&mut data);
    Arc::new(data)
}

/// The capacity a ring gets without `--capacity`.
pub(super) const DEFAULT_CAPACITY: u64 = 65536;

/// A consumer printed `got` where the stream was `expected`, through a
/// ring of `capacity` bytes. If the first wrong bytes are what the ring held
/// before the producer wrote them (zeros of a fresh ring on the first lap,
/// else the stream's bytes one lap earlier), or the bytes of one lap later,
/// the failure says so and carries the clue (`unwritten-bytes`,
/// `overwritten-bytes`) the lab's diagnoses look for.
pub(super) fn stream_clues(fail: Fail, expected: &[u8], got: &[u8], capacity: u64) -> Fail {
    let Some(p) = expected.iter().zip(got).position(|(a, b)| a != b) else { return fail };
    let c = usize::try_from(capacity).unwrap_or(usize::MAX);
    let window = 16.min(got.len() - p).min(expected.len() - p);
    // Whether the wrong bytes are `model(i)` for each stream position i
    // from p on: all of them in a short window, three quarters of 16 (random
    // data: equal by chance that often is unheard of).
    let like = |model: &dyn Fn(usize) -> Option<u8>| {
        let same = (p..p + window).filter(|&i| model(i) == Some(got[i])).count();
        if window < 4 { same == window } else { same * 4 >= window * 3 }
    };
    // What the ring held before the producer wrote byte i: zero on the
    // first lap (a fresh object is zero-filled), else byte i - capacity.
    let before = |i: usize| Some(if i < c { 0 } else { expected[i - c] });
    if window > 0 && like(&before) {
        let was = if p < c {
            "zeros, as the fresh ring held them".to_string()
        } else {
            format!("the stream's bytes from {}, one lap of the ring ({capacity} bytes) earlier", p - c)
        };
        return fail.clue("unwritten-bytes").note(format!(
            "the wrong bytes from byte {p} on are {was}: bytes the producer had not yet written there when the \
             consumer copied them out"
        ));
    }
    // What the producer wrote there `laps` laps later (a producer that
    // does not wait may run many laps ahead).
    let max_laps = expected.len().saturating_sub(p) / c.max(1);
    let later = (1..=max_laps.min(1 << 14)).find(|&laps| like(&|i: usize| expected.get(i + laps * c).copied()));
    if let (true, Some(laps)) = (window > 0, later) {
        return fail.clue("overwritten-bytes").note(format!(
            "the wrong bytes from byte {p} on are the stream's bytes from {}, {laps} lap(s) of the ring \
             ({capacity} bytes) later: the producer wrote over them before the consumer had read them",
            p + laps * c
        ));
    }
    fail
}

/// The grader's own consumer stops with `invariant broken: head H, tail T,
/// capacity C` when a producer runs more than the capacity ahead: that is
/// the overwriting, seen from the counters.
pub(super) fn counter_clues(fail: Fail, stderr: &str) -> Fail {
    let numbers: Vec<u64> = stderr
        .split("invariant broken: head ")
        .nth(1)
        .map(|rest| rest.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).take(3).collect())
        .unwrap_or_default();
    match numbers.as_slice() {
        [head, tail, capacity] if *head > tail + capacity => fail.clue("overwritten-bytes"),
        _ => fail,
    }
}

/// Starts a producer of NAME reading `data`.
pub(super) fn start_producer(
    ctx: &mut Ctx,
    who: Who,
    name: &str,
    capacity: Option<u64>,
    data: &Arc<Vec<u8>>,
) -> Result<Proc, Fail> {
    let mut args = Vec::new();
    if let Some(c) = capacity {
        args.extend(["--capacity".to_string(), c.to_string()]);
    }
    args.push(name.to_string());
    if who == Who::Grader {
        ctx.peer_object(name);
    }
    let cmd = match who {
        Who::Student => ctx.program("ring-producer"),
        Who::Grader => ctx.peer(PRODUCER)?,
    };
    let how = format!("head -c {} /dev/urandom", data.len());
    cmd.args(args).stdin_generated(data.clone(), &how).spawn()
}

/// Starts a consumer of NAME that keeps all it prints.
pub(super) fn start_consumer(ctx: &mut Ctx, who: Who, name: &str, expect_len: usize) -> Result<Proc, Fail> {
    let cmd = match who {
        Who::Student => ctx.program("ring-consumer"),
        Who::Grader => ctx.peer(CONSUMER)?,
    };
    cmd.args(["--wait", "5000", name]).output_cap(expect_len + 1024).spawn()
}

/// Names the side of a pair a failure is about.
pub(super) fn who_failed(who: &str, mut fail: Fail) -> Fail {
    fail.what = format!("{who}: {}", fail.what);
    fail
}

/// Waits for a producer, expecting status 0.
pub(super) fn finish_producer(ctx: &Ctx, producer: &mut Proc) -> Result<Done, Fail> {
    let done = ctx.finish(producer).map_err(|f| who_failed("the producer", f))?;
    done.expect_code(0).map_err(|f| who_failed("the producer", f))?;
    Ok(done)
}

/// Waits for a consumer of a ring of `capacity` bytes, expecting status 0,
/// `data` on stdout, and NAME gone.
pub(super) fn finish_consumer(
    ctx: &Ctx,
    consumer: &mut Proc,
    name: &str,
    data: &[u8],
    capacity: u64,
) -> Result<Done, Fail> {
    let done = ctx.finish(consumer).map_err(|f| who_failed("the consumer", f))?;
    done.expect_code(0).map_err(|f| who_failed("the consumer", counter_clues(f, &done.stderr_text())))?;
    done.expect_stdout(data).map_err(|f| who_failed("the consumer", stream_clues(f, data, &done.stdout, capacity)))?;
    ensure(!shm_exists(name), || {
        done.fail(format!("the consumer exited but the shared-memory object {name} still exists"))
            .note("the consumer unlinks NAME (shm_unlink) once closed == 1 and tail == head")
    })?;
    Ok(done)
}

/// Waits for a producer and a consumer of NAME (a ring of `capacity`
/// bytes); whichever fails first is reported at once (its partner would
/// otherwise wait until the time limit).
pub(super) fn finish_pair(
    ctx: &Ctx,
    p: &mut Proc,
    c: &mut Proc,
    name: &str,
    data: &[u8],
    capacity: u64,
) -> Result<(), Fail> {
    while Instant::now() < ctx.deadline() {
        let (pe, ce) = (p.try_exit(), c.try_exit());
        if pe.is_some_and(|e| e != Exit::Code(0)) {
            finish_producer(ctx, p)?;
        }
        if ce.is_some_and(|e| e != Exit::Code(0)) {
            finish_consumer(ctx, c, name, data, capacity)?;
        }
        if pe.is_some() && ce.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    finish_producer(ctx, p)?;
    finish_consumer(ctx, c, name, data, capacity)?;
    Ok(())
}

/// A whole transfer of `data` from a producer to a consumer, the consumer started first.
pub(super) fn transfer(
    ctx: &mut Ctx,
    producer: Who,
    consumer: Who,
    capacity: Option<u64>,
    data: Arc<Vec<u8>>,
) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let mut c = start_consumer(ctx, consumer, &name, data.len())?;
    let mut p = start_producer(ctx, producer, &name, capacity, &data)?;
    finish_pair(ctx, &mut p, &mut c, &name, &data, capacity.unwrap_or(DEFAULT_CAPACITY))?;
    Ok(())
}

/// The header fields, read from /dev/shm.
pub(super) struct Header {
    pub(super) size: usize,
    pub(super) mode: u32,
    pub(super) bytes: Vec<u8>,
}

impl Header {
    pub(super) fn read(name: &str) -> Option<Header> {
        use std::os::unix::fs::PermissionsExt;
        let path = std::path::Path::new("/dev/shm").join(name.trim_start_matches('/'));
        let mode = std::fs::metadata(&path).ok()?.permissions().mode() & 0o777;
        let bytes = std::fs::read(&path).ok()?;
        Some(Header { size: bytes.len(), mode, bytes })
    }

    pub(super) fn word(&self, off: usize) -> u64 {
        self.bytes.get(off..off + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap())).unwrap_or(0)
    }
}

/// Waits until NAME exists, is at least a header long and its magic is set.
pub(super) fn wait_ready(ctx: &Ctx, name: &str, producer: &mut Proc, within: Duration) -> Result<Header, Fail> {
    let until = ctx.within(within);
    loop {
        if let Some(h) = Header::read(name) {
            if h.size >= HEADER && h.word(OFF_MAGIC) != 0 {
                return Ok(h);
            }
        }
        if producer.try_exit().is_some() {
            let done = ctx.finish(producer)?;
            return Err(done.fail("the producer ended before its ring was ready").note(done.exit.to_string()));
        }
        if Instant::now() >= until {
            return Err(Fail::new(format!(
                "{name} did not appear with its magic set within {:.1}s of starting the producer",
                within.as_secs_f64()
            ))
            .command(&producer.command)
            .note("shm_open(O_CREAT|O_EXCL), ftruncate to 256 + capacity, mmap, fill the header, store magic last")
            .timing(ipc_engine::check::Timing::Deadline));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Compares one header field with the contract.
pub(super) fn field(h: &Header, what: &str, off: usize, want: u64, when: &str) -> Result<(), Fail> {
    let got = h.word(off);
    ensure(got == want, || {
        Fail::new(format!("the header's `{what}` (u64 at offset {off}) is wrong {when}"))
            .expected(format!("{want} ({want:#x})"))
            .got(format!("{got} ({got:#x})"))
            .note("offsets: magic 0, capacity 8, head 64, tail 128, closed 192, data 256")
    })
}

/// Names that are not POSIX IPC names, built on this check's prefix so that
/// anything created by mistake is found and removed.
pub(super) fn bad_names(ctx: &mut Ctx) -> Vec<String> {
    let good = ctx.ipc_name("bad");
    vec![
        good.trim_start_matches('/').to_string(),
        format!("{good}/sub"),
        "/".to_string(),
        format!("{good}{}", "x".repeat(260)),
    ]
}
