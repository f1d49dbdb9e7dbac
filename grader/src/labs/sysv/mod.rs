//! Lab `sysv`: System V shared memory (`sysv-shm`, the lecture's `shmdemo`).
//!
//! The grader is the program's partner: it makes each check's key files
//! ([`Ctx::sysv_key_file`], keys no other check or grader uses), computes
//! the key with its own `ftok(KEYFILE, 'R')`, and looks at the segment of
//! that key itself ([`segment`]: `shmget` without `IPC_CREAT`, `IPC_STAT`, a
//! read-only attach), or creates it first with content of its own. The
//! segment of a check's key is removed after the check; any other segment
//! the program made fails the check (`grader/src/sysv.rs`).

use std::time::Duration;

use ipc_engine::check::{Check, Done, Fail, ensure, mismatch};
use ipc_engine::ctx::Ctx;
use ipc_engine::sysv::{KeyFile, created_by};

mod segment;

use segment::{Observed, create, observe};

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["sysv-shm"];

pub fn checks() -> Vec<Check> {
    vec![
        Check::new("write-then-read", write_then_read),
        Check::new("reads-segment-of-key", reads_segment_of_key),
        Check::new("writes-segment-of-key", writes_segment_of_key),
        Check::new("creates-1024-bytes-0644", creates_1024_bytes_0644),
        Check::new("short-after-long", short_after_long),
        Check::new("text-limit", text_limit),
        Check::new("no-nul-prints-1024", no_nul_prints_1024),
        Check::new("larger-segment-reads-1024", larger_segment_reads_1024),
        Check::new("remove", remove),
        Check::new("missing-keyfile", missing_keyfile),
        Check::new("smaller-segment", smaller_segment),
        Check::new("usage", usage),
    ]
}

/// The project id the contract passes to `ftok`.
const PROJ: u8 = b'R';
/// The size (and mode) of a segment the program creates.
const SIZE: usize = 1024;
const MODE: u32 = 0o644;
/// How long one run may take (it does a few system calls).
const PROMPT: Duration = Duration::from_secs(3);

fn key_file(ctx: &mut Ctx, name: &str) -> Result<KeyFile, Fail> {
    ctx.sysv_key_file(name, PROJ)
}

fn run(ctx: &mut Ctx, args: &[&[u8]]) -> Result<Done, Fail> {
    use std::os::unix::ffi::OsStrExt;
    let args = args.iter().map(|a| std::ffi::OsStr::from_bytes(a));
    ctx.program("sysv-shm").args(args).timeout(PROMPT).run()
}

/// `writing to segment: "TEXT"` and a newline.
fn writing(text: &[u8]) -> Vec<u8> {
    [b"writing to segment: \"", text, b"\"\n"].concat()
}

/// `segment contains: "CONTENT"` and a newline.
fn contains(content: &[u8]) -> Vec<u8> {
    [b"segment contains: \"", content, b"\"\n"].concat()
}

/// Runs `sysv-shm KEYFILE TEXT` and expects status 0 and the writing line.
fn write(ctx: &mut Ctx, kf: &KeyFile, text: &[u8]) -> Result<Done, Fail> {
    let done = run(ctx, &[kf.name.as_bytes(), text])?;
    done.expect_code(0)?.expect_stdout(&writing(text))?;
    Ok(done)
}

/// Runs `sysv-shm KEYFILE` and expects status 0 and the contains line.
fn read(ctx: &mut Ctx, kf: &KeyFile, content: &[u8]) -> Result<Done, Fail> {
    let done = run(ctx, &[kf.name.as_bytes()])?;
    done.expect_code(0)?.expect_stdout(&contains(content)).map_err(|f| printed_too_much(f, &done, content))?;
    Ok(done)
}

/// The clues of a program that printed more than CONTENT (the rubric's
/// diagnoses of the same names).
const PAST_NUL: &str = "prints-past-nul";
const PAST_1024: &str = "prints-past-1024";

/// A failure that says so when the program printed CONTENT and went on:
/// past the first NUL, or past the segment's first 1024 bytes.
fn printed_too_much(f: Fail, done: &Done, content: &[u8]) -> Fail {
    let start = [&b"segment contains: \""[..], content].concat();
    let Some(next) = done.stdout.strip_prefix(start.as_slice()).and_then(|rest| rest.first().copied()) else {
        return f;
    };
    let Fail { expected, got, .. } = &f;
    let (what, clue) = match next {
        0 => (
            "sysv-shm printed the segment past its first NUL byte: CONTENT is the bytes before the first NUL",
            PAST_NUL,
        ),
        b'"' => return f,
        _ if content.len() == SIZE => (
            "sysv-shm printed more than the segment's first 1024 bytes: CONTENT stops at the first NUL or at byte \
             1024, whichever comes first, however large the segment is",
            PAST_1024,
        ),
        _ => return f,
    };
    let mut fail = done.fail(what).kind(f.kind).clue(clue);
    fail.expected = expected.clone();
    fail.got = got.clone();
    fail.notes = f.notes;
    fail
}

/// The segment of `kf`'s key, which `after` should have left.
fn segment_after(kf: &KeyFile, after: &str) -> Result<Observed, Fail> {
    observe(kf.key)?.ok_or_else(|| {
        Fail::new(format!("after {after}, there is no segment of key ftok({}, 'R') = {:#010x}", kf.name, kf.key))
            .expected("a segment of that key (ipcs -m lists segments and their keys)")
            .note("the key is ftok(KEYFILE, 'R'): the file as given and the character 'R', nothing else")
            .note("shmget(key, 1024, IPC_CREAT | 0644) creates it; it must outlive the program (no IPC_RMID)")
    })
}

/// Expects the segment's bytes to start with `text` and a NUL.
fn expect_text_in(segment: &Observed, text: &[u8], after: &str) -> Result<(), Fail> {
    let end = (text.len() + 1).min(segment.bytes.len());
    let expected = [text, b"\0"].concat();
    let got = &segment.bytes[..end];
    if got == expected.as_slice() {
        return Ok(());
    }
    let mut fail = mismatch("the segment's first bytes", &expected, got, got.len() as u64);
    if got.len() > text.len() && got.starts_with(text) && got[text.len()] != 0 {
        fail.what = "the segment holds TEXT with no NUL after it: the old text's tail follows it, and a reader prints \
                     TEXT with the tail of the longer text written before"
            .to_string();
    }
    Err(fail
        .note(format!("after {after}"))
        .note("copy TEXT's bytes to the start of the segment, then one NUL byte right after them"))
}

/// Expects no segment of `kf`'s key.
fn expect_no_segment(kf: &KeyFile, after: &str, hint: &str) -> Result<(), Fail> {
    match observe(kf.key)? {
        None => Ok(()),
        Some(seg) => Err(Fail::new(format!("after {after}, a segment of key ftok({}, 'R') exists", kf.name))
            .expected("no segment of that key")
            .got(format!("segment id {}, {} bytes, mode {:04o}", seg.id, seg.size, seg.mode))
            .note(hint.to_string())),
    }
}

fn show_cmd(args: &[&str]) -> String {
    format!("`sysv-shm {}`", args.join(" "))
}

/// Non-NUL bytes of a recognisable pattern, `len` long.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[(i + seed as usize) % 36]).collect()
}

// ---------------------------------------------------------------------------

/// `sysv-shm KEYFILE "hello from the first run"`, then `sysv-shm KEYFILE`:
/// the second run prints what the first wrote (the segment outlives the
/// process that wrote it).
fn write_then_read(ctx: &mut Ctx) -> Result<(), Fail> {
    let kf = key_file(ctx, "keyfile")?;
    let text = b"hello from the first run";
    write(ctx, &kf, text)?;
    read(ctx, &kf, text).map_err(|f| {
        if f.has_clue(PAST_NUL) {
            return f;
        }
        f.note("the second run must find the first run's segment: same key, and no IPC_RMID without --remove")
    })?;
    Ok(())
}

/// The grader creates the segment of `ftok(KEYFILE, 'R')` (1024 bytes, 0644)
/// holding its own text; `sysv-shm KEYFILE` prints that text.
fn reads_segment_of_key(ctx: &mut Ctx) -> Result<(), Fail> {
    let kf = key_file(ctx, "keyfile")?;
    let text = format!("put here by the grader, key {:#010x}", kf.key).into_bytes();
    create(kf.key, SIZE, &[text.as_slice(), b"\0"].concat())?;
    read(ctx, &kf, &text).map_err(|f| {
        if f.has_clue(PAST_NUL) {
            return f;
        }
        f.note(
            "the grader created the segment of key ftok(KEYFILE, 'R') first: a program that uses another key \
                (another project id, another file) finds an empty segment of its own",
        )
    })?;
    Ok(())
}

/// `sysv-shm KEYFILE TEXT` on a key with no segment: the grader then finds
/// the segment of `ftok(KEYFILE, 'R')` holding TEXT and a NUL.
fn writes_segment_of_key(ctx: &mut Ctx) -> Result<(), Fail> {
    let kf = key_file(ctx, "keyfile")?;
    let text = b"written by sysv-shm for the grader";
    write(ctx, &kf, text)?;
    let after = show_cmd(&[&kf.name, "TEXT"]);
    let segment = segment_after(&kf, &after)?;
    expect_text_in(&segment, text, &after)
}

/// A segment the program creates has 1024 bytes and mode 0644, whether it
/// was created to write (`sysv-shm K1 x`) or to read (`sysv-shm K2`, which
/// prints `segment contains: ""`).
fn creates_1024_bytes_0644(ctx: &mut Ctx) -> Result<(), Fail> {
    let write_kf = key_file(ctx, "keyfile-write")?;
    let read_kf = key_file(ctx, "keyfile-read")?;
    write(ctx, &write_kf, b"x")?;
    read(ctx, &read_kf, b"")
        .map_err(|f| f.note("without TEXT it still gets the segment, creating it (all zero bytes) if there is none"))?;
    for (kf, after) in [(&write_kf, show_cmd(&[&write_kf.name, "x"])), (&read_kf, show_cmd(&[&read_kf.name]))] {
        let seg = segment_after(kf, &after)?;
        ensure(seg.size == SIZE && seg.mode == MODE, || {
            Fail::new(format!("the segment {after} created has the wrong size or mode"))
                .expected(format!("{SIZE} bytes, mode {MODE:04o}"))
                .got(format!("{} bytes, mode {:04o}", seg.size, seg.mode))
                .note(
                    "shmget(key, 1024, IPC_CREAT | 0644): the low 9 bits of the flags are the mode, and without \
                       them the segment gets mode 0000",
                )
        })?;
    }
    Ok(())
}

/// A long text, then `short`, then the empty text: each reads back exactly,
/// because each write ends with a NUL byte.
fn short_after_long(ctx: &mut Ctx) -> Result<(), Fail> {
    let kf = key_file(ctx, "keyfile")?;
    let long = b"a long text written first, with plenty of bytes after the short one";
    write(ctx, &kf, long)?;
    write(ctx, &kf, b"short")?;
    let hint = "write the NUL after TEXT: without it, the rest of the longer text is still there";
    let segment = segment_after(&kf, "writing a long text, then `short`")?;
    expect_text_in(&segment, b"short", "writing a long text, then `short`")?;
    read(ctx, &kf, b"short").map_err(|f| f.note(hint))?;
    write(ctx, &kf, b"")?;
    read(ctx, &kf, b"").map_err(|f| f.note(hint).note("an empty TEXT is allowed: it writes the NUL alone"))?;
    Ok(())
}

/// 1023 bytes of TEXT are written (with their NUL: the segment's last
/// byte); 1024 bytes give `sysv-shm: text too long`, status 1, leave the
/// segment as it was, and on a key with no segment create none.
fn text_limit(ctx: &mut Ctx) -> Result<(), Fail> {
    let kf = key_file(ctx, "keyfile")?;
    let fits = pattern(SIZE - 1, 0);
    write(ctx, &kf, &fits)?;
    let segment = segment_after(&kf, "writing 1023 bytes")?;
    expect_text_in(&segment, &fits, "writing 1023 bytes")?;

    let too_long = pattern(SIZE, 7);
    let refused = |done: &Done| -> Result<(), Fail> {
        done.expect_code(1)?.expect_stderr_line("sysv-shm: text too long")?.expect_stdout(b"")?;
        Ok(())
    };
    let done = run(ctx, &[kf.name.as_bytes(), &too_long])?;
    refused(&done).map_err(|f| f.note("1024 bytes and the NUL do not fit in 1024: refuse TEXT over 1023 bytes"))?;
    let after = "a refused 1024-byte TEXT";
    let segment = segment_after(&kf, after)?;
    expect_text_in(&segment, &fits, after).map_err(|f| f.note("a refused TEXT must leave the segment untouched"))?;

    let fresh = key_file(ctx, "keyfile-fresh")?;
    let done = run(ctx, &[fresh.name.as_bytes(), &too_long])?;
    refused(&done)?;
    expect_no_segment(
        &fresh,
        "a refused 1024-byte TEXT on a key with no segment",
        "check TEXT's length first, before ftok and shmget: a refused TEXT touches no segment",
    )
}

/// The grader fills a 1024-byte segment with letters and digits, no NUL:
/// `sysv-shm KEYFILE` prints all 1024 bytes between the quotes.
fn no_nul_prints_1024(ctx: &mut Ctx) -> Result<(), Fail> {
    let kf = key_file(ctx, "keyfile")?;
    let full = pattern(SIZE, 3);
    create(kf.key, SIZE, &full)?;
    read(ctx, &kf, &full).map_err(|f| {
        f.note("the segment holds no NUL byte: print all 1024 bytes, and never read past the segment's end")
    })?;
    Ok(())
}

/// A segment of the key larger than 1024 bytes (2048, made by the grader),
/// with no NUL in its first 1024 bytes and its first NUL at 1500: CONTENT
/// is the first 1024 bytes, no more (the contract: an existing larger
/// segment is read no further). A program that reads up to the first NUL
/// wherever it is (C's `%s`) prints 1500.
fn larger_segment_reads_1024(ctx: &mut Ctx) -> Result<(), Fail> {
    const LARGER: usize = 2048;
    const NUL_AT: usize = 1500;
    let kf = key_file(ctx, "keyfile")?;
    let bytes = [pattern(NUL_AT, 7), vec![0]].concat();
    create(kf.key, LARGER, &bytes)?;
    read(ctx, &kf, &bytes[..SIZE]).map_err(|f| {
        f.note(format!(
            "the segment is {LARGER} bytes, with its first NUL at byte {NUL_AT}: CONTENT is read from the first 1024 \
             bytes only, whatever the segment's size"
        ))
    })?;
    Ok(())
}

/// `--remove` after a write (`sysv-shm --remove KEYFILE "gone soon"`) and
/// after a read (of a segment the grader made): the usual line, then
/// `segment removed`, and no segment of the key is left.
fn remove(ctx: &mut Ctx) -> Result<(), Fail> {
    let hint = "after shmdt, shmctl(id, IPC_RMID, NULL) removes the segment";
    let kf = key_file(ctx, "keyfile-write")?;
    let text = b"gone soon";
    let done = run(ctx, &[b"--remove", kf.name.as_bytes(), text])?;
    done.expect_code(0)?.expect_stdout(&[writing(text), b"segment removed\n".to_vec()].concat())?;
    expect_no_segment(&kf, &show_cmd(&["--remove", &kf.name, "\"gone soon\""]), hint)?;

    let kf = key_file(ctx, "keyfile-read")?;
    let content = b"read once, then removed";
    create(kf.key, SIZE, &[content.as_slice(), b"\0"].concat())?;
    let done = run(ctx, &[kf.name.as_bytes(), b"--remove"])?;
    done.expect_code(0)?.expect_stdout(&[contains(content), b"segment removed\n".to_vec()].concat())?;
    expect_no_segment(&kf, &show_cmd(&[&kf.name, "--remove"]), hint)
}

/// A KEYFILE that does not exist, with and without TEXT:
/// `sysv-shm: KEYFILE: No such file or directory`, status 1, and no segment
/// created (an `IPC_PRIVATE` segment, or one of key -1, is a leak).
fn missing_keyfile(ctx: &mut Ctx) -> Result<(), Fail> {
    let missing = "no-such-keyfile";
    for args in [vec![missing, "some text"], vec![missing]] {
        let mut running = ctx.program("sysv-shm").args(&args).spawn()?;
        let pid = running.pid().as_raw();
        let done = ctx.finish(&mut running)?;
        done.expect_code(1)?.expect_stderr_line(&format!("sysv-shm: {missing}: No such file or directory"))?;
        let made = created_by(pid);
        ensure(made.is_empty(), || {
            done.fail(format!("{} made a segment although ftok failed", show_cmd(&args)))
                .expected("no segment")
                .got(made.iter().map(|s| s.describe()).collect::<Vec<_>>().join("; "))
                .note("ftok returns -1 for a missing file: stop there, before shmget")
        })?;
    }
    Ok(())
}

/// The grader makes a 512-byte segment of the key: `sysv-shm KEYFILE` and
/// `sysv-shm KEYFILE TEXT` print `sysv-shm: KEYFILE: Invalid argument`, exit
/// 1, and leave that segment as it was.
fn smaller_segment(ctx: &mut Ctx) -> Result<(), Fail> {
    let kf = key_file(ctx, "keyfile")?;
    let content = b"a small segment of 512 bytes";
    create(kf.key, 512, &[content.as_slice(), b"\0"].concat())?;
    let line = format!("sysv-shm: {}: Invalid argument", kf.name);
    for args in [vec![kf.name.as_bytes()], vec![kf.name.as_bytes(), b"text"]] {
        let done = run(ctx, &args)?;
        done.expect_code(1)?.expect_stderr_line(&line).map_err(|f| {
            f.note(
                "shmget fails with EINVAL when the existing segment is smaller than the size asked for: \
                    report it with KEYFILE as the context",
            )
        })?;
    }
    let after = "two runs on a 512-byte segment";
    let seg = segment_after(&kf, after)?;
    ensure(seg.size == 512, || {
        Fail::new("the smaller segment was replaced")
            .expected("the grader's 512-byte segment, untouched")
            .got(format!("a segment of {} bytes", seg.size))
            .note("report EINVAL and exit: never remove a segment you did not ask to remove")
    })?;
    expect_text_in(&seg, content, after)
}

/// No KEYFILE, `--remove` alone, an extra argument, or an unknown option:
/// a usage error (status 2, one line on stderr), and no segment created.
fn usage(ctx: &mut Ctx) -> Result<(), Fail> {
    let kf = key_file(ctx, "keyfile")?;
    let k = kf.name.as_str();
    let cases: [&[&str]; 5] =
        [&[], &["--remove"], &[k, "text", "extra"], &["--remove", k, "a", "b"], &["--no-such-option", k]];
    for args in cases {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        run(ctx, &args)?.expect_usage_error()?;
    }
    expect_no_segment(&kf, "usage errors", "report a usage error before ftok and shmget")
}
