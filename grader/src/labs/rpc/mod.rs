//! Lab `rpc`: remote procedure calls over TCP and Unix domain stream
//! sockets (`rpc-server`, `rpc-client`).
//!
//! Each program is checked against the grader's own partner, so that a bug
//! shows up in the program that has it: the student's `rpc-client` against
//! the grader's server (`ipc_peers::rpc::server`, a separate process that
//! checks every field of every request and can misbehave on purpose), the
//! student's `rpc-server` against the grader's client (`grader_client.rs`,
//! in the check's process, which checks every byte of every reply). Both
//! use the grader's own implementation of the wire format (`wire.rs`).
//! Servers listen on port 0 of the loopback, or on a socket file in the
//! check's folder.
//!
//! The checks of `rpc-client` are in `client.rs`, those of `rpc-server` in
//! `server.rs`, and `pair` below; `harness.rs` starts the servers and runs
//! the programs against them.

use ipc_engine::check::{Check, Fail};
use ipc_engine::ctx::Ctx;

mod client;
mod grader_client;
mod harness;
mod server;
pub use ipc_peers::rpc::wire;

use client::*;
use harness::{Transport, rpc_client, student_server};
use server::*;

/// The contract's programs of this lab.
pub const PROGRAMS: &[&str] = &["rpc-server", "rpc-client"];

pub fn checks() -> Vec<Check> {
    vec![
        Check::new("client-add", client_add),
        Check::new("client-upper", client_upper),
        Check::new("client-sum", client_sum),
        Check::new("client-div", client_div),
        Check::new("client-sleep", client_sleep),
        Check::new("client-stat", client_stat),
        Check::new("client-unix", client_unix),
        Check::new("client-request-bytes", client_request_bytes),
        Check::new("client-error-status", client_error_status),
        Check::new("client-repeat", client_repeat),
        Check::new("client-split-reply", client_split_reply),
        Check::new("client-timeout", client_timeout),
        Check::new("client-connection-closed", client_connection_closed),
        Check::new("client-bad-reply", client_bad_reply),
        Check::new("client-refused", client_refused),
        Check::new("client-resolves-hosts", client_resolves_hosts),
        Check::new("client-usage-errors", client_usage_errors),
        Check::new("server-listening", server_listening),
        Check::new("server-ipv6", server_ipv6),
        Check::new("server-add", server_add),
        Check::new("server-upper", server_upper),
        Check::new("server-sum", server_sum),
        Check::new("server-div", server_div),
        Check::new("server-sleep", server_sleep),
        Check::new("server-stat", server_stat),
        Check::new("server-failures", server_failures),
        Check::new("server-unknown-procedure", server_unknown_procedure),
        Check::new("server-bad-arguments", server_bad_arguments),
        Check::new("server-reply-bytes", server_reply_bytes),
        Check::new("server-unix", server_unix),
        Check::new("server-repeat", server_repeat),
        Check::new("server-split-request", server_split_request),
        Check::new("server-concurrent", server_concurrent),
        Check::new("server-oversized-len", server_oversized_len),
        Check::new("server-survives-reset", server_survives_reset),
        Check::new("server-survives-sigpipe", server_survives_sigpipe),
        Check::new("server-exits-on-signal", server_exits_on_signal),
        Check::new("server-unix-stale", server_unix_stale),
        Check::new("server-unix-in-use", server_unix_in_use),
        Check::new("server-unix-not-socket", server_unix_not_socket),
        Check::new("server-unix-cleanup", server_unix_cleanup),
        Check::new("server-usage-errors", server_usage_errors),
        Check::new("pair", pair),
    ]
}

/// Your `rpc-client` with your `rpc-server`, over TCP and over a Unix
/// socket: a few calls, `--repeat 50`, and a STATUS 3 error.
fn pair(ctx: &mut Ctx) -> Result<(), Fail> {
    let missing = ctx.path("missing").display().to_string();
    for transport in [Transport::Unix, Transport::Tcp] {
        let mut server = student_server(ctx, transport)?;
        let run = |ctx: &mut Ctx, options: &[&str], words: &[&str]| {
            let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            rpc_client(ctx, &server, options, &words).run()
        };
        let ok: [(&[&str], &[&str], &str); 5] = [
            (&[], &["add", "2", "3"], "5\n"),
            (&[], &["div", "-7", "2"], "-3 -1\n"),
            (&[], &["upper", "pair ü"], "PAIR ü\n"),
            (&[], &["sum"], "0\n"),
            (&["--repeat", "50"], &["sum", "1", "2", "3"], "6\n"),
        ];
        let result = (|| {
            for (options, words, out) in ok {
                run(ctx, options, words)?.expect_code(0)?.expect_stdout(out.as_bytes())?;
            }
            let done = run(ctx, &[], &["stat", &missing])?;
            done.expect_code(3)?.expect_stderr_line("rpc-client: stat: No such file or directory")?;
            Ok::<(), Fail>(())
        })();
        if let Err(f) = result {
            let note = server.state();
            server.stop();
            return Err(f
                .note(note)
                .note(format!("over {}", if transport == Transport::Unix { "a Unix socket" } else { "TCP" })));
        }
        server.stop();
    }
    Ok(())
}
