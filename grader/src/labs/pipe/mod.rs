//! Lab `pipe`: pipes between parent and child (`pipe-message`, `pipeline`).

mod stages;

use std::time::Duration;

use ipc_engine::check::{Check, Fail, ensure};
use ipc_engine::ctx::Ctx;

use ipc_peers::pipe as probe;

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["pipe-message", "pipeline"];

pub fn checks() -> Vec<Check> {
    vec![
        Check::new("message-default", message_default),
        Check::new("message-custom-text", message_custom_text),
        Check::new("message-large-text", message_large_text),
        Check::new("message-exit-code", message_exit_code),
        Check::new("message-usage", message_usage),
        Check::new("pipeline-seq-wc", pipeline_seq_wc),
        Check::new("pipeline-one-stage", pipeline_one_stage),
        Check::new("pipeline-splits-on-whitespace", pipeline_splits_on_whitespace),
        Check::new("pipeline-three-cats-20mib", pipeline_three_cats_20mib),
        Check::new("pipeline-eof-reaches-every-stage", pipeline_eof_reaches_every_stage),
        Check::new("pipeline-only-std-fds", pipeline_only_std_fds),
        Check::new("pipeline-sigpipe-default", pipeline_sigpipe_default),
        Check::new("pipeline-signals-default", pipeline_signals_default),
        Check::new("pipeline-stderr-inherited", pipeline_stderr_inherited),
        Check::new("pipeline-command-not-found", pipeline_command_not_found),
        Check::new("pipeline-exit-status-last", pipeline_exit_status_last),
        Check::new("pipeline-exit-status-signal", pipeline_exit_status_signal),
        Check::new("pipeline-waits-for-every-stage", pipeline_waits_for_every_stage),
        Check::new("pipeline-usage", pipeline_usage),
    ]
}

/// What `pipe-message` prints for TEXT and CODE.
fn message_output(text: &str, code: i32) -> Vec<u8> {
    format!("parent received: {text}\nchild exited with status {code}\n").into_bytes()
}

/// `pipe-message` with no argument sends the default text and reports status 0.
fn message_default(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("pipe-message").run()?;
    done.expect_code(0)?.expect_stdout(&message_output("message for parent", 0)).map_err(|mut f| {
        let first = done.stdout.split(|&b| b == b'\n').next().unwrap_or_default();
        if let Some(sent) = first.strip_prefix(b"parent received: ".as_slice()) {
            f.what = format!(
                "with no TEXT the parent received {:?}: the default TEXT is `message for parent`",
                String::from_utf8_lossy(sent)
            );
        }
        f
    })?;
    Ok(())
}

/// `pipe-message TEXT` sends TEXT, spaces and punctuation included.
fn message_custom_text(ctx: &mut Ctx) -> Result<(), Fail> {
    let text = "hello, pipe: two  spaces & ünïcödé";
    let done = ctx.program("pipe-message").arg(text).run()?;
    done.expect_code(0)?.expect_stdout(&message_output(text, 0))?;
    Ok(())
}

/// A 100 KiB TEXT, more than a pipe holds, arrives whole (one read is not
/// enough). The text is the numbers from 1 up (no chunk repeats), which the
/// reproduction makes with `seq`; it counts the bytes of the output.
fn message_large_text(ctx: &mut Ctx) -> Result<(), Fail> {
    let text = ipc_engine::ctx::numbers_text(100 * 1024);
    let done = ctx.program("pipe-message").arg_made(&text).stdout_shown_through("wc -c").run()?;
    done.expect_code(0)?.expect_stdout(&message_output(&text.text, 0)).map_err(|mut f| {
        if let Some(n) = received_prefix(&done, text.text.as_bytes()) {
            f.what = format!(
                "the parent received only the first {n} of TEXT's {} bytes: one read(2) returns what the pipe holds \
                 at that moment, at most its 64 KiB; read until end of file",
                text.text.len()
            );
        }
        f
    })?;
    Ok(())
}

/// How many bytes the parent printed as received when they are a proper
/// prefix of `text` (the rest never read), or None.
fn received_prefix(done: &ipc_engine::check::Done, text: &[u8]) -> Option<usize> {
    if done.stdout_total != done.stdout.len() as u64 {
        return None;
    }
    let rest = done.stdout.strip_prefix(b"parent received: ".as_slice())?;
    let end = rest.windows(25).position(|w| w == b"\nchild exited with status")?;
    let got = &rest[..end];
    (got.len() < text.len() && text.starts_with(got)).then_some(got.len())
}

/// `--exit CODE` makes the child exit with CODE, which the parent reports; the
/// parent itself exits 0. The option may come before or after TEXT.
fn message_exit_code(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("pipe-message").args(["--exit", "7", "seven"]).run()?;
    done.expect_code(0)?.expect_stdout(&message_output("seven", 7))?;
    let done = ctx.program("pipe-message").args(["last", "--exit", "255"]).run()?;
    done.expect_code(0)?.expect_stdout(&message_output("last", 255))?;
    Ok(())
}

/// Bad arguments are a usage error: one line on stderr, status 2.
fn message_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    for args in [&["--exit", "seven"][..], &["--exit"], &["one", "two"], &["--no-such-option"]] {
        ctx.program("pipe-message").args(args).run()?.expect_usage_error()?;
    }
    Ok(())
}

/// `pipeline "seq 1 100000" "wc -l"` prints 100000.
fn pipeline_seq_wc(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("pipeline").args(["seq 1 100000", "wc -l"]).run()?;
    done.expect_code(0)?.expect_stdout(b"100000\n")?;
    Ok(())
}

/// One stage reads pipeline's stdin and writes its stdout.
fn pipeline_one_stage(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("pipeline").arg("cat").stdin_bytes(b"one stage\n".to_vec()).run()?;
    done.expect_code(0)?.expect_stdout(b"one stage\n")?;
    Ok(())
}

/// A stage is split on runs of spaces and tabs into program and arguments.
fn pipeline_splits_on_whitespace(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("pipeline").arg("  echo  one\ttwo   three ").run()?;
    done.expect_code(0)?.expect_stdout(b"one two three\n")?;
    Ok(())
}

/// Three `cat` stages carry 20 MiB of random bytes exactly.
fn pipeline_three_cats_20mib(ctx: &mut Ctx) -> Result<(), Fail> {
    let size = 20 << 20;
    let mut data = vec![0u8; size];
    fastrand::Rng::with_seed(20).fill(&mut data);
    let data = std::sync::Arc::new(data);
    let done = ctx
        .program("pipeline")
        .args(["cat", "cat", "cat"])
        .stdin_from_file(data.clone(), "input", "head -c 20971520 /dev/urandom")
        .stdout_shown_through("cmp - input")
        .output_cap(size + 1)
        .run()?;
    done.expect_code(0)?.expect_stdout(&data)?;
    Ok(())
}

/// End of file reaches every stage: four `cat` stages end soon after their
/// input does (a stage that keeps a pipe's write end open never ends).
fn pipeline_eof_reaches_every_stage(ctx: &mut Ctx) -> Result<(), Fail> {
    let done =
        ctx.program("pipeline").args(["cat", "cat", "cat", "cat"]).stdin_bytes(b"end of file\n".to_vec()).run()?;
    done.expect_code(0)?.expect_stdout(b"end of file\n")?;
    Ok(())
}

/// Every stage starts with only descriptors 0, 1 and 2 open: the grader
/// looks at each stage's descriptors in /proc while it waits for its input.
fn pipeline_only_std_fds(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.peer_on_path(probe::NAME)?;
    let stages = ["ipc-probe fds first", "ipc-probe fds middle", "ipc-probe fds last"];
    let mut running = ctx.program("pipeline").args(stages).stdin_held(stages::HELD).spawn()?;
    let seen = stages::wait_for(ctx, &mut running, &[&["fds", "first"], &["fds", "middle"], &["fds", "last"]])?;
    let each_stage = ["first", "middle", "last"].into_iter().zip(&seen).try_for_each(|(stage, probe)| {
        let fds = probe.fds().unwrap_or_default();
        let numbers: Vec<String> = fds.iter().map(|(fd, _)| fd.to_string()).collect();
        ensure(numbers == ["0", "1", "2"], || {
            let others: Vec<String> =
                fds.iter().filter(|(fd, _)| *fd > 2).map(|(fd, what)| format!("{fd}: {what}")).collect();
            let fail = Fail::new(format!("the {stage} stage started with other descriptors open"))
                .expected("0 1 2")
                .got(numbers.join(" "))
                .note("close both ends of every pipe in every process after dup2, or create the pipes with O_CLOEXEC");
            if others.is_empty() { fail } else { fail.note(format!("the others: {}", others.join(", "))) }
        })
        .map_err(|fail| (stage, fail))
    });
    let done = stages::release(ctx, &mut running);
    if let Err((stage, fail)) = each_stage {
        ctx.shown(format!("cat {stage}"));
        return Err(fail);
    }
    done?.expect_code(0)?;
    Ok(())
}

/// `yes` piped into `head -n 3` ends quietly: `yes` dies of SIGPIPE, which it
/// can only do if pipeline reset SIGPIPE (ignored by Rust) to the default.
fn pipeline_sigpipe_default(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("pipeline").args(["yes", "head -n 3"]).run()?;
    done.expect_code(0)?.expect_stdout(b"y\ny\ny\n")?;
    done.expect_stderr_empty().map_err(|f| {
        f.note("`yes` got an error writing instead of dying of SIGPIPE: restore SIGPIPE to SIG_DFL in each child before exec")
    })?;
    Ok(())
}

/// Every stage starts with no signal ignored (SIGPIPE aside: the check
/// above sees it at work) and none blocked: a disposition or mask that
/// pipeline set for itself (a shell ignores SIGINT while it waits) must not
/// reach the programs it runs, for both survive exec. The grader reads each
/// stage's masks in /proc while it waits for its input.
fn pipeline_signals_default(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.peer_on_path(probe::NAME)?;
    let stages = ["ipc-probe signals first", "ipc-probe signals middle", "ipc-probe signals last"];
    let mut running = ctx.program("pipeline").args(stages).stdin_held(stages::HELD).spawn()?;
    let seen =
        stages::wait_for(ctx, &mut running, &[&["signals", "first"], &["signals", "middle"], &["signals", "last"]])?;
    let each_stage = ["first", "middle", "last"].into_iter().zip(&seen).try_for_each(|(stage, probe)| {
        let (ignored, blocked) = probe.signals().unwrap_or_default();
        // The probe is a Rust program: its runtime ignores SIGPIPE before
        // anyone can look, so what it inherited there cannot be seen.
        let ignored: Vec<String> = stages::signal_names(ignored).into_iter().filter(|s| s != "SIGPIPE").collect();
        let blocked = stages::signal_names(blocked);
        ensure(ignored.is_empty() && blocked.is_empty(), || {
            let or_none = |v: &[String]| if v.is_empty() { "(none)".to_string() } else { v.join(" ") };
            Fail::new(format!("the {stage} stage started with signals ignored or blocked"))
                .expected("no signal ignored (but SIGPIPE, checked on its own) and none blocked")
                .got(format!("ignored: {}; blocked: {}", or_none(&ignored), or_none(&blocked)))
                .note(
                    "an ignored signal stays ignored across exec, and the signal mask is kept: in each child, \
                     before execvp, set every signal back to SIG_DFL and clear the mask (sigprocmask SIG_SETMASK \
                     with an empty set)",
                )
        })
        .map_err(|fail| (stage, fail))
    });
    let done = stages::release(ctx, &mut running);
    if let Err((stage, fail)) = each_stage {
        ctx.shown(format!("cat {stage}"));
        return Err(fail);
    }
    done?.expect_code(0)?;
    Ok(())
}

/// Stages write to pipeline's own stderr.
fn pipeline_stderr_inherited(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.peer_on_path(probe::NAME)?;
    let done = ctx.program("pipeline").args(["ipc-probe stderr from-the-first-stage", "cat"]).run()?;
    done.expect_code(0)?.expect_stderr_line("from-the-first-stage")?;
    Ok(())
}

/// A program not on PATH: that stage prints `pipeline: PROGRAM: command not
/// found` and exits 127 (as the last stage, that is pipeline's status).
fn pipeline_command_not_found(ctx: &mut Ctx) -> Result<(), Fail> {
    let missing = "ipclabs-no-such-program";
    let line = format!("pipeline: {missing}: command not found");
    let done = ctx.program("pipeline").arg(missing).run()?;
    done.expect_code(127)?.expect_stderr_line(&line)?;
    let done = ctx.program("pipeline").args(["echo hi", missing, "cat"]).run()?;
    done.expect_code(0)?.expect_stderr_line(&line)?;
    Ok(())
}

/// pipeline exits with the last stage's status, whatever the others do.
fn pipeline_exit_status_last(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.peer_on_path(probe::NAME)?;
    ctx.program("pipeline").args(["true", "false"]).run()?.expect_code(1)?;
    ctx.program("pipeline").args(["false", "true"]).run()?.expect_code(0)?;
    ctx.program("pipeline").args(["echo hi", "ipc-probe exit 3"]).run()?.expect_code(3)?;
    Ok(())
}

/// A last stage killed by signal N gives status 128+N.
fn pipeline_exit_status_signal(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.peer_on_path(probe::NAME)?;
    ctx.program("pipeline").args(["echo hi", "ipc-probe raise 15"]).run()?.expect_code(128 + 15)?;
    ctx.program("pipeline").args(["ipc-probe raise 6"]).run()?.expect_code(128 + 6)?;
    Ok(())
}

/// pipeline waits for every stage, not only the last: its first stage
/// waits for pipeline's input, which the check holds open for a second
/// after it saw that stage in /proc (the last stage, `true`, ends at
/// once); pipeline must not end meanwhile.
fn pipeline_waits_for_every_stage(ctx: &mut Ctx) -> Result<(), Fail> {
    const HOLD: Duration = Duration::from_secs(1);
    ctx.peer_on_path(probe::NAME)?;
    let first = ["eof-touch", "first-done"];
    let mut running =
        ctx.program("pipeline").args(["ipc-probe eof-touch first-done", "true"]).stdin_held(stages::HELD).spawn()?;
    let seen = stages::wait_for(ctx, &mut running, &[&first])?;
    let exited = running.wait_until(ctx.within(HOLD));
    let still_running = seen[0].running();
    running.close_stdin();
    let done = ctx.finish(&mut running)?;
    ctx.shown("ls first-done");
    ensure(exited.is_none() || !still_running, || {
        done.fail("pipeline exited while its first stage was still running")
            .note(format!(
                "pipeline ended after {:.2}s; its first stage was waiting for pipeline's input, which the check \
                 held open for {:.1}s after it saw that stage",
                done.elapsed.as_secs_f64(),
                HOLD.as_secs_f64()
            ))
            .note("call waitpid for every child you forked")
    })?;
    done.expect_code(0)?;
    Ok(())
}

/// No stage, or an empty stage, is a usage error.
fn pipeline_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    for args in [&[][..], &[""], &["cat", "  \t "]] {
        ctx.program("pipeline").args(args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    Ok(())
}
