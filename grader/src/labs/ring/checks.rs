//! Lab `ring`: the checks, in the order of the list in `mod.rs`.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ipc_engine::check::{Fail, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::leaks::{remove_shm, shm_exists};
use ipc_engine::proc::Proc;

use ipc_peers::ring as peer;
use ipc_peers::ring::{HEADER, MAGIC, OFF_CAPACITY, OFF_CLOSED, OFF_HEAD, OFF_MAGIC, OFF_TAIL, PRODUCER};

use super::harness::*;

/// An empty stdin gives an empty stream, and the protocol still runs: the
/// producer makes a ready ring and ends it (`closed = 1`, `head = 0`); the
/// consumer then prints nothing, exits 0 and removes the object. (Seeing
/// the ring is what makes "prints nothing" mean something: a program that
/// does nothing also prints nothing.)
pub(super) fn empty_stream(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let mut p = ctx.program("ring-producer").arg(&name).stdin_pipe().spawn()?;
    wait_ready(ctx, &name, &mut p, Duration::from_secs(3)).map_err(|f| who_failed("the producer", f))?;
    p.close_stdin();
    let done = finish_producer(ctx, &mut p)?;
    let Some(h) = Header::read(&name) else {
        return Err(done
            .fail(format!("after the producer exited, {name} is gone"))
            .note("the producer never unlinks NAME: the consumer does"));
    };
    let after = "after end of file on an empty stdin";
    field(&h, "head", OFF_HEAD, 0, after)?;
    field(&h, "closed", OFF_CLOSED, 1, after)?;
    let mut c = start_consumer(ctx, Who::Student, &name, 0)?;
    finish_consumer(ctx, &mut c, &name, b"", DEFAULT_CAPACITY)?;
    Ok(())
}

/// A single byte arrives.
pub(super) fn one_byte(ctx: &mut Ctx) -> Result<(), Fail> {
    transfer(ctx, Who::Student, Who::Student, None, Arc::new(b"x".to_vec()))
}

/// 10 MiB of random bytes arrive exactly through the default 64 KiB ring.
pub(super) fn random_10mib(ctx: &mut Ctx) -> Result<(), Fail> {
    transfer(ctx, Who::Student, Who::Student, None, random(10, 10 << 20))
}

/// A ring of one byte carries 300 bytes.
pub(super) fn capacity_1(ctx: &mut Ctx) -> Result<(), Fail> {
    transfer(ctx, Who::Student, Who::Student, Some(1), random(1, 300))
}

/// A ring of seven bytes carries 3000 bytes: hundreds of wrap-arounds.
pub(super) fn capacity_7(ctx: &mut Ctx) -> Result<(), Fail> {
    transfer(ctx, Who::Student, Who::Student, Some(7), random(7, 3000))
}

/// The producer runs to its end before any consumer exists; a consumer
/// started afterwards still gets the whole stream.
pub(super) fn producer_first(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let data = random(11, 1000);
    let mut p = start_producer(ctx, Who::Student, &name, None, &data)?;
    let done = finish_producer(ctx, &mut p)?;
    ensure(shm_exists(&name), || {
        done.fail(format!("the producer exited and removed {name} before any consumer ran"))
            .note("the producer never unlinks NAME: the consumer does, once it has read everything")
    })?;
    let mut c = start_consumer(ctx, Who::Student, &name, data.len())?;
    finish_consumer(ctx, &mut c, &name, &data, DEFAULT_CAPACITY)?;
    Ok(())
}

/// The consumer starts 0.5 s before the producer exists and waits for it.
pub(super) fn consumer_first(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let data = random(12, 100 << 10);
    let mut c = start_consumer(ctx, Who::Student, &name, data.len())?;
    if let Some(exit) = c.wait_timeout(Duration::from_millis(500)) {
        let done = ctx.finish(&mut c)?;
        return Err(done
            .fail(format!("the consumer ended ({exit}) before the producer had started"))
            .note("with --wait 5000 it keeps looking for NAME (every few ms) for up to 5 s"));
    }
    let mut p = start_producer(ctx, Who::Student, &name, Some(4096), &data)?;
    finish_pair(ctx, &mut p, &mut c, &name, &data, 4096)?;
    Ok(())
}

/// The student's producer feeds the grader's consumer (1 MiB, capacity 4093).
pub(super) fn producer_with_grader_consumer(ctx: &mut Ctx) -> Result<(), Fail> {
    transfer(ctx, Who::Student, Who::Grader, Some(4093), random(13, 1 << 20))
}

/// The grader's producer (256 KiB in pieces of 64 KiB with 100 ms pauses,
/// capacity 4093) feeds the student's consumer.
pub(super) fn consumer_with_grader_producer(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let data = random(14, 256 << 10);
    let mut c = start_consumer(ctx, Who::Student, &name, data.len())?;
    ctx.peer_object(&name);
    let mut p = ctx
        .peer(PRODUCER)?
        .args(["--capacity", "4093", "--chunk", "65536", "--pause-ms", "100", &name])
        .stdin_generated(data.clone(), "head -c 262144 /dev/urandom")
        .spawn()?;
    finish_pair(ctx, &mut p, &mut c, &name, &data, 4093)?;
    Ok(())
}

/// The grader's producer publishes 5 bytes at a time into a 7-byte ring,
/// 20 ms apart, each with one head store: most pieces wrap around the end of
/// the data area, and the consumer must split them.
pub(super) fn consumer_splits_wrapped_runs(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let data = random(21, 100);
    let mut c = start_consumer(ctx, Who::Student, &name, data.len())?;
    ctx.peer_object(&name);
    let mut p = ctx
        .peer(PRODUCER)?
        .args(["--capacity", "7", "--chunk", "5", "--pause-ms", "20", &name])
        .stdin_generated(data.clone(), "head -c 100 /dev/urandom")
        .spawn()?;
    finish_pair(ctx, &mut p, &mut c, &name, &data, 7)
}

/// The producer's object: 256 + capacity bytes, mode 0600, magic, capacity,
/// zero counters; after 10 bytes and end of file: head 10, closed 1, the
/// bytes at offset 256, and the object still there.
pub(super) fn header_layout(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let mut p = ctx.program("ring-producer").args(["--capacity", "1000", &name]).stdin_pipe().spawn()?;
    let h = wait_ready(ctx, &name, &mut p, Duration::from_secs(3))?;
    ensure(h.size == HEADER + 1000, || {
        Fail::new("the object's size is wrong").expected("256 + capacity = 1256 bytes").got(format!("{} bytes", h.size))
    })?;
    ensure(h.mode == 0o600, || {
        Fail::new("the object's permissions are wrong").expected("0600").got(format!("{:04o}", h.mode))
    })?;
    let before = "while stdin is still open";
    field(&h, "magic", OFF_MAGIC, MAGIC, before)?;
    field(&h, "capacity", OFF_CAPACITY, 1000, before)?;
    field(&h, "head", OFF_HEAD, 0, before)?;
    field(&h, "tail", OFF_TAIL, 0, before)?;
    field(&h, "closed", OFF_CLOSED, 0, before)?;

    let text = b"ring data!";
    if let Some(stdin) = p.stdin() {
        let _ = stdin.write_all(text);
    }
    p.close_stdin();
    let done = finish_producer(ctx, &mut p)?;
    let Some(h) = Header::read(&name) else {
        return Err(done
            .fail(format!("after the producer exited, {name} is gone"))
            .note("the producer never unlinks NAME: the consumer does"));
    };
    remove_shm(&name);
    let after = "after 10 bytes and end of file";
    field(&h, "head", OFF_HEAD, 10, after)?;
    field(&h, "tail", OFF_TAIL, 0, after)?;
    field(&h, "closed", OFF_CLOSED, 1, after)?;
    let data = h.bytes.get(HEADER..HEADER + 10).unwrap_or_default();
    ensure(data == text, || {
        Fail::new("the data area does not hold the stream's first bytes")
            .expected(format!("{:?} at offset 256", String::from_utf8_lossy(text)))
            .got(format!("{:?}", String::from_utf8_lossy(data)))
    })?;
    Ok(())
}

/// `tail <= head <= tail + capacity` at every sample the grader takes of a
/// 4 MiB transfer through a 4096-byte ring (the consumer starts 0.3 s late).
pub(super) fn invariant_holds(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let capacity = 4096u64;
    let data = random(15, 4 << 20);
    let mut p = start_producer(ctx, Who::Student, &name, Some(capacity), &data)?;
    wait_ready(ctx, &name, &mut p, Duration::from_secs(3))?;
    let ring = peer::watch(&name).map_err(|e| {
        Fail::new(format!("the grader cannot map {name}: {}", ipc_engine::text::without_os_error(e.to_string())))
    })?;
    let (head, tail) = (ring.word(OFF_HEAD), ring.word(OFF_TAIL));
    let mut consumer: Option<Proc> = None;
    let start = Instant::now();
    let mut samples = 0u64;
    let mut last_head = 0;
    loop {
        // Both counters only grow: the tail at the moment head is read lies
        // between the two tail loads.
        let t1 = tail.load(Ordering::Acquire);
        let h = head.load(Ordering::Acquire);
        let t2 = tail.load(Ordering::Acquire);
        samples += 1;
        let broken = if h < t1 {
            Some(format!("tail {t1} is past head {h}"))
        } else if h > t2 + capacity {
            Some(format!("head {h} is more than the capacity ({capacity}) ahead of tail {t2}"))
        } else if h < last_head {
            Some(format!("head went back from {last_head} to {h}"))
        } else {
            None
        };
        if let Some(what) = broken {
            let fail = Fail::new(format!("the ring's invariant tail <= head <= tail + capacity broke: {what}"));
            let fail = if h > t2 + capacity { fail.clue("overwritten-bytes") } else { fail };
            return Err(fail
                .note(format!("producer: {}", p.command))
                .note("the producer must wait while head - tail == capacity, loading tail with acquire ordering"));
        }
        last_head = h;
        if consumer.is_none() && start.elapsed() >= Duration::from_millis(300) {
            consumer = Some(start_consumer(ctx, Who::Student, &name, data.len())?);
        }
        if consumer.as_mut().is_some_and(|c| c.try_exit().is_some()) {
            break;
        }
        if Instant::now() >= ctx.deadline() {
            break;
        }
        std::thread::sleep(Duration::from_micros(50));
    }
    drop(ring);
    let mut c = consumer.expect("started");
    finish_pair(ctx, &mut p, &mut c, &name, &data, capacity)
        .map_err(|f| f.note(format!("(the grader sampled the counters {samples} times)")))?;
    Ok(())
}

/// With no consumer, a producer of 64 KiB into a 4096-byte ring is still
/// running 0.8 s later with head == capacity, and finishes once the grader's
/// consumer drains the ring.
pub(super) fn producer_waits_when_full(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let data = random(16, 64 << 10);
    let mut p = start_producer(ctx, Who::Student, &name, Some(4096), &data)?;
    if let Some(exit) = p.wait_timeout(Duration::from_millis(800)) {
        let done = ctx.finish(&mut p)?;
        return Err(done.fail(format!("the producer ended ({exit}) while nobody had read its full ring")).note(
            "when head - tail == capacity the producer waits (re-checking tail) until the consumer frees space",
        ));
    }
    let Some(h) = Header::read(&name) else {
        return Err(Fail::new(format!("the shared-memory object {name} does not exist while the producer runs")));
    };
    field(&h, "head", OFF_HEAD, 4096, "while the ring is full and nobody reads")?;
    let mut c = start_consumer(ctx, Who::Grader, &name, data.len())?;
    finish_pair(ctx, &mut p, &mut c, &name, &data, 4096)?;
    Ok(())
}

/// `--wait 300` with no producer: the timed-out message and status 1 after
/// at least 0.25 s and within 2.5 s.
pub(super) fn consumer_wait_timeout(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let done = ctx.program("ring-consumer").args(["--wait", "300", &name]).timeout(Duration::from_secs(3)).run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("ring-consumer: {name}: timed out waiting for producer"))?;
    let took = done.elapsed.as_secs_f64();
    ensure((0.25..=2.5).contains(&took), || {
        let fail = done.fail(format!("the consumer gave up after {took:.2}s; --wait 300 means about 0.3 s"));
        if took > 2.5 { fail.timing(ipc_engine::check::Timing::Latency) } else { fail }
    })?;
    Ok(())
}

/// A second producer of the same NAME fails with `File exists` and leaves
/// the first one's ring working.
pub(super) fn producer_file_exists(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let mut first = ctx.program("ring-producer").arg(&name).stdin_pipe().spawn()?;
    wait_ready(ctx, &name, &mut first, Duration::from_secs(3))?;
    let second = ctx.program("ring-producer").arg(&name).timeout(Duration::from_secs(2)).run()?;
    second.expect_code(1)?.expect_stderr_line(&format!("ring-producer: {name}: File exists"))?;
    let text = b"first producer's data\n";
    if let Some(stdin) = first.stdin() {
        let _ = stdin.write_all(text);
    }
    first.close_stdin();
    let mut c = start_consumer(ctx, Who::Grader, &name, text.len())?;
    finish_pair(ctx, &mut first, &mut c, &name, text, DEFAULT_CAPACITY)
        .map_err(|f| f.note("the second producer must not touch the first one's object (O_CREAT|O_EXCL)"))?;
    Ok(())
}

/// An object whose magic is wrong: `not a ring buffer`, status 1.
pub(super) fn consumer_not_a_ring(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let path = std::path::Path::new("/dev/shm").join(name.trim_start_matches('/'));
    let junk: Vec<u8> = b"this is not a ring buffer. ".iter().copied().cycle().take(4096).collect();
    std::fs::write(&path, junk).map_err(|e| Fail::infra(ipc_engine::text::os_reason(&e)))?;
    let done = ctx.program("ring-consumer").args(["--wait", "2000", &name]).timeout(Duration::from_secs(3)).run();
    remove_shm(&name);
    done?.expect_code(1)?.expect_stderr_line(&format!("ring-consumer: {name}: not a ring buffer"))?;
    Ok(())
}

/// After a transfer from the grader's producer, the consumer has removed NAME.
pub(super) fn consumer_unlinks(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let data = random(17, 5000);
    let mut p = start_producer(ctx, Who::Grader, &name, Some(1024), &data)?;
    let mut c = start_consumer(ctx, Who::Student, &name, data.len())?;
    let done = ctx.finish(&mut c)?;
    done.expect_code(0)?;
    ensure(!shm_exists(&name), || {
        done.fail(format!("the consumer exited 0 but {name} still exists in /dev/shm"))
            .note("call shm_unlink(NAME) once closed == 1 and tail == head")
    })?;
    done.expect_stdout(&data).map_err(|f| stream_clues(f, &data, &done.stdout, 1024))?;
    finish_producer(ctx, &mut p)?;
    Ok(())
}

/// CPU a waiting process may use, as a share of what a busy loop gets over
/// the same window on the same machine (see `CpuUse::verdict`: a process
/// that never blocks fails whatever its share).
const CPU_SHARE: f64 = 0.25;
/// How long the waiting is measured.
const CPU_WINDOW: Duration = Duration::from_millis(1500);

/// A producer waiting on a full ring, a consumer waiting on an empty one and
/// a consumer waiting for its producer to appear each use less than 20% of
/// a CPU over 1.5 s.
pub(super) fn waiting_uses_little_cpu(ctx: &mut Ctx) -> Result<(), Fail> {
    let full = ctx.ipc_name("full");
    let empty = ctx.ipc_name("empty");
    let absent = ctx.ipc_name("absent");
    let data = random(18, 16 << 10);
    let mut producer = start_producer(ctx, Who::Student, &full, Some(4096), &data)?;
    ctx.peer_object(&empty);
    ctx.peer_object(&absent);
    let mut silent = ctx.peer(PRODUCER)?.arg(&empty).stdin_pipe().spawn()?;
    let mut on_empty = start_consumer(ctx, Who::Student, &empty, 0)?;
    let mut on_absent = ctx.program("ring-consumer").args(["--wait", "8000", &absent]).spawn()?;
    wait_ready(ctx, &full, &mut producer, Duration::from_secs(2))?;
    std::thread::sleep(Duration::from_millis(300));

    let mut waiters = [
        ("the producer waiting on a full ring", &mut producer),
        ("the consumer waiting on an empty ring", &mut on_empty),
        ("the consumer waiting for its producer to appear", &mut on_absent),
    ];
    let cpu = {
        let mut procs: Vec<&mut Proc> = waiters.iter_mut().map(|(_, p)| &mut **p).collect();
        ctx.cpu_used(&mut procs, CPU_WINDOW)?
    };
    for ((what, p), used) in waiters.iter_mut().zip(cpu.used.iter().copied()) {
        let Some(used) = used else {
            let exit = p.try_exit().map(|e| e.to_string()).unwrap_or_else(|| "still running".into());
            return Err(Fail::new(format!("{what} did not keep waiting ({exit})")).command(&p.command));
        };
        cpu.verdict(used, CPU_SHARE).map_err(|why| {
            Fail::new(format!("{what} burns the CPU: {why}"))
                .timing(ipc_engine::check::Timing::CpuShare)
                .expected(format!(
                    "a waiter that sleeps between re-checks, using at most {:.0}% of what a busy loop gets",
                    CPU_SHARE * 100.0
                ))
                .command(&p.command)
                .note("after a short spin, sleep (e.g. 100-500 us) between re-checks of the counters")
        })?;
    }

    // Let everything end cleanly.
    let mut drain = start_consumer(ctx, Who::Grader, &full, data.len())?;
    silent.close_stdin();
    let mut late = ctx.peer(PRODUCER)?.arg(&absent).spawn()?;
    finish_producer(ctx, &mut producer)?;
    finish_consumer(ctx, &mut drain, &full, &data, 4096)?;
    finish_producer(ctx, &mut silent)?;
    finish_consumer(ctx, &mut on_empty, &empty, b"", DEFAULT_CAPACITY)?;
    finish_producer(ctx, &mut late)?;
    finish_consumer(ctx, &mut on_absent, &absent, b"", DEFAULT_CAPACITY)?;
    Ok(())
}

/// `ring-fork` carries 10 MiB of random bytes exactly and exits 0.
pub(super) fn fork_10mib(ctx: &mut Ctx) -> Result<(), Fail> {
    let data = random(19, 10 << 20);
    let done = ctx
        .program("ring-fork")
        .stdin_generated(data.clone(), "head -c 10485760 /dev/urandom")
        .output_cap(data.len() + 1)
        .run()?;
    done.expect_code(0)?;
    done.expect_stdout(&data).map_err(|f| stream_clues(f, &data, &done.stdout, DEFAULT_CAPACITY))?;
    Ok(())
}

/// `ring-fork --capacity 7` carries 3000 bytes exactly.
pub(super) fn fork_capacity_7(ctx: &mut Ctx) -> Result<(), Fail> {
    let data = random(20, 3000);
    let done = ctx
        .program("ring-fork")
        .args(["--capacity", "7"])
        .stdin_generated(data.clone(), "head -c 3000 /dev/urandom")
        .output_cap(data.len() + 1)
        .run()?;
    done.expect_code(0)?;
    done.expect_stdout(&data).map_err(|f| stream_clues(f, &data, &done.stdout, 7))?;
    Ok(())
}

/// Bad arguments to `ring-producer` are usage errors.
pub(super) fn producer_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let mut cases: Vec<Vec<String>> = bad_names(ctx).into_iter().map(|n| vec![n]).collect();
    cases.push(vec![]);
    cases.push(vec![name.clone(), name.clone()]);
    cases.push(vec!["--capacity".into(), "lots".into(), name.clone()]);
    for args in cases {
        ctx.program("ring-producer").args(&args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    Ok(())
}

/// Bad arguments to `ring-consumer` are usage errors.
pub(super) fn consumer_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    let name = ctx.ipc_name("ring");
    let mut cases: Vec<Vec<String>> =
        bad_names(ctx).into_iter().map(|n| vec!["--wait".into(), "0".into(), n]).collect();
    cases.push(vec![]);
    cases.push(vec![name.clone(), name.clone()]);
    cases.push(vec!["--wait".into(), "soon".into(), name.clone()]);
    for args in cases {
        ctx.program("ring-consumer").args(&args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    Ok(())
}

/// Bad arguments to `ring-fork` are usage errors.
pub(super) fn fork_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    for args in [&["extra"][..], &["--capacity", "big"], &["--capacity"]] {
        ctx.program("ring-fork").args(args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    Ok(())
}
