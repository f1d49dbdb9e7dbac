//! Lab `pipe`: pipes between parent and child (`pipe-message`, `pipeline`).

use std::time::Duration;

use ipc_engine::check::{Check, Fail, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::peer::Peer;

mod probe;

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
        Check::new("pipeline-stderr-inherited", pipeline_stderr_inherited),
        Check::new("pipeline-command-not-found", pipeline_command_not_found),
        Check::new("pipeline-exit-status-last", pipeline_exit_status_last),
        Check::new("pipeline-exit-status-signal", pipeline_exit_status_signal),
        Check::new("pipeline-waits-for-every-stage", pipeline_waits_for_every_stage),
        Check::new("pipeline-usage", pipeline_usage),
    ]
}

pub fn peers() -> Vec<Peer> {
    vec![Peer::probe(probe::NAME, probe::main)]
}

/// What `pipe-message` prints for TEXT and CODE.
fn message_output(text: &str, code: i32) -> Vec<u8> {
    format!("parent received: {text}\nchild exited with status {code}\n").into_bytes()
}

/// `pipe-message` with no argument sends the default text and reports status 0.
fn message_default(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("pipe-message").run()?;
    done.expect_code(0)?.expect_stdout(&message_output("message for parent", 0))?;
    Ok(())
}

/// `pipe-message TEXT` sends TEXT, spaces and punctuation included.
fn message_custom_text(ctx: &mut Ctx) -> Result<(), Fail> {
    let text = "hello, pipe: two  spaces & ünïcödé";
    let done = ctx.program("pipe-message").arg(text).run()?;
    done.expect_code(0)?.expect_stdout(&message_output(text, 0))?;
    Ok(())
}

/// A 100 KiB TEXT, more than a pipe holds, arrives whole (one read is not enough).
fn message_large_text(ctx: &mut Ctx) -> Result<(), Fail> {
    let mut rng = fastrand::Rng::with_seed(0x5049_5045);
    let text: String = (0..100 * 1024).map(|_| rng.alphanumeric()).collect();
    let done = ctx.program("pipe-message").arg(&text).run()?;
    done.expect_code(0)?.expect_stdout(&message_output(&text, 0))?;
    Ok(())
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
        .stdin_generated(data.clone(), "head -c 20971520 /dev/urandom")
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

/// Every stage starts with only descriptors 0, 1 and 2 open.
fn pipeline_only_std_fds(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.peer_on_path(probe::NAME)?;
    let stages = ["ipc-probe fds first", "ipc-probe fds middle", "ipc-probe fds last"];
    ctx.program("pipeline").args(stages).run()?.expect_code(0)?;
    for stage in ["first", "middle", "last"] {
        let seen = std::fs::read_to_string(ctx.path(stage)).unwrap_or_else(|_| "(the stage did not run)".into());
        ensure(seen.trim() == "0 1 2", || {
            Fail::new(format!("the {stage} stage started with other descriptors open"))
                .expected("0 1 2")
                .got(seen.trim().to_string())
                .note("close both ends of every pipe in every process after dup2, or create the pipes with O_CLOEXEC")
        })?;
    }
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

/// pipeline waits for every stage, not only the last: a first stage that
/// ends 800 ms after the last one has finished when pipeline exits.
fn pipeline_waits_for_every_stage(ctx: &mut Ctx) -> Result<(), Fail> {
    ctx.peer_on_path(probe::NAME)?;
    let mut running = ctx.program("pipeline").args(["ipc-probe sleep-touch 800 first-done", "true"]).spawn()?;
    let exited = running.wait_until(ctx.deadline());
    // Look at once: the stage, if still running, creates the file only later.
    let first_done = ctx.path("first-done").exists();
    let done = ctx.finish(&mut running)?;
    done.expect_code(0)?;
    ensure(exited.is_some() && first_done, || {
        done.fail("pipeline exited while its first stage was still running")
            .note(format!("pipeline took {:.2}s; the first stage needs 0.8s", done.elapsed.as_secs_f64()))
            .note("call waitpid for every child you forked")
    })?;
    Ok(())
}

/// No stage, or an empty stage, is a usage error.
fn pipeline_usage(ctx: &mut Ctx) -> Result<(), Fail> {
    for args in [&[][..], &[""], &["cat", "  \t "]] {
        ctx.program("pipeline").args(args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    Ok(())
}
