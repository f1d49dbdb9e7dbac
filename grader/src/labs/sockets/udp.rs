//! Lab `sockets`, UDP: the checks of `udp-server` and `udp-client`.

use super::*;

// ---------------------------------------------------------------------------
// udp-server.

/// `udp-server 0` prints `listening on 127.0.0.1:PORT` with the real port, and answers there.
pub(super) fn udp_server_listening(ctx: &mut Ctx) -> Result<(), Fail> {
    let deadline = ctx.deadline();
    let (server, addr) = start_server(ctx.program("udp-server").arg("0"), deadline)?;
    ensure(addr.ip().to_string() == "127.0.0.1", || {
        Fail::new("the server should listen on 127.0.0.1 by default").got(addr.to_string())
    })?;
    let socket = udp_socket(addr)?;
    ask(&socket, addr, "ping", "ack 1: ping")?;
    stop(server);
    Ok(())
}

/// `udp-server --host ::1 0` listens on IPv6 and prints `[::1]:PORT`.
pub(super) fn udp_server_ipv6(ctx: &mut Ctx) -> Result<(), Fail> {
    let deadline = ctx.deadline();
    let (server, addr) = start_server(ctx.program("udp-server").args(["--host", "::1", "0"]), deadline)?;
    ensure(addr.ip().to_string() == "::1", || {
        Fail::new("with --host ::1 the server should listen on [::1]")
            .expected("listening on [::1]:PORT")
            .got(addr.to_string())
    })?;
    let socket = udp_socket(addr)?;
    ask(&socket, addr, "over IPv6", "ack 1: over IPv6")?;
    stop(server);
    Ok(())
}

/// Replies are `ack N: MESSAGE` numbered from 1, an empty datagram included;
/// each is logged as `from ADDR: MESSAGE`.
pub(super) fn udp_server_replies(ctx: &mut Ctx) -> Result<(), Fail> {
    let deadline = ctx.deadline();
    let (server, addr) = start_server(ctx.program("udp-server").arg("0"), deadline)?;
    let socket = udp_socket(addr)?;
    let me = socket.local_addr().map_err(io_infra)?;
    let messages = ["hello", "", "two  words"];
    for (i, m) in messages.iter().enumerate() {
        ask(&socket, addr, m, &format!("ack {}: {m}", i + 1))?;
    }
    let lines: Vec<String> = messages.iter().map(|m| format!("from {me}: {m}")).collect();
    wait_lines(&server, ctx.within(Duration::from_secs(2)), &lines)?;
    stop(server);
    Ok(())
}

/// A datagram of 8000 bytes comes back whole in one reply, and two datagrams
/// sent back to back get two separate replies.
pub(super) fn udp_server_boundaries(ctx: &mut Ctx) -> Result<(), Fail> {
    let deadline = ctx.deadline();
    let (server, addr) = start_server(ctx.program("udp-server").arg("0"), deadline)?;
    let socket = udp_socket(addr)?;
    let long: String = (0..8000).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    ask(&socket, addr, &long, &format!("ack 1: {long}"))
        .map_err(|f| f.note("receive into a buffer big enough for any datagram (65536 bytes): recvfrom cuts a datagram to the buffer's size"))?;
    socket.send_to(b"first", addr).map_err(io_infra)?;
    socket.send_to(b"second", addr).map_err(io_infra)?;
    expect_reply(&socket, addr, "first", "ack 2: first")?;
    expect_reply(&socket, addr, "second", "ack 3: second")?;
    stop(server);
    Ok(())
}

/// On SIGTERM (and on SIGINT) the server prints `received N datagrams` and exits 0.
pub(super) fn udp_server_count_on_signal(ctx: &mut Ctx) -> Result<(), Fail> {
    for (sig, n) in [(Signal::SIGTERM, 3), (Signal::SIGINT, 1)] {
        let deadline = ctx.deadline();
        let (mut server, addr) = start_server(ctx.program("udp-server").arg("0"), deadline)?;
        let socket = udp_socket(addr)?;
        for i in 1..=n {
            ask(&socket, addr, &format!("d{i}"), &format!("ack {i}: d{i}"))?;
        }
        server.signal(sig).map_err(Fail::infra)?;
        let done = ctx.finish(&mut server)?;
        done.expect_code(0).map_err(|f| f.note(format!("after {}", sig.as_str())))?;
        let out = done.stdout_text();
        let want = format!("received {n} datagrams");
        ensure(out.lines().last() == Some(want.as_str()), || {
            done.fail(format!("after {} the last line of stdout is not the count", sig.as_str()))
                .expected(want.clone())
                .got(ipc_engine::text::excerpt(&done.stdout, done.stdout_total, 4, 400))
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// udp-client.

pub(super) fn start_udp_peer(ctx: &mut Ctx, options: &[&str]) -> Result<(Proc, SocketAddr), Fail> {
    let deadline = ctx.deadline();
    let cmd = ctx.peer(peers::UDP_SERVER)?.args(options).arg("0");
    start_server(cmd, deadline)
}

/// The grader's server with `options`, numbering its replies from a number
/// drawn for this run (as a server that answered others before would): a
/// client cannot print a reply it did not receive. Returns the number.
pub(super) fn start_numbered_peer(ctx: &mut Ctx, options: &[&str]) -> Result<(Proc, SocketAddr, u64), Fail> {
    let first = fastrand::u64(1000..1_000_000);
    let first_text = first.to_string();
    let mut all = options.to_vec();
    all.extend(["--first", first_text.as_str()]);
    let (server, addr) = start_udp_peer(ctx, &all)?;
    Ok((server, addr, first))
}

/// `ack N: MESSAGE` for each message, numbered from `first`.
pub(super) fn acks(first: u64, messages: &[&str]) -> Vec<String> {
    messages.iter().zip(first..).map(|(m, n)| format!("ack {n}: {m}")).collect()
}

pub(super) fn says(replies: &[String]) -> Vec<u8> {
    replies.iter().map(|r| format!("Server says: {r}\n")).collect::<String>().into_bytes()
}

/// Each line (an empty one too, and a last line without newline) is sent to
/// the grader's server and its reply printed as `Server says: REPLY`.
pub(super) fn udp_client_replies(ctx: &mut Ctx) -> Result<(), Fail> {
    let (server, addr, first) = start_numbered_peer(ctx, &[])?;
    let done = ctx
        .program("udp-client")
        .args(["127.0.0.1", &addr.port().to_string()])
        .stdin_bytes(b"hello\n\nlast line".to_vec())
        .run()?;
    done.expect_code(0)?.expect_stdout(&says(&acks(first, &["hello", "", "last line"])))?;
    stop(server);
    Ok(())
}

/// Against a server that drops the first copy of every datagram, `--timeout
/// 300` makes the client send each line again and get every reply.
pub(super) fn udp_client_retransmits(ctx: &mut Ctx) -> Result<(), Fail> {
    let (server, addr, first) = start_numbered_peer(ctx, &["--drop-first"])?;
    let done = ctx
        .program("udp-client")
        .args(["--timeout", "300", "127.0.0.1", &addr.port().to_string()])
        .stdin_bytes(b"one\ntwo\nthree\n".to_vec())
        .run()?;
    done.expect_code(0)?.expect_stdout(&says(&acks(first, &["one", "two", "three"])))?;
    stop(server);
    Ok(())
}

/// With nobody answering, `--timeout 200 --retries 2` sends the line exactly
/// 3 times, then prints `udp-client: no reply from HOST:PORT` and exits 1,
/// between 0.5 s and 3 s after it started (about 600 ms).
pub(super) fn udp_client_gives_up(ctx: &mut Ctx) -> Result<(), Fail> {
    let silent = udp_socket("127.0.0.1:0".parse().expect("valid"))?;
    let port = silent.local_addr().map_err(io_infra)?.port();
    let done = ctx
        .program("udp-client")
        .args(["--timeout", "200", "--retries", "2", "127.0.0.1", &port.to_string()])
        .stdin_bytes(b"anyone there?\n".to_vec())
        .timeout(Duration::from_secs(4))
        .run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("udp-client: no reply from 127.0.0.1:{port}"))?;
    let secs = done.elapsed.as_secs_f64();
    ensure((0.5..3.0).contains(&secs), || {
        let fail = done
            .fail(format!("the client gave up after {secs:.2}s"))
            .expected("about 0.6s: 3 tries of 200 ms (accepted: 0.5s to 3s)");
        if secs >= 3.0 { fail.timing(ipc_engine::check::Timing::Latency) } else { fail }
    })?;
    silent.set_read_timeout(Some(Duration::from_millis(100))).map_err(io_infra)?;
    let mut copies = 0;
    let mut buf = [0u8; 100];
    while copies < 10 {
        match silent.recv_from(&mut buf) {
            Ok((n, _)) if &buf[..n] == b"anyone there?" => copies += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    ensure(copies == 3, || {
        done.fail(format!("the datagram was sent {copies} times"))
            .expected("3 times: once, then --retries 2 more times")
    })?;
    Ok(())
}

/// A datagram from a third party (same IP, other port) arriving before the
/// real reply is ignored.
pub(super) fn udp_client_ignores_others(ctx: &mut Ctx) -> Result<(), Fail> {
    let (server, addr, first) = start_numbered_peer(ctx, &["--forge"])?;
    let done = ctx
        .program("udp-client")
        .args(["127.0.0.1", &addr.port().to_string()])
        .stdin_bytes(b"first\nsecond\n".to_vec())
        .run()?;
    done.expect_code(0)?
        .expect_stdout(&says(&acks(first, &["first", "second"])))
        .map_err(|f| f.note("`ack 0: forged` came from another port: connect(2) the socket to the server, or compare the sender's address and port"))?;
    stop(server);
    Ok(())
}

/// The student's `udp-client` with the student's `udp-server`.
pub(super) fn udp_pair(ctx: &mut Ctx) -> Result<(), Fail> {
    let deadline = ctx.deadline();
    let (server, addr) = start_server(ctx.program("udp-server").arg("0"), deadline)?;
    let done = ctx
        .program("udp-client")
        .args(["127.0.0.1", &addr.port().to_string()])
        .stdin_bytes(b"alpha\n\nomega\n".to_vec())
        .run()?;
    done.expect_code(0)?.expect_stdout(&says(&["ack 1: alpha".into(), "ack 2: ".into(), "ack 3: omega".into()]))?;
    stop(server);
    Ok(())
}
