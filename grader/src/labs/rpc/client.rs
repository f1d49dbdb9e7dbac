//! Lab `rpc`: the checks of `rpc-client`, against the grader's server.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use ipc_engine::check::{Fail, ensure};
use ipc_engine::ctx::Ctx;

use super::grader_client::{self, Addr};
use super::harness::*;
use super::wire::Call;

/// `add 2 3` prints `5`; `add -7 4` prints `-3`; `add 4000000000 5000000000`
/// prints `9000000000` (the numbers are 64-bit).
pub(super) fn client_add(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    for call in [Call::Add(2, 3), Call::Add(-7, 4), Call::Add(4_000_000_000, 5_000_000_000)] {
        client_call(ctx, &server, &[], &call)?;
    }
    server.stop();
    Ok(())
}

/// `upper` of `hello, wörld` prints `HELLO, WöRLD` (ASCII letters only), and
/// of the empty string an empty line.
pub(super) fn client_upper(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    for s in ["hello, wörld", "", "Two  spaces, ß & 42"] {
        client_call(ctx, &server, &[], &Call::Upper(s.into()))?;
    }
    server.stop();
    Ok(())
}

/// `sum 1 2 3` prints `6`; `sum` with no numbers prints `0`; negative and
/// large numbers are summed exactly.
pub(super) fn client_sum(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    for xs in [vec![1, 2, 3], vec![], vec![-5, 10, -20, 9_000_000_000]] {
        client_call(ctx, &server, &[], &Call::Sum(xs))?;
    }
    server.stop();
    Ok(())
}

/// `div 7 -2` prints `-3 1`, `div -7 2` prints `-3 -1`: a negative number
/// is an argument, not an option.
pub(super) fn client_div(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    for (a, b) in [(7, -2), (-7, 2), (-7, -2), (9_000_000_000, 7)] {
        client_call(ctx, &server, &[], &Call::Div(a, b))?;
    }
    server.stop();
    Ok(())
}

/// `sleep 300` sends the `u32` 300, waits for the reply (the grader's server
/// sleeps 0.3 s) and prints `ok`.
pub(super) fn client_sleep(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    let done = client_call(ctx, &server, &[], &Call::Sleep(300))?;
    ensure(done.elapsed >= Duration::from_millis(290), || {
        done.fail(format!(
            "the client ended after {:.2}s, before the reply of a 0.3 s sleep could come",
            done.elapsed.as_secs_f64()
        ))
    })?;
    client_call(ctx, &server, &[], &Call::Sleep(0))?;
    server.stop();
    Ok(())
}

/// `stat FILE` prints the size and the mode in octal (`1234 100644`);
/// `stat DIR` likewise (`40700`).
pub(super) fn client_stat(ctx: &mut Ctx) -> Result<(), Fail> {
    let file = ctx.write_file("a file.txt", &[b'x'; 1234])?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).map_err(Fail::infra)?;
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    for path in [file, ctx.dir().to_owned()] {
        client_call(ctx, &server, &[], &Call::Stat(path.display().to_string().into_bytes()))?;
    }
    server.stop();
    Ok(())
}

/// With `--unix PATH` the client reaches the grader's server on its socket
/// file: `add`, `upper`, `div`, `sum`, `sleep` and `stat` work as over TCP.
pub(super) fn client_unix(ctx: &mut Ctx) -> Result<(), Fail> {
    let file = ctx.write_file("stat me", &[b'u'; 321])?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(Fail::infra)?;
    let server = peer_server(ctx, Transport::Unix, &[])?;
    let calls = [
        Call::Add(40, 2),
        Call::Upper("over a socket file".into()),
        Call::Div(-9, 4),
        Call::Sum(vec![5, -6]),
        Call::Sleep(20),
        Call::Stat(file.display().to_string().into_bytes()),
    ];
    for call in calls {
        client_call(ctx, &server, &[], &call)?;
    }
    server.stop();
    Ok(())
}

/// The bytes of every request are the contract's, field by field (ID is the
/// client's choice): big-endian, LEN counting the bytes after it, a `str`
/// and a `list` with their `u32` counts.
pub(super) fn client_request_bytes(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = ctx.write_file("stat-me", b"12345")?.display().to_string();
    let calls = [
        Call::Add(1, -2),
        Call::Upper("x".repeat(300).into_bytes()),
        Call::Sum(vec![1, -1, 256]),
        Call::Div(-9, 4),
        Call::Sleep(258),
        Call::Stat(path.into_bytes()),
    ];
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    for call in &calls {
        let seen = server.log().lines().count();
        let done = rpc_client(ctx, &server, &[], &call.words()).run()?;
        // The request as the grader's server received it: whole, or what came
        // of a request it could not frame.
        let framed = |l: &str| l.starts_with("request ") || l.starts_with("broken ");
        let log = server.log_when(|log| log.lines().skip(seen).any(framed));
        let new: Vec<&str> = log.lines().skip(seen).collect();
        let got = new.iter().find_map(|l| {
            let mut w = l.splitn(3, ' ');
            match (w.next(), w.next(), w.next()) {
                (Some("request"), _, Some(hex)) => Some(parse_hex(hex)),
                (Some("broken"), _, Some(rest)) => rest.rsplit_once(": ").map(|(_, hex)| parse_hex(hex)),
                _ => None,
            }
        });
        let Some(got) = got else {
            return Err(done
                .fail(format!("the grader's server received no request for `{}`", call.describe()))
                .note(server.saw()));
        };
        // The ID is the client's choice: take it from what came.
        let id = got.get(4..8).map_or(0, |b| u32::from_be_bytes(b.try_into().expect("4 bytes")));
        let expected = call.request(id);
        if got != expected.bytes {
            return Err(grader_client::diff(&expected, &got, &format!("the request for `{}`", call.describe()))
                .command(&done.command));
        }
    }
    server.stop();
    Ok(())
}

/// A reply with STATUS 1, 2 or 3 makes the client print
/// `rpc-client: PROC: MESSAGE` (the server's message, whatever it says) and
/// exit 3: overflow, division by zero, a missing file, a sleep over 10000,
/// and a server that answers every call with its own message.
pub(super) fn client_error_status(ctx: &mut Ctx) -> Result<(), Fail> {
    let missing = ctx.path("no such file").display().to_string();
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    let cases: [(Call, &str); 5] = [
        (Call::Add(i64::MAX, 1), "add: overflow"),
        (Call::Div(1, 0), "div: division by zero"),
        (Call::Div(i64::MIN, -1), "div: overflow"),
        (Call::Stat(missing.into_bytes()), "stat: No such file or directory"),
        (Call::Sleep(20000), "sleep: bad arguments"),
    ];
    for (call, message) in cases {
        let done = rpc_client(ctx, &server, &[], &call.words()).run()?;
        expect_client_error(&done, 3, &format!("rpc-client: {message}"), &server)?;
    }
    server.stop();
    for (status, message, call) in
        [("1", "unknown procedure", Call::Upper("abc".into())), ("3", "the server says no", Call::Add(1, 2))]
    {
        let server = peer_server(ctx, Transport::Tcp, &["--fail", status, message])?;
        let done = rpc_client(ctx, &server, &[], &call.words()).run()?;
        expect_client_error(&done, 3, &format!("rpc-client: {}: {message}", call.name()), &server).map_err(|f| {
            f.note(format!("the grader's server answered STATUS {status} with the message `{message}`"))
        })?;
        server.stop();
    }
    Ok(())
}

/// `--repeat 1000 add 2 3` makes 1000 calls on one connection and prints
/// `5` once.
pub(super) fn client_repeat(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    let call = Call::Add(2, 3);
    let done = rpc_client(ctx, &server, &["--repeat", "1000"], &call.words()).run()?;
    done.expect_code(0)?.expect_stdout(b"5\n").map_err(|f| f.note("print only the last call's results"))?;
    // The grader's server logs each connection and each request as it
    // comes; the client has exited, so they are all there.
    let log = server.log_when(|log| log.lines().filter(|l| l.starts_with("request ")).count() >= 1000);
    let connections = log.lines().filter(|l| l.starts_with("connection ")).count();
    let requests = log.lines().filter(|l| l.starts_with("request ")).count();
    ensure(connections == 1 && requests == 1000, || {
        done.fail("the calls did not all go over one connection")
            .expected("1 connection carrying 1000 requests")
            .got(format!("{connections} connection(s) carrying {requests} requests"))
    })?;
    server.stop();
    Ok(())
}

/// The grader's server sends each reply in pieces (cut inside LEN, inside
/// ID and inside the results) with pauses: the client reads until it has
/// the whole reply.
pub(super) fn client_split_reply(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &["--split"])?;
    for call in [Call::Div(7, -2), Call::Upper("split me".into()), Call::Sum(vec![])] {
        client_call(ctx, &server, &[], &call).map_err(|f| {
            f.note("a stream has no message boundaries: read LEN's 4 bytes, then LEN bytes, each in a loop")
        })?;
    }
    server.stop();
    Ok(())
}

/// A reply that takes 1.5 s arrives within the default time-out (5 s);
/// with `--timeout 500` and a server that never replies, the client prints
/// `rpc-client: add: timed out` and exits 4 after 0.4 to 3 s.
pub(super) fn client_timeout(ctx: &mut Ctx) -> Result<(), Fail> {
    let slow = peer_server(ctx, Transport::Tcp, &["--delay", "1500"])?;
    client_call(ctx, &slow, &[], &Call::Add(1, 2))
        .map_err(|f| f.note("the reply came after 1.5 s: the default time-out is 5000 ms"))?;
    slow.stop();
    let silent = peer_server(ctx, Transport::Tcp, &["--silent"])?;
    let done = rpc_client(ctx, &silent, &["--timeout", "500"], &Call::Add(1, 2).words())
        .timeout(Duration::from_secs(4))
        .run()?;
    expect_client_error(&done, 4, "rpc-client: add: timed out", &silent)?;
    let took = done.elapsed.as_secs_f64();
    ensure((0.4..=3.0).contains(&took), || {
        let fail = done
            .fail(format!("the client gave up after {took:.2}s"))
            .expected("about 0.5 s (0.4 to 3 s) with --timeout 500");
        if took > 3.0 { fail.timing(ipc_engine::check::Timing::Latency) } else { fail }
    })?;
    silent.stop();
    Ok(())
}

/// A server that closes the connection instead of replying: the client
/// prints `rpc-client: add: connection closed` and exits 1, at once (within 3 s).
pub(super) fn client_connection_closed(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &["--close"])?;
    let done = rpc_client(ctx, &server, &[], &Call::Add(1, 2).words()).timeout(Duration::from_secs(4)).run()?;
    expect_client_error(&done, 1, "rpc-client: add: connection closed", &server)
        .map_err(|f| f.note("read returns 0 (end of file) when the server closes"))?;
    ensure(done.elapsed < Duration::from_secs(3), || {
        done.fail(format!("the client took {:.1}s to notice the closed connection", done.elapsed.as_secs_f64()))
            .timing(ipc_engine::check::Timing::Latency)
    })?;
    server.stop();
    Ok(())
}

/// A reply with another ID, and a reply whose results are a byte short
/// (LEN to match): `rpc-client: PROC: bad reply`, exit 1, within 3 s.
pub(super) fn client_bad_reply(ctx: &mut Ctx) -> Result<(), Fail> {
    for (mode, call) in [("--wrong-id", Call::Add(1, 2)), ("--short-result", Call::Div(7, 2))] {
        let server = peer_server(ctx, Transport::Tcp, &[mode])?;
        let done = rpc_client(ctx, &server, &[], &call.words()).timeout(Duration::from_secs(4)).run()?;
        expect_client_error(&done, 1, &format!("rpc-client: {}: bad reply", call.name()), &server).map_err(|f| {
            f.note(match mode {
                "--wrong-id" => "the grader's server replied with the request's ID plus one",
                _ => "the grader's server sent STATUS 0 and 15 bytes of results, LEN saying so: div's results are 16 bytes",
            })
        })?;
        ensure(done.elapsed < Duration::from_secs(3), || {
            done.fail(format!("the client took {:.1}s to reject the reply", done.elapsed.as_secs_f64()))
                .timing(ipc_engine::check::Timing::Latency)
                .note("read exactly LEN bytes, then check that the fields fill them")
        })?;
        server.stop();
    }
    Ok(())
}

/// Nobody listening: `rpc-client: 127.0.0.1:PORT: Connection refused`;
/// `--unix` to a missing file: `rpc-client: PATH: No such file or
/// directory`; to a socket file nobody listens on: `Connection refused`.
/// Exit 1 each time.
pub(super) fn client_refused(ctx: &mut Ctx) -> Result<(), Fail> {
    // A port that was just free: bind it, note it, close it.
    let port = ipc_engine::net::refused_tcp_port().map_err(Fail::infra)?;
    let done = ctx.program("rpc-client").args(["127.0.0.1", &port.to_string(), "add", "1", "2"]).run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("rpc-client: 127.0.0.1:{port}: Connection refused"))?;
    let missing = socket_path(ctx, "nobody.sock")?;
    let done = ctx.program("rpc-client").arg("--unix").arg(&missing).args(["add", "1", "2"]).run()?;
    done.expect_code(1)?
        .expect_stderr_line(&format!("rpc-client: {}: No such file or directory", missing.display()))?;
    let stale = socket_path(ctx, "stale.sock")?;
    ipc_engine::net::stale_unix_socket(&stale).map_err(Fail::infra)?;
    let done = ctx.program("rpc-client").arg("--unix").arg(&stale).args(["add", "1", "2"]).run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("rpc-client: {}: Connection refused", stale.display()))?;
    Ok(())
}

/// HOST is resolved with getaddrinfo: `localhost` reaches the grader's
/// server on 127.0.0.1, and `::1` the one on IPv6.
pub(super) fn client_resolves_hosts(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    let Addr::Tcp(addr) = server.addr else { unreachable!("a TCP server") };
    let done = ctx.program("rpc-client").args(["localhost", &addr.port().to_string(), "add", "1", "2"]).run()?;
    done.expect_code(0)?.expect_stdout(b"3\n").map_err(|f| f.note(server.saw()))?;
    server.stop();
    let server = peer_server(ctx, Transport::Ipv6, &[])?;
    client_call(ctx, &server, &[], &Call::Add(3, 4))?;
    server.stop();
    Ok(())
}

/// Unknown PROC, the wrong number of ARGs, a number that does not parse,
/// `--repeat 0`, no address: a usage error (one line on stderr, status 2,
/// nothing on stdout). `div 7 -2` is no usage error.
pub(super) fn client_usage_errors(ctx: &mut Ctx) -> Result<(), Fail> {
    let server = peer_server(ctx, Transport::Tcp, &[])?;
    let Addr::Tcp(addr) = server.addr else { unreachable!("a TCP server") };
    let port = addr.port().to_string();
    let p = port.as_str();
    let cases: &[&[&str]] = &[
        &[],
        &["127.0.0.1"],
        &["127.0.0.1", p],
        &["127.0.0.1", p, "mul", "2", "3"],
        &["127.0.0.1", p, "add", "1"],
        &["127.0.0.1", p, "add", "1", "2", "3"],
        &["127.0.0.1", p, "add", "1", "two"],
        &["127.0.0.1", p, "sleep", "-5"],
        &["127.0.0.1", p, "upper"],
        &["127.0.0.1", "port", "add", "1", "2"],
        &["--repeat", "0", "127.0.0.1", p, "add", "1", "2"],
        &["--unix"],
    ];
    for args in cases {
        ctx.program("rpc-client").args(*args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    client_call(ctx, &server, &[], &Call::Div(7, -2))
        .map_err(|f| f.note("a negative number is an ARG: `div 7 -2` is a call, not a usage error"))?;
    server.stop();
    Ok(())
}
