//! Lab `rpc`: the checks of `rpc-server`, against the grader's client.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use ipc_engine::check::{Fail, ensure};
use ipc_engine::ctx::Ctx;
use ipc_engine::proc::Exit;

use super::grader_client::{Addr, Client, IO_WAIT, SHORT_READ};
use super::harness::*;
use super::wire::{self, Call, Msg, Outcome};

/// `rpc-server 0` prints `listening on 127.0.0.1:PORT` with the port the
/// system chose, answers `add 2 3` there, and prints nothing else.
pub(super) fn server_listening(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        let Addr::Tcp(addr) = server.addr else { unreachable!("a TCP server") };
        ensure(addr.ip().to_string() == "127.0.0.1", || {
            Fail::new("the server should listen on 127.0.0.1 by default").got(addr.to_string())
        })?;
        calls(server, &[Call::Add(2, 3)])?;
        std::thread::sleep(Duration::from_millis(200));
        let out = server.proc.stdout.bytes();
        let want = format!("listening on {addr}\n");
        ensure(out == want.as_bytes(), || {
            Fail::new("the server prints more than its `listening on` line")
                .expected(want.clone())
                .got(ipc_engine::text::excerpt(&out, server.proc.stdout.total(), 6, 400))
        })
    })
}

/// `rpc-server --host ::1 0` listens on IPv6, prints `[::1]:PORT`, and answers there.
pub(super) fn server_ipv6(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Ipv6, |_, server| {
        let Addr::Tcp(addr) = server.addr else { unreachable!("a TCP server") };
        ensure(addr.ip().to_string() == "::1", || {
            Fail::new("with --host ::1 the server should listen on [::1]")
                .expected("listening on [::1]:PORT")
                .got(addr.to_string())
        })?;
        calls(server, &[Call::Add(2, 3), Call::Upper("ipv6".into())])
    })
}

/// `add` of (2, 3), (-7, 4), (4e9, 5e9) and (MIN, MAX): the exact reply.
pub(super) fn server_add(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        calls(
            server,
            &[
                Call::Add(2, 3),
                Call::Add(-7, 4),
                Call::Add(4_000_000_000, 5_000_000_000),
                Call::Add(i64::MIN, i64::MAX),
            ],
        )
    })
}

/// `upper` makes ASCII `a`-`z` uppercase and leaves every other byte
/// (`ö`, `ß`) alone; the empty string; 100 000 bytes.
pub(super) fn server_upper(ctx: &mut Ctx) -> Result<(), Fail> {
    let long: Vec<u8> = (0..100_000).map(|i| b" abcdefghijklmnopqrstuvwxyzAZ09"[i % 31]).collect();
    with_server(ctx, Transport::Tcp, |_, server| {
        calls(
            server,
            &[
                Call::Upper("hello, wörld".into()),
                Call::Upper(Vec::new()),
                Call::Upper("ß ﬁ ǆ".into()),
                Call::Upper(long),
            ],
        )
    })
}

/// `sum` of `[1, 2, 3]` is 6, of no numbers 0, of `[MAX, 1, -2]` MAX - 1
/// (the exact total fits, though a running sum overflows on the way).
pub(super) fn server_sum(ctx: &mut Ctx) -> Result<(), Fail> {
    let many: Vec<i64> = (1..=1000).collect();
    with_server(ctx, Transport::Tcp, |_, server| {
        calls(
            server,
            &[
                Call::Sum(vec![1, 2, 3]),
                Call::Sum(vec![]),
                Call::Sum(vec![i64::MAX, 1, -2]),
                Call::Sum(vec![i64::MIN, -1, 1]),
                Call::Sum(many),
            ],
        )
        .map_err(|f| {
            // `overflow` for [MAX, 1, -2], whose total fits: a running sum checked at each step.
            let on_the_way = f.what.contains(&Call::Sum(vec![i64::MAX, 1, -2]).describe())
                && f.notes.iter().any(|n| n.contains("the message `overflow`"));
            let f = f.note("the total must be exact: add in a wider type (i128), then check that it fits an i64");
            if on_the_way { f.clue("overflow-on-the-way") } else { f }
        })
    })
}

/// `div` truncates toward zero: 7 / -2 is -3 remainder 1, -7 / 2 is -3
/// remainder -1, -7 / -2 is 3 remainder -1 (q·b + r = a).
pub(super) fn server_div(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        calls(
            server,
            &[
                Call::Div(7, 2),
                Call::Div(7, -2),
                Call::Div(-7, 2),
                Call::Div(-7, -2),
                Call::Div(i64::MIN, 2),
                Call::Div(5, i64::MIN),
            ],
        )
    })
}

/// `sleep 300` replies (with no results) after 0.3 s or more, within 3 s;
/// `sleep 0` at once.
pub(super) fn server_sleep(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut c = Client::connect(&server.addr)?;
        let started = Instant::now();
        c.call(&Call::Sleep(300), id(1))?;
        let took = started.elapsed();
        ensure(took >= Duration::from_millis(290), || {
            Fail::new(format!("the reply to `sleep 300` came after {:.3}s", took.as_secs_f64()))
                .expected("after 0.3 s or more")
        })?;
        c.call(&Call::Sleep(0), id(2))
    })
}

/// `stat` of a file of 1234 bytes with mode 0644 gives 1234 and 0100644;
/// of the check's folder its size and 040700 (`st_mode`, type bits included).
pub(super) fn server_stat(ctx: &mut Ctx) -> Result<(), Fail> {
    let file = ctx.write_file("stat me.txt", &[b's'; 1234])?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).map_err(Fail::infra)?;
    let dir = ctx.dir().to_owned();
    with_server(ctx, Transport::Tcp, |_, server| {
        let stat = |p: &Path| Call::Stat(p.display().to_string().into_bytes());
        calls(server, &[stat(&file), stat(&dir)])
    })
}

/// STATUS 3 with the table's message: `overflow` for add, sum and
/// `MIN / -1`, `division by zero`, and the OS's text for `stat` of a
/// missing path (`No such file or directory`) or one through a file (`Not a directory`).
pub(super) fn server_failures(ctx: &mut Ctx) -> Result<(), Fail> {
    let file = ctx.write_file("plain", b"plain")?;
    let missing = ctx.path("missing").display().to_string();
    let through = file.join("sub").display().to_string();
    with_server(ctx, Transport::Tcp, |_, server| {
        calls(
            server,
            &[
                Call::Add(i64::MAX, 1),
                Call::Add(i64::MIN, -1),
                Call::Sum(vec![i64::MAX, i64::MAX]),
                Call::Sum(vec![i64::MIN, -1]),
                Call::Div(5, 0),
                Call::Div(i64::MIN, -1),
                Call::Stat(missing.into_bytes()),
                Call::Stat(through.into_bytes()),
                Call::Add(1, 1),
            ],
        )
    })
}

/// PROC 0, 7, 256 and 65535: STATUS 1 `unknown procedure`; the connection
/// stays open, and `add` works on it afterwards.
pub(super) fn server_unknown_procedure(ctx: &mut Ctx) -> Result<(), Fail> {
    let unknown = Outcome::Failed(wire::UNKNOWN_PROCEDURE, "unknown procedure".into());
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut c = Client::connect(&server.addr)?;
        for (n, (proc, args)) in [(0u16, &[][..]), (7, &[0u8; 16][..]), (256, &[1, 2, 3][..]), (65535, &[0u8; 8][..])]
            .into_iter()
            .enumerate()
        {
            raw_call(&mut c, n as u32, proc, args, &unknown, &format!("a request for PROC {proc}"))?;
        }
        c.call(&Call::Add(20, 22), id(9))
            .map_err(|f| f.note("after replies of STATUS 1, the same connection carries the next call"))
    })
}

/// Arguments that do not fill the request exactly (short, extra bytes, a
/// count larger than what follows), a `str` that is not UTF-8, and
/// `sleep 10001`: STATUS 2 `bad arguments`, at once (within 2 s); the
/// connection carries the next call.
pub(super) fn server_bad_arguments(ctx: &mut Ctx) -> Result<(), Fail> {
    let bad = Outcome::Failed(wire::BAD_ARGUMENTS, "bad arguments".into());
    let i = |n: i64| n.to_be_bytes().to_vec();
    let cases: Vec<(&str, u16, Vec<u8>)> = vec![
        ("add with 8 bytes of arguments", 1, i(1)),
        ("add with 17 bytes of arguments", 1, [i(1), i(2), vec![0]].concat()),
        ("div with no arguments", 4, vec![]),
        ("upper whose count says 10 bytes and 5 follow", 2, [vec![0, 0, 0, 10], b"hello".to_vec()].concat()),
        ("upper of bytes ff fe 41 (not UTF-8)", 2, vec![0, 0, 0, 3, 0xff, 0xfe, 0x41]),
        ("upper with a byte after the str", 2, vec![0, 0, 0, 1, b'a', b'b']),
        ("stat of bytes c3 28 (not UTF-8)", 6, vec![0, 0, 0, 2, 0xc3, 0x28]),
        ("sum whose count says 3 and 2 numbers follow", 3, [vec![0, 0, 0, 3], i(1), i(2)].concat()),
        ("sum whose count says 4294967295", 3, [vec![0xff; 4], i(1)].concat()),
        ("sum with a byte after the list", 3, [vec![0, 0, 0, 1], i(1), vec![9]].concat()),
        ("sleep with 2 bytes of arguments", 5, vec![0, 1]),
        ("sleep 10001", 5, 10_001u32.to_be_bytes().to_vec()),
        ("sleep 4294967295", 5, vec![0xff; 4]),
    ];
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut c = Client::connect(&server.addr)?;
        for (n, (what, proc, args)) in cases.iter().enumerate() {
            let args = Msg::default().raw("arguments", args);
            c.send(&wire::request(id(n as u32), *proc, &args).bytes)?;
            c.expect_reply(&bad.reply(id(n as u32)), &format!("a request for {what}"), Duration::from_secs(2))?;
        }
        c.call(&Call::Add(20, 22), id(99))
            .map_err(|f| f.note("after replies of STATUS 2, the same connection carries the next call"))
    })
}

/// Every field of the replies is the contract's, byte for byte: an ID whose
/// four bytes differ, a `str` of 300 bytes, a reply of 1000 numbers' sum, a
/// `stat`'s `u64` and `u32`, an empty result, a STATUS 3 message.
pub(super) fn server_reply_bytes(ctx: &mut Ctx) -> Result<(), Fail> {
    let file = ctx.write_file("bytes", &[0u8; 70000])?;
    with_server(ctx, Transport::Tcp, |_, server| {
        calls(
            server,
            &[
                Call::Add(0x0102_0304_0506_0708, 0x1000),
                Call::Upper("a".repeat(300).into_bytes()),
                Call::Sum(vec![-1; 300]),
                Call::Div(-1_000_000_007, 1000),
                Call::Stat(file.display().to_string().into_bytes()),
                Call::Sleep(1),
                Call::Div(1, 0),
            ],
        )
    })
}

/// `rpc-server --unix PATH` prints `listening on PATH` and answers every
/// procedure there.
pub(super) fn server_unix(ctx: &mut Ctx) -> Result<(), Fail> {
    let file = ctx.write_file("over unix", b"hello")?;
    with_server(ctx, Transport::Unix, |_, server| {
        calls(
            server,
            &[
                Call::Add(2, 3),
                Call::Upper("unix domain".into()),
                Call::Sum(vec![1, 2, 3]),
                Call::Div(-7, 2),
                Call::Sleep(10),
                Call::Stat(file.display().to_string().into_bytes()),
            ],
        )
    })
}

/// 1000 calls on one connection, each with its own ID, each answered exactly.
pub(super) fn server_repeat(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut c = Client::connect(&server.addr)?;
        for n in 0..1000u32 {
            let call = Call::Add(i64::from(n), 1);
            c.call(&call, n.wrapping_mul(2_654_435_761))
                .map_err(|f| f.note(format!("call {} of 1000 on one connection", n + 1)))?;
        }
        Ok(())
    })
}

/// Requests sent in pieces (cut inside LEN, inside ID, inside PROC and
/// inside the arguments) with 60 ms pauses are answered exactly.
pub(super) fn server_split_request(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut c = Client::connect(&server.addr)?;
        for (n, call) in
            [Call::Upper("split request".into()), Call::Div(-7, 2), Call::Sum(vec![1, 2, 3])].iter().enumerate()
        {
            let request = call.request(id(n as u32));
            c.send_in_pieces(&request.bytes, &[1, 3, 6, 9, 11, request.bytes.len() - 1], Duration::from_millis(60))
                .map_err(|f| {
                    Fail::new(format!(
                        "the server closed the connection, or stopped reading it, before `{}` sent in 7 pieces \
                         had all arrived",
                        call.describe()
                    ))
                    .got(f.what)
                    .note(
                        "a server that takes one read for a whole request answers the first piece and reads the \
                           next pieces as new requests (with a LEN it refuses)",
                    )
                    .clue(SHORT_READ)
                })?;
            c.expect_reply(
                &call.outcome().reply(id(n as u32)),
                &format!("`{}` sent in 7 pieces", call.describe()),
                IO_WAIT,
            )
            .map_err(|f| {
                f.note("a stream has no message boundaries: read LEN's 4 bytes, then LEN bytes, each in a loop")
                    .clue(SHORT_READ)
            })?;
        }
        Ok(())
    })
}

/// While one connection's `sleep 2000` runs, `add` on a second connection
/// is answered within 1 s; then the sleep's reply comes.
pub(super) fn server_concurrent(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut slow = Client::connect(&server.addr)?;
        let sleep = Call::Sleep(2000);
        slow.send(&sleep.request(id(1)).bytes)?;
        std::thread::sleep(Duration::from_millis(200));
        let mut quick = Client::connect(&server.addr)?;
        let add = Call::Add(1, 2);
        quick.send(&add.request(id(2)).bytes)?;
        quick
            .expect_reply(
                &add.outcome().reply(id(2)),
                "`add 1 2` on a second connection during a `sleep 2000`",
                Duration::from_secs(1),
            )
            .map_err(|f| {
                let f = f.note("serve each connection on its own thread: a slow call must not delay the others");
                if f.what.starts_with("no reply") { f.clue("one-connection-at-a-time") } else { f }
            })?;
        slow.expect_reply(&sleep.outcome().reply(id(1)), "`sleep 2000`", Duration::from_secs(4))
    })
}

/// A request whose LEN is over 1 MiB (1048577, 4294967295) or under 6
/// (5, 0) is not read: the server closes that connection, within 3 s,
/// without replying. A LEN of exactly 1 MiB is a request like any other,
/// and other connections are served throughout.
pub(super) fn server_oversized_len(ctx: &mut Ctx) -> Result<(), Fail> {
    let cases: [(&str, Vec<u8>); 4] = [
        ("1048577 (1 MiB + 1)", [vec![0, 0x10, 0, 1], vec![0; 16]].concat()),
        ("4294967295", [vec![0xff; 4], vec![0; 16]].concat()),
        ("5", [vec![0, 0, 0, 5], vec![0; 5]].concat()),
        ("0", vec![0, 0, 0, 0]),
    ];
    with_server(ctx, Transport::Tcp, |_, server| {
        let mut other = Client::connect(&server.addr)?;
        for (n, (len, bytes)) in cases.iter().enumerate() {
            let mut c = Client::connect(&server.addr)?;
            c.send(bytes)?;
            if let Err(f) = c.expect_closed(Duration::from_secs(3), &format!("after a request whose LEN is {len}")) {
                return Err(why_not_closed(server, f, len));
            }
            other.call(&Call::Add(n as i64, 1), id(n as u32)).map_err(|f| {
                match server.proc.wait_timeout(Duration::from_millis(300)) {
                Some(exit) => Fail::new(format!(
                    "the whole server ended ({exit}) after the request whose LEN is {len}: a LEN out of range must end \
                     only that connection"
                ))
                .note(format!("then, on another connection open all along: {}", f.what)),
                None => f.note("another connection, open all along"),
            }
            })?;
        }
        // 1 MiB exactly: LEN = 4 (ID) + 2 (PROC) + 4 (count) + the string.
        let big: Vec<u8> = (0..(1 << 20) - 10).map(|i| b'a' + (i % 26) as u8).collect();
        let mut c = Client::connect(&server.addr)?;
        c.call(&Call::Upper(big), id(7)).map_err(|f| {
            let f = f.note("a LEN of exactly 1048576 is allowed");
            // A reply cut by a reset from a server still running: it closed
            // the connection with bytes of the request unread.
            if f.what.contains("stops after")
                && f.what.contains("reset")
                && server.proc.wait_timeout(Duration::from_millis(300)).is_none()
            {
                f.note(
                    "the server reset the connection while it answered: it closed it with bytes of the request still \
                        unread, so it answered before it had read the whole request",
                )
                .clue(SHORT_READ)
            } else {
                f
            }
        })
    })
}

/// Clients that reset the connection (TCP RST) or close it in the middle
/// of a request end only their own connection: the server is still running
/// afterwards and answers a new one.
pub(super) fn server_survives_reset(ctx: &mut Ctx) -> Result<(), Fail> {
    with_server(ctx, Transport::Tcp, |_, server| {
        let request = Call::Upper("cut short".into()).request(id(1)).bytes;
        for cut in [2, 7, 15] {
            let mut c = Client::connect(&server.addr)?;
            c.send(&request[..cut])?;
            std::thread::sleep(Duration::from_millis(50));
            c.reset();
            let mut c = Client::connect(&server.addr)?;
            c.send(&request[..cut])?;
            c.shutdown_write();
            std::thread::sleep(Duration::from_millis(50));
        }
        // Give a dying server time to die.
        std::thread::sleep(Duration::from_millis(300));
        if let Some(exit) = server.proc.try_exit() {
            return Err(Fail::new("clients that left in the middle of a request ended the whole server")
                .got(exit.to_string())
                .note("a read that fails or ends early ends that connection only: close it and keep accepting"));
        }
        calls(server, &[Call::Add(1, 2)])
    })
}

/// Clients that go away before reading their reply do not kill the server
/// with SIGPIPE; it answers a new connection afterwards. Over a Unix
/// socket: `upper` of 1 MB, then close while the server is writing the
/// reply. Over TCP: `sleep 300`, then half-close and reset (in CLOSE_WAIT a
/// reset makes the server's next write fail with EPIPE, which raises
/// SIGPIPE; an ordinary reset gives ECONNRESET), before the reply is written.
pub(super) fn server_survives_sigpipe(ctx: &mut Ctx) -> Result<(), Fail> {
    for transport in [Transport::Unix, Transport::Tcp] {
        with_server(ctx, transport, |_, server| {
            for n in 1..=3 {
                let mut c = Client::connect(&server.addr)?;
                if transport == Transport::Unix {
                    let request = Call::Upper(vec![b'x'; 1_000_000]).request(id(n)).bytes;
                    c.send(&request).map_err(|f| {
                        // No client went away yet: whatever happened is no SIGPIPE.
                        Fail::new(format!(
                            "the server stopped reading client {n}'s request of {} bytes before its end, while \
                             the grader was still sending it (no client had gone away yet)",
                            request.len()
                        ))
                        .got(f.what)
                        .note(
                            "a server that takes what one read returns for a whole request answers a part of it, \
                             and then blocks writing that answer (nobody reads it) instead of reading the rest",
                        )
                        .clue(SHORT_READ)
                    })?;
                    // The server reads the request and starts its 1 MB
                    // reply, which blocks: nobody reads.
                    std::thread::sleep(Duration::from_millis(150));
                } else {
                    c.send(&Call::Sleep(300).request(id(n)).bytes)?;
                    c.shutdown_write();
                    std::thread::sleep(Duration::from_millis(50));
                }
                c.reset();
                // The reply is written by now (or in 0.3 s): give a dying
                // server time to die.
                if let Some(exit) = server.proc.wait_timeout(Duration::from_millis(600)) {
                    return Err(Fail::new(format!(
                        "client {n} went away before reading its reply, and that ended the whole server"
                    ))
                    .got(exit.to_string())
                    .note(if exit == Exit::Signal(Signal::SIGPIPE as i32) {
                        "SIGPIPE killed it: ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)) or send with MSG_NOSIGNAL, and let a failed write end only that connection"
                    } else {
                        "let a failed write (EPIPE, ECONNRESET) end only that connection"
                    }));
                }
            }
            calls(server, &[Call::Add(1, 2)])
        })
        .map_err(|f| f.note(format!("over {}", if transport == Transport::Unix { "a Unix domain socket" } else { "TCP" })))?;
    }
    Ok(())
}

/// With one connection idle after a call and another stopped in the middle
/// of a request, SIGTERM (then SIGINT, to a new server) makes the server
/// exit 0 within 1.5 s (the contract's second plus slack).
pub(super) fn server_exits_on_signal(ctx: &mut Ctx) -> Result<(), Fail> {
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        with_server(ctx, Transport::Tcp, |_, server| {
            let mut idle = Client::connect(&server.addr)?;
            idle.call(&Call::Add(1, 1), id(1))?;
            let mut halfway = Client::connect(&server.addr)?;
            halfway.send(&Call::Add(1, 1).request(id(2)).bytes[..9])?;
            std::thread::sleep(Duration::from_millis(100));
            expect_exit_on(server, sig, "two clients were connected, one idle, one in the middle of a request")
        })?;
    }
    Ok(())
}

/// A socket file left at PATH by a server that is gone (nobody listens on
/// it) is replaced: the server prints `listening on PATH` and answers there.
pub(super) fn server_unix_stale(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = socket_path(ctx, "rpc.sock")?;
    ipc_engine::net::stale_unix_socket(&path).map_err(Fail::infra)?;
    with_server(ctx, Transport::Unix, |_, server| calls(server, &[Call::Add(2, 3)])).map_err(|f| {
        f.note("a socket file nobody listens on (connect says ECONNREFUSED) is left over: unlink it and bind again")
    })
}

/// Another server listening at PATH: `rpc-server: PATH: Address already in
/// use`, exit 1; the other server's socket file still works afterwards.
pub(super) fn server_unix_in_use(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = socket_path(ctx, "rpc.sock")?;
    let other = UnixListener::bind(&path).map_err(Fail::infra)?;
    let done =
        ctx.program("rpc-server").arg("--unix").arg(&path).timeout(Duration::from_secs(3)).run().map_err(|f| {
            f.note("another server listens on PATH: the server must say so and exit, not take the address over")
        })?;
    done.expect_code(1)?.expect_stderr_line(&format!("rpc-server: {}: Address already in use", path.display()))?;
    // The other server's socket file is still the one it listens on.
    other.set_nonblocking(true).map_err(Fail::infra)?;
    let connected = UnixStream::connect(&path);
    std::thread::sleep(Duration::from_millis(50));
    ensure(connected.is_ok() && other.accept().is_ok(), || {
        done.fail("the other server's socket file no longer reaches it: it was removed or replaced")
            .note("unlink PATH only when connect(2) to it says ECONNREFUSED (nobody listens)")
    })
}

/// A regular file at PATH: `rpc-server: PATH: File exists`, exit 1, and
/// the file is left as it was.
pub(super) fn server_unix_not_socket(ctx: &mut Ctx) -> Result<(), Fail> {
    let contents = b"not a socket: keep me\n";
    let path = ctx.write_file("rpc.sock", contents)?;
    let done = ctx.program("rpc-server").arg("--unix").arg(&path).timeout(Duration::from_secs(3)).run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("rpc-server: {}: File exists", path.display()))?;
    let now = std::fs::read(&path).ok();
    let is_file = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file());
    ensure(is_file && now.as_deref() == Some(&contents[..]), || {
        done.fail("the regular file at PATH was changed or removed")
            .note("only a socket file may be replaced, and only one that nobody listens on")
    })
}

/// With a connection open, SIGTERM (then SIGINT, to a new server) makes a
/// `--unix` server exit 0 within 1.5 s and remove its socket file.
pub(super) fn server_unix_cleanup(ctx: &mut Ctx) -> Result<(), Fail> {
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        with_server(ctx, Transport::Unix, |_, server| {
            let Addr::Unix(path) = server.addr.clone() else { unreachable!("a Unix server") };
            let mut idle = Client::connect(&server.addr)?;
            idle.call(&Call::Add(1, 1), id(1))?;
            let is_socket = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_socket());
            ensure(is_socket, || Fail::new(format!("{} is not a socket file while the server runs", path.display())))?;
            expect_exit_on(server, sig, "a client was connected and idle")?;
            ensure(std::fs::symlink_metadata(&path).is_err(), || {
                Fail::new(format!("after {} the socket file {} is still there", sig.as_str(), path.display()))
                    .note("remove PATH (unlink) before exiting on SIGINT or SIGTERM")
            })
        })?;
    }
    Ok(())
}

/// Missing, extra or malformed arguments, and `--unix` with a PORT: a usage
/// error (one line, status 2); `rpc-server 0` is not one.
pub(super) fn server_usage_errors(ctx: &mut Ctx) -> Result<(), Fail> {
    let path = socket_path(ctx, "usage.sock")?.display().to_string();
    let cases: &[&[&str]] = &[&[], &["1", "2"], &["port"], &["70000"], &["--unix"], &["--unix", &path, "5"]];
    for args in cases {
        ctx.program("rpc-server").args(*args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    with_server(ctx, Transport::Tcp, |_, server| calls(server, &[Call::Add(1, 2)]))
}
