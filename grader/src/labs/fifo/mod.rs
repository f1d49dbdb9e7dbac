//! Lab `fifo`: named pipes (`fifo-server`, `fifo-client`).
//!
//! Every FIFO a program is given lives in the check's own temporary folder,
//! which is removed after the check whatever a program leaves there. The
//! check itself only ever opens a FIFO without blocking (O_NONBLOCK, or the
//! gate's O_RDWR): an open that waits for a partner is left to the programs
//! and the trusted peers, which the check's deadline can kill.
//!
//! The checks of `fifo-server` are in `server.rs`, those of `fifo-client`
//! in `client.rs`, and those of both below; `harness.rs` starts servers and
//! clients, and reads what they print.

use std::time::Duration;

use nix::sys::signal::Signal;

use ipc_engine::check::{Check, Fail, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::text;

mod client;
mod harness;
mod server;

use client::*;
use harness::*;
use server::*;

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["fifo-server", "fifo-client"];

pub fn checks() -> Vec<Check> {
    vec![
        Check::new("server-creates-fifo", server_creates_fifo),
        Check::new("server-path-exists", server_path_exists),
        Check::new("server-one-client", server_one_client),
        Check::new("server-clients-in-turn", server_clients_in_turn),
        Check::new("server-idle-cpu", server_idle_cpu),
        Check::new("server-16-clients", server_16_clients),
        Check::new("server-last-line-newline", server_last_line_newline),
        Check::new("server-sigterm-counts", server_sigterm_counts),
        Check::new("server-sigterm-while-waiting", server_sigterm_while_waiting),
        Check::new("client-one-server", client_one_server),
        Check::new("client-stdin-lines", client_stdin_lines),
        Check::new("clients-16-at-once", clients_16_at_once),
        Check::new("client-waits-for-reader", client_waits_for_reader),
        Check::new("client-nonblock", client_nonblock),
        Check::new("client-missing-path", client_missing_path),
        Check::new("client-not-a-fifo", client_not_a_fifo),
        Check::new("client-line-too-long", client_line_too_long),
        Check::new("client-broken-pipe", client_broken_pipe),
        Check::new("pair", pair),
        Check::new("usage-errors", usage_errors),
    ]
}

/// The student's clients with the student's server: four clients at once
/// (100 lines each, on stdin), then one more with a LINE; every line printed
/// exactly once; SIGTERM: `received 401 lines`, PATH removed, exit 0.
fn pair(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.path("pair.fifo");
    // Each stage's failure carries its own clue: the rubric's diagnoses
    // then explain the symptom seen, not one cause for them all.
    let mut server = start_server(ctx, Who::Student, &path, &[]).map_err(|f| f.clue("pair-not-listening"))?;
    let mut rng = fastrand::Rng::with_seed(0x9a1);
    let mut sent: Vec<Vec<Vec<u8>>> = (0..4).map(|c| client_lines(c, 100, &mut rng)).collect();
    let mut clients = Vec::new();
    for lines in &sent {
        let cmd = ctx.program("fifo-client").arg(&path);
        clients.push(cmd.stdin_generated(as_input(lines), "(100 lines of 16 to 4095 bytes)").spawn()?);
    }
    let stuck = |f: Fail| f.clue("pair-clients-stuck");
    for client in &mut clients {
        finish_within(ctx, client, CROWD_WAIT, "a client waits in open(2) while the FIFO has no reader: did the server exit, or close it, when an earlier client closed?")
            .map_err(stuck)?
            .expect_code(0)
            .map_err(stuck)?;
    }
    let last = vec![b"the last client".to_vec()];
    ctx.program("fifo-client")
        .arg(&path)
        .args(as_args(&last))
        .timeout(CLIENT_WAIT)
        .run()
        .map_err(stuck)?
        .expect_code(0)
        .map_err(stuck)?;
    sent.push(last);
    let total: usize = sent.iter().map(Vec::len).sum();
    wait_printed(&server, total, ctx.within(ARRIVE_WAIT));
    let (got, rest) = printed(&server);
    expect_each_once(&got, &rest, &sent).map_err(|what| {
        Fail::new("your clients' lines did not all reach your server whole, exactly once")
            .expected(format!("{total} lines, each exactly once"))
            .got(what)
            .note(format!("server: {}", server.command))
            .clue("pair-lines")
    })?;
    let on_sigterm = |f: Fail| f.clue("pair-sigterm");
    let done = signal_and_finish(ctx, &mut server, Signal::SIGTERM).map_err(on_sigterm)?;
    done.expect_code(0).map_err(on_sigterm)?;
    let want = format!("received {total} lines");
    ensure(done.stdout_text().lines().last() == Some(want.as_str()), || {
        done.fail("after SIGTERM the last line of stdout is not the count")
            .expected(want.clone())
            .got(text::one_line(done.stdout_text().lines().last().unwrap_or("(nothing)"), 200))
            .clue("pair-sigterm")
    })?;
    ensure(!path.exists() && !is_fifo(&path), || {
        done.fail("PATH is still there after SIGTERM").got(describe(&path)).clue("pair-path-left")
    })
}

/// Missing, extra or unknown arguments are usage errors (one line, status
/// 2), and the server creates nothing then.
fn usage_errors(ctx: &mut Ctx) -> Result<(), Fail> {
    let (a, b) = (ctx.path("usage-a"), ctx.path("usage-b"));
    let cases: Vec<(&str, Vec<&std::ffi::OsStr>)> = vec![
        ("fifo-server", vec![]),
        ("fifo-server", vec![a.as_os_str(), b.as_os_str()]),
        ("fifo-server", vec!["--no-such-option".as_ref(), a.as_os_str()]),
        ("fifo-client", vec![]),
        ("fifo-client", vec!["--no-such-option".as_ref(), a.as_os_str(), "line".as_ref()]),
    ];
    for (program, args) in cases {
        let done = ctx.program(program).args(args).timeout(Duration::from_secs(2)).run()?;
        done.expect_usage_error()?;
        for path in [&a, &b] {
            ensure(std::fs::symlink_metadata(path).is_err(), || {
                done.fail("a usage error created a file").got(format!("{}: {}", path.display(), describe(path)))
            })?;
        }
    }
    Ok(())
}
