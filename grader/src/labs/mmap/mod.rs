//! Lab `mmap`: memory-mapped files and msync (`mmap-write`, `mmap-read`,
//! `mmap-counter`, `mmap-private`, `mmap-copy`).
//!
//! Every check prepares its files in the check's own directory (the programs'
//! working directory), runs a program on them, then compares the files byte
//! for byte, not only what the program printed.

use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use ipc_engine::check::{Check, Done, Fail, Kind, ensure, mismatch};
use ipc_engine::ctx::Ctx;
use ipc_engine::proc::Exit;
use ipc_engine::text::os_reason;

use ipc_peers::mmap as gate;

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["mmap-write", "mmap-read", "mmap-counter", "mmap-private", "mmap-copy"];

pub fn checks() -> Vec<Check> {
    vec![
        Check::new("write-offset-zero", write_offset_zero),
        Check::new("write-unaligned-offset", write_unaligned_offset),
        Check::new("write-sparse-1gib", write_sparse_1gib),
        Check::new("write-grows-short-file", write_grows_short_file),
        Check::new("write-keeps-other-bytes", write_keeps_other_bytes),
        Check::new("write-message", write_message),
        Check::new("read-inside", read_inside),
        Check::new("read-at-end", read_at_end),
        Check::new("read-past-end", read_past_end),
        Check::new("read-len-zero-empty-file", read_len_zero_empty_file),
        Check::new("counter-one-copy", counter_one_copy),
        Check::new("counter-later-copy-keeps-value", counter_later_copy_keeps_value),
        Check::new("counter-four-copies-at-once", counter_four_copies_at_once),
        Check::new("counter-no-lost-increments", counter_no_lost_increments),
        Check::new("private-prints-both-lines", private_prints_both_lines),
        Check::new("private-file-unchanged", private_file_unchanged),
        Check::new("private-short-file", private_short_file),
        Check::new("copy-empty", copy_empty),
        Check::new("copy-one-byte", copy_one_byte),
        Check::new("copy-64mib-random", copy_64mib_random),
        Check::new("copy-missing-source", copy_missing_source),
        Check::new("copy-truncates-longer-dst", copy_truncates_longer_dst),
        Check::new("mmap-usage", mmap_usage),
    ]
}

// ---------------------------------------------------------------------------
// Helpers.

/// `count` random bytes, the same for the same seed.
fn random_bytes(seed: u64, count: usize) -> Vec<u8> {
    let mut data = vec![0u8; count];
    fastrand::Rng::with_seed(seed).fill(&mut data);
    data
}

/// Fails unless the file `name` of the check's directory holds exactly `expected`.
fn expect_file(ctx: &Ctx, name: &str, expected: &[u8], done: &Done) -> Result<(), Fail> {
    let got = match std::fs::read(ctx.path(name)) {
        Ok(bytes) => bytes,
        Err(e) => return Err(done.fail(format!("cannot read the file `{name}` afterwards: {}", os_reason(&e)))),
    };
    if got == expected {
        return Ok(());
    }
    Err(mismatch(&format!("the file `{name}`"), expected, &got, got.len() as u64)
        .command(&done.command)
        .note(format!("({})", done.exit)))
}

/// Fails with a clear word about SIGBUS if the program died of it.
fn no_sigbus(done: &Done, hint: &str) -> Result<(), Fail> {
    ensure(done.exit != Exit::Signal(nix::sys::signal::Signal::SIGBUS as i32), || {
        done.fail("the program died of SIGBUS (it touched a mapped page past the end of the file)").note(hint)
    })
}

// ---------------------------------------------------------------------------
// mmap-write

/// `mmap-write new 0 TEXT` creates the file holding exactly TEXT.
fn write_offset_zero(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("mmap-write").args(["new-file", "0", "hello, mapping"]).run()?;
    no_sigbus(&done, "grow the file with ftruncate before touching the mapping")?;
    done.expect_code(0)?;
    expect_file(ctx, "new-file", b"hello, mapping", &done)
}

/// At OFFSET 4097 (not a page boundary): zeros before, TEXT at 4097.
fn write_unaligned_offset(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("mmap-write").args(["new-file", "4097", "unaligned"]).run()?;
    no_sigbus(&done, "grow the file with ftruncate before touching the mapping")?;
    done.expect_code(0)?;
    let mut expected = vec![0u8; 4097];
    expected.extend_from_slice(b"unaligned");
    expect_file(ctx, "new-file", &expected, &done)
}

/// At OFFSET 1 GiB into a new file: the file is 1 GiB + length(TEXT) long,
/// TEXT at the end, and sparse (ftruncate allocates no blocks; mapping only
/// the last page touches one).
fn write_sparse_1gib(ctx: &mut Ctx) -> Result<(), Fail> {
    const GIB: u64 = 1 << 30;
    const MAX_ALLOCATED: u64 = 1 << 20;
    let done = ctx.program("mmap-write").args(["sparse", &GIB.to_string(), "far away"]).run()?;
    no_sigbus(&done, "grow the file with ftruncate before touching the mapping")?;
    done.expect_code(0)?;
    let path = ctx.path("sparse");
    let meta =
        std::fs::metadata(&path).map_err(|e| done.fail(format!("no file `sparse` afterwards: {}", os_reason(&e))))?;
    ensure(meta.len() == GIB + 8, || {
        done.fail("the file has the wrong size")
            .expected(format!("{} bytes", GIB + 8))
            .got(format!("{} bytes", meta.len()))
    })?;
    let allocated = meta.blocks() * 512;
    ensure(allocated <= MAX_ALLOCATED, || {
        done.fail("the file is not sparse: it has disk space allocated for the gigabyte before OFFSET")
            .expected(format!("at most {MAX_ALLOCATED} bytes allocated"))
            .got(format!("{allocated} bytes allocated"))
            .note("grow the file with ftruncate (it allocates nothing) and map only the pages that hold the range")
    })?;
    let mut tail = [0u8; 8];
    let file = std::fs::File::open(&path).map_err(Fail::infra)?;
    std::os::unix::fs::FileExt::read_exact_at(&file, &mut tail, GIB).map_err(Fail::infra)?;
    ensure(&tail == b"far away", || {
        done.fail("TEXT is not at OFFSET").expected("far away").got(String::from_utf8_lossy(&tail).into_owned())
    })
}

/// A 3-byte file written at OFFSET 10 grows: old bytes, zeros, TEXT.
fn write_grows_short_file(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.write_file("short", b"abc")?;
    let done = ctx.program("mmap-write").args(["short", "10", "xyz"]).run()?;
    no_sigbus(&done, "grow the file with ftruncate before touching the mapping")?;
    done.expect_code(0)?;
    expect_file(ctx, "short", b"abc\0\0\0\0\0\0\0xyz", &done)
}

/// Writing inside a longer file changes only the range: no truncation.
fn write_keeps_other_bytes(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut data = random_bytes(7, 10_000);
    ctx.write_file("long", &data)?;
    let done = ctx.program("mmap-write").args(["long", "5000", "in the middle"]).run()?;
    done.expect_code(0)?;
    data[5000..5013].copy_from_slice(b"in the middle");
    expect_file(ctx, "long", &data, &done)
}

/// The message counts bytes, not characters, and repeats OFFSET.
fn write_message(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("mmap-write").args(["message", "4097", "héllo wörld"]).run()?;
    done.expect_code(0)?.expect_stdout(b"wrote 13 bytes at 4097\n")?;
    let done = ctx.program("mmap-write").args(["message", "0", "x"]).run()?;
    done.expect_code(0)?.expect_stdout(b"wrote 1 bytes at 0\n")?;
    Ok(())
}

// ---------------------------------------------------------------------------
// mmap-read

/// The file the read checks use: three pages and a bit, random.
fn read_fixture(ctx: &Ctx) -> Result<Vec<u8>, Fail> {
    let data = random_bytes(11, 3 * 4096 + 100);
    ctx.write_file("data", &data)?;
    Ok(data)
}

/// Reads ranges inside the file, across page boundaries.
fn read_inside(ctx: &mut Ctx) -> Result<(), Fail> {
    let data = read_fixture(ctx)?;
    for (offset, len) in [(0usize, 10usize), (4090, 20), (5000, 3000), (8193, 1)] {
        let done = ctx.program("mmap-read").args(["data", &offset.to_string(), &len.to_string()]).run()?;
        done.expect_code(0)?.expect_stdout(&data[offset..offset + len])?;
    }
    Ok(())
}

/// Reads ranges that end exactly at the end of the file.
fn read_at_end(ctx: &mut Ctx) -> Result<(), Fail> {
    let data = read_fixture(ctx)?;
    let size = data.len();
    for (offset, len) in [(size - 50, 50), (size - 1, 1), (0, size)] {
        let done = ctx
            .program("mmap-read")
            .args(["data", &offset.to_string(), &len.to_string()])
            .output_cap(size + 1)
            .run()?;
        done.expect_code(0)?.expect_stdout(&data[offset..])?;
    }
    Ok(())
}

/// Ranges past the end: the message and status 1, nothing printed, no SIGBUS.
fn read_past_end(ctx: &mut Ctx) -> Result<(), Fail> {
    let data = read_fixture(ctx)?;
    let size = data.len();
    for (offset, len) in [(size - 10, 11), (size + 5000, 1), (0, size + 4096)] {
        let done = ctx.program("mmap-read").args(["data", &offset.to_string(), &len.to_string()]).run()?;
        no_sigbus(&done, "compare OFFSET + LEN with the file's size (fstat) before reading the mapping")?;
        done.expect_code(1)?.expect_stderr_line("mmap-read: data: range past end of file")?;
        ensure(done.stdout.is_empty(), || done.fail("printed bytes for a range past the end of the file"))?;
    }
    Ok(())
}

/// LEN 0 on an empty file prints nothing and exits 0; LEN 1 on it is past its end.
fn read_len_zero_empty_file(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.write_file("empty", b"")?;
    let done = ctx.program("mmap-read").args(["empty", "0", "0"]).run()?;
    done.expect_code(0)?.expect_stdout(b"")?;
    // The same empty file with LEN 1 is past its end: the program looked at
    // the file and LEN, rather than printing nothing whatever it was given.
    let done = ctx.program("mmap-read").args(["empty", "0", "1"]).run()?;
    no_sigbus(&done, "check OFFSET + LEN against the file's size before mapping")?;
    done.expect_code(1)?.expect_stderr_line("mmap-read: empty: range past end of file")?;
    Ok(())
}

// ---------------------------------------------------------------------------
// mmap-counter

/// One copy on a new file: `counter at N`, and the file is N as 8 bytes LE.
fn counter_one_copy(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("mmap-counter").args(["counter", "1000"]).run()?;
    done.expect_code(0)?.expect_stdout(b"counter at 1000\n")?;
    expect_file(ctx, "counter", &1000u64.to_le_bytes(), &done)
}

/// A copy started on a file that already counts continues from its value,
/// and keeps the bytes after the counter.
fn counter_later_copy_keeps_value(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut data = 41u64.to_le_bytes().to_vec();
    data.extend_from_slice(b"trailer!");
    ctx.write_file("counter", &data)?;
    let done = ctx.program("mmap-counter").args(["counter", "1"]).run()?;
    done.expect_code(0)?.expect_stdout(b"counter at 42\n")?;
    let done = ctx.program("mmap-counter").args(["counter", "3"]).run()?;
    done.expect_code(0)?.expect_stdout(b"counter at 45\n")?;
    data[..8].copy_from_slice(&45u64.to_le_bytes());
    expect_file(ctx, "counter", &data, &done)
}

/// Copies of the counter released together at one gate.
const COPIES: usize = 4;

/// Four copies released at the same moment, 250000 increments each, end at
/// exactly 1000000; each prints a distinct value and one of them 1000000.
///
/// 250000 is too few to catch a load-then-store counter every time (on a
/// loaded machine such copies sometimes lose nothing, measured about one run
/// in five): `counter-no-lost-increments` does that with 20 times more.
fn counter_four_copies_at_once(ctx: &mut Ctx) -> Result<(), Fail> {
    four_copies(ctx, 250_000)
}

/// Four copies released at the same moment, 5000000 increments each: enough
/// that a load followed by a store loses increments every time (measured: at
/// least 100000 lost already with 2500000 each, in every run on a loaded
/// 2-core machine), and a couple of seconds at most for fetch_add, even on a loaded machine.
fn counter_no_lost_increments(ctx: &mut Ctx) -> Result<(), Fail> {
    four_copies(ctx, 5_000_000)
}

/// Releases COPIES copies of `mmap-counter counter PER_COPY` at one gate and
/// checks the total and the values they print.
fn four_copies(ctx: &mut Ctx, per_copy: u64) -> Result<(), Fail> {
    let program = ctx.program_path("mmap-counter");
    let fifo = ctx.path("gate");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).map_err(Fail::infra)?;
    // Open both ends ourselves first (O_RDWR does not block on Linux), so the
    // gates' opens for reading return at once and they wait in read().
    let mut gate = std::fs::OpenOptions::new().read(true).write(true).open(&fifo).map_err(Fail::infra)?;
    let mut copies = Vec::new();
    for i in 0..COPIES {
        let ready = ctx.path(&format!("ready-{i}"));
        let cmd = ctx.launcher(gate::NAME);
        let copy = cmd.arg(&fifo).arg(&ready).arg(&program).args(["counter", &per_copy.to_string()]).spawn()?;
        copies.push(copy);
    }
    // Wait for every gate to be open, then release them all with one write.
    let all_ready = |ctx: &Ctx| (0..COPIES).all(|i| ctx.path(&format!("ready-{i}")).exists());
    while !all_ready(ctx) {
        ctx.check_deadline("waiting for the starting gates")?;
        std::thread::sleep(Duration::from_millis(2));
    }
    std::io::Write::write_all(&mut gate, &[b'g'; COPIES]).map_err(Fail::infra)?;
    let released = Instant::now();
    drop(gate);

    let mut values = Vec::new();
    let mut last = None;
    for copy in &mut copies {
        let done = ctx.finish(copy)?;
        done.expect_code(0)?;
        let text = done.stdout_text();
        let value = text.strip_prefix("counter at ").and_then(|v| v.strip_suffix('\n')).and_then(|v| v.parse().ok());
        let Some(value) = value else {
            return Err(done.fail("did not print `counter at X`").got(text));
        };
        values.push(value);
        last = Some(done);
    }
    let total = COPIES as u64 * per_copy;
    let done = last.expect("four copies ran");
    let bytes =
        std::fs::read(ctx.path("counter")).map_err(|e| done.fail(format!("no counter file: {}", os_reason(&e))))?;
    let value = bytes.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap()));
    ensure(value == Some(total), || {
        Fail::new(format!("increments were lost: the copies overlapped, and the counter is not {COPIES} x {per_copy}"))
            .expected(total.to_string())
            .got(value.map_or("(file shorter than 8 bytes)".into(), |v: u64| v.to_string()))
            .note(format!("all four finished {:.2}s after they were released", released.elapsed().as_secs_f64()))
            .note("a load followed by a store is two steps: use one atomic read-modify-write (AtomicU64::fetch_add)")
    })?;
    values.sort_unstable();
    values.dedup();
    ensure(values.len() == COPIES && values.last() == Some(&total), || {
        Fail::new("the copies' `counter at X` lines are wrong")
            .expected(format!("four different values, the largest {total}"))
            .got(format!("{values:?}"))
            .note("print the value your own last fetch_add produced (its result + 1), not a fresh load or N")
    })
}

// ---------------------------------------------------------------------------
// mmap-private

const PRIVATE_FILE: &[u8] = b"original contents of the file\n";

/// Both lines: the mapping shows TEXT, the file its old bytes.
fn private_prints_both_lines(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.write_file("private", PRIVATE_FILE)?;
    let done = ctx.program("mmap-private").args(["private", "PRIVATE"]).run()?;
    done.expect_code(0)?.expect_stdout(b"mapping: PRIVATE\nfile: origina\n")?;
    Ok(())
}

/// The file is unchanged after the private mapping was written.
fn private_file_unchanged(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.write_file("private", PRIVATE_FILE)?;
    let text = "copy on write";
    let done = ctx.program("mmap-private").args(["private", text]).run()?;
    done.expect_code(0)?;
    // The mapping shows TEXT (the write happened) and the file does not:
    // both halves of copy-on-write.
    let mapping = format!("mapping: {text}");
    ensure(done.stdout_text().lines().next() == Some(mapping.as_str()), || {
        done.fail("the mapping does not show TEXT: the write to the private mapping did not happen")
            .kind(Kind::Output)
            .expected(mapping.clone())
            .got(ipc_engine::text::excerpt(&done.stdout, done.stdout_total, 4, 300))
    })?;
    expect_file(ctx, "private", PRIVATE_FILE, &done)
}

/// A file shorter than TEXT: the message, status 1, file unchanged.
fn private_short_file(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.write_file("short", b"abc")?;
    let done = ctx.program("mmap-private").args(["short", "longer text"]).run()?;
    no_sigbus(&done, "compare the file's size (fstat) with TEXT's length before mapping")?;
    done.expect_code(1)?.expect_stderr_line("mmap-private: short: file shorter than text")?;
    expect_file(ctx, "short", b"abc", &done)
}

// ---------------------------------------------------------------------------
// mmap-copy

/// Copies `data` with mmap-copy from `src` to `dst` and compares the files.
fn copy_and_compare(ctx: &mut Ctx, data: &[u8], dst_before: Option<&[u8]>) -> Result<(), Fail> {
    ctx.write_file("src", data)?;
    if let Some(old) = dst_before {
        ctx.write_file("dst", old)?;
    }
    let done = ctx.program("mmap-copy").args(["src", "dst"]).run()?;
    no_sigbus(&done, "size DST with ftruncate to SRC's size before touching its mapping")?;
    done.expect_code(0)?.expect_stdout(b"")?;
    expect_file(ctx, "dst", data, &done)?;
    expect_file(ctx, "src", data, &done)
}

/// An empty SRC gives an empty DST.
fn copy_empty(ctx: &mut Ctx) -> Result<(), Fail> {
    copy_and_compare(ctx, b"", None)
}

/// A one-byte SRC.
fn copy_one_byte(ctx: &mut Ctx) -> Result<(), Fail> {
    copy_and_compare(ctx, b"!", None)
}

/// 64 MiB of random bytes, exact.
fn copy_64mib_random(ctx: &mut Ctx) -> Result<(), Fail> {
    let data = random_bytes(64, 64 << 20);
    copy_and_compare(ctx, &data, None)
}

/// A missing SRC: the message with SRC's name, status 1.
fn copy_missing_source(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("mmap-copy").args(["no-such-file", "dst"]).run()?;
    done.expect_code(1)?.expect_stderr_line("mmap-copy: no-such-file: No such file or directory")?;
    Ok(())
}

/// An existing DST longer than SRC ends up exactly SRC's size.
fn copy_truncates_longer_dst(ctx: &mut Ctx) -> Result<(), Fail> {
    let data = random_bytes(3, 3000);
    let old = vec![b'x'; 10_000];
    copy_and_compare(ctx, &data, Some(&old))
}

// ---------------------------------------------------------------------------

/// Missing, extra or non-numeric arguments: one usage line, status 2.
fn mmap_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    let cases: &[(&str, &[&str])] = &[
        ("mmap-write", &["file", "0"]),
        ("mmap-write", &["file", "ten", "text"]),
        ("mmap-read", &["file", "0", "-1"]),
        ("mmap-counter", &["file"]),
        ("mmap-private", &["file", "text", "extra"]),
        ("mmap-copy", &["src"]),
    ];
    for (program, args) in cases {
        ctx.program(program).args(*args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    Ok(())
}
