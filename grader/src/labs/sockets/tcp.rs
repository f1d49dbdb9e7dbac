//! Lab `sockets`, TCP: the checks of `tcp-server` and `tcp-client`, and
//! those of both kinds of client (`localhost`, usage errors).

use super::*;

// ---------------------------------------------------------------------------
// tcp-server.

pub(super) fn start_tcp_server(ctx: &mut Ctx) -> Result<(Proc, SocketAddr), Fail> {
    let deadline = ctx.deadline();
    start_server(ctx.program("tcp-server").arg("0"), deadline)
}

/// `tcp-server 0` prints `listening on 127.0.0.1:PORT` with the real port, and accepts there.
pub(super) fn tcp_server_listening(ctx: &mut Ctx) -> Result<(), Fail> {
    let (server, addr) = start_tcp_server(ctx)?;
    ensure(addr.ip().to_string() == "127.0.0.1", || {
        Fail::new("the server should listen on 127.0.0.1 by default").got(addr.to_string())
    })?;
    let mut stream = tcp_connect(addr)?;
    exchange(&mut stream, b"ping\n", "a client")?;
    stop(server);
    Ok(())
}

/// `tcp-server --host ::1 0` listens on IPv6 and prints `[::1]:PORT`.
pub(super) fn tcp_server_ipv6(ctx: &mut Ctx) -> Result<(), Fail> {
    let deadline = ctx.deadline();
    let (server, addr) = start_server(ctx.program("tcp-server").args(["--host", "::1", "0"]), deadline)?;
    ensure(addr.ip().to_string() == "::1", || {
        Fail::new("with --host ::1 the server should listen on [::1]")
            .expected("listening on [::1]:PORT")
            .got(addr.to_string())
    })?;
    let mut stream = tcp_connect(addr)?;
    exchange(&mut stream, b"over IPv6\n", "a client")?;
    stop(server);
    Ok(())
}

/// The grader's client sends a few lines and gets them back; the server logs
/// `connection from ADDR` and `connection closed ADDR`.
pub(super) fn tcp_server_echo(ctx: &mut Ctx) -> Result<(), Fail> {
    let (server, addr) = start_tcp_server(ctx)?;
    let text = b"hello, server\n\nno newline at the end".to_vec();
    let done =
        ctx.peer(peers::TCP_CLIENT)?.args(["127.0.0.1", &addr.port().to_string()]).stdin_bytes(text.clone()).run()?;
    done.expect_code(0)?.expect_stdout(&text)?;
    // The client's address as the server saw it: any one line names it.
    let seen = server.stdout.wait_for(ctx.within(Duration::from_secs(2)), |bytes| {
        let text = String::from_utf8_lossy(bytes);
        text.lines().find_map(|l| l.strip_prefix("connection from ").map(str::to_string))
    });
    let Some(peer) = seen else {
        return Err(Fail::new("no `connection from ADDR` line on the server's stdout").got(ipc_engine::text::excerpt(
            &server.stdout.bytes(),
            server.stdout.total(),
            8,
            600,
        )));
    };
    wait_lines(&server, ctx.within(Duration::from_secs(2)), &[format!("connection closed {peer}")])?;
    stop(server);
    Ok(())
}

/// 20 MiB of random bytes from the grader's client come back exactly.
pub(super) fn tcp_server_echo_20mib(ctx: &mut Ctx) -> Result<(), Fail> {
    let (server, addr) = start_tcp_server(ctx)?;
    let data = random_bytes(MIB20, 0x7c9);
    let done = ctx
        .peer(peers::TCP_CLIENT)?
        .args(["127.0.0.1", &addr.port().to_string()])
        .stdin_generated(data.clone(), "head -c 20971520 /dev/urandom")
        .output_cap(MIB20 + 1)
        .run()?;
    done.expect_code(0)?.expect_stdout(&data)?;
    stop(server);
    Ok(())
}

/// A barrier with a time limit: `wait` returns false if not everyone came in time.
struct Gate {
    count: Mutex<usize>,
    all: Condvar,
    needed: usize,
}

impl Gate {
    fn wait(&self, deadline: Instant) -> bool {
        let mut n = self.count.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        self.all.notify_all();
        while *n < self.needed {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            n = self.all.wait_timeout(n, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        true
    }
}

/// 32 clients connect at once; every one gets an echo while all 32 are
/// still connected (a server serving one client at a time cannot), then each
/// finishes its exchange.
pub(super) fn tcp_server_32_clients(ctx: &mut Ctx) -> Result<(), Fail> {
    const CLIENTS: usize = 32;
    let (server, addr) = start_tcp_server(ctx)?;
    let gate = Arc::new(Gate { count: Mutex::new(0), all: Condvar::new(), needed: CLIENTS });
    let deadline = ctx.within(Duration::from_secs(6));
    // Clients whose first echo came while all were connected.
    let answered = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (gate, answered) = (gate.clone(), answered.clone());
            std::thread::spawn(move || -> Result<(), Fail> {
                let who = format!("client {i}");
                let mut stream = tcp_connect(addr)?;
                exchange(&mut stream, format!("first from {i}\n").as_bytes(), &who)?;
                answered.fetch_add(1, Ordering::SeqCst);
                if !gate.wait(deadline) {
                    return Err(Fail::new("not every client got its first echo while all were connected"));
                }
                exchange(&mut stream, format!("second from {i}\n").as_bytes(), &who)?;
                expect_close(&mut stream, &who)
            })
        })
        .collect();
    let mut first_fail = None;
    let mut ok = 0;
    for h in handles {
        match h.join() {
            Ok(Ok(())) => ok += 1,
            Ok(Err(f)) => first_fail = first_fail.or(Some(f)),
            Err(_) => first_fail = first_fail.or(Some(Fail::infra("a client thread panicked"))),
        }
    }
    if let Some(f) = first_fail {
        let answered = answered.load(Ordering::SeqCst);
        return Err(f
            .note(format!(
                "of {CLIENTS} clients connected at once, {answered} got their first echo (a server that serves one \
                 client at a time answers only the first) and {ok} finished the whole exchange"
            ))
            .note("serve each connection on its own thread (or child process) so that all clients progress at once"));
    }
    stop(server);
    Ok(())
}

/// A client that connects and sends nothing does not delay a second client,
/// whose echo must come within 3 s.
pub(super) fn tcp_server_idle_client(ctx: &mut Ctx) -> Result<(), Fail> {
    let (server, addr) = start_tcp_server(ctx)?;
    let idle = tcp_connect(addr)?;
    // Let the server accept the idle client first.
    std::thread::sleep(Duration::from_millis(200));
    let mut busy = tcp_connect(addr)?;
    exchange(&mut busy, b"am I served?\n", "the second client")
        .map_err(|f| f.note("the first client is connected but idle: it must not block the others"))?;
    expect_close(&mut busy, "the second client")?;
    drop(idle);
    stop(server);
    Ok(())
}

/// Clients that half-close then reset their connection while the server
/// still has echo to send end only their own connection: afterwards the server
/// is alive and serves another client.
pub(super) fn tcp_server_survives_reset(ctx: &mut Ctx) -> Result<(), Fail> {
    let (mut server, addr) = start_tcp_server(ctx)?;
    // The resetter fails to connect if the server died of an earlier reset.
    let resets = ctx.peer(peers::RESETTER)?.args(["127.0.0.1", &addr.port().to_string()]).run()?;
    // Give a dying server time to die.
    if let Some(exit) = server.wait_timeout(Duration::from_millis(500)) {
        return Err(Fail::new("a client that reset its connection ended the whole server")
            .got(exit.to_string())
            .output_so_far(&mut server)
            .note(
                "ignore SIGPIPE (or send with MSG_NOSIGNAL), and let a failed read or write end only that connection",
            ));
    }
    resets.expect_code(0)?;
    let mut stream = tcp_connect(addr)?;
    exchange(&mut stream, b"still there?\n", "a client after the resets")?;
    expect_close(&mut stream, "a client after the resets")?;
    stop(server);
    Ok(())
}

/// With a client connected and idle, SIGTERM (and SIGINT) makes the server
/// exit 0 within 1.5 s (1 s plus slack), leaving no process behind.
pub(super) fn tcp_server_exits_on_signal(ctx: &mut Ctx) -> Result<(), Fail> {
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        let (mut server, addr) = start_tcp_server(ctx)?;
        let mut idle = tcp_connect(addr)?;
        exchange(&mut idle, b"then idle\n", "the idle client")?;
        server.signal(sig).map_err(Fail::infra)?;
        let exit = server.wait_timeout(Duration::from_millis(1500));
        let Some(exit) = exit else {
            server.kill_group();
            return Err(Fail::new(format!("the server did not exit within 1.5s of {}", sig.as_str()))
                .timing(ipc_engine::check::Timing::Deadline)
                .note("a client was connected and idle: the server must not wait for it"));
        };
        ensure(exit == ipc_engine::proc::Exit::Code(0), || {
            Fail::new(format!("wrong exit after {}", sig.as_str())).expected("exit status 0").got(exit.to_string())
        })?;
        drop(idle);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// tcp-client.

/// How long a tcp-client may go without printing while echo waits unread
/// in its socket before the check calls it stuck.
const CLIENT_STUCK: Duration = Duration::from_millis(1500);

/// Whether system call `nr` sends (on a socket or any descriptor).
pub(super) fn sends(nr: i64) -> bool {
    matches!(procfs::syscall_name(nr), Some("write" | "writev" | "send" | "sendmsg" | "splice" | "sendfile"))
}

/// What the kernel shows of a running client's connections and threads,
/// as sentences, and the bytes received that it has not read and those
/// it wrote that wait unsent.
pub(super) fn client_state(pid: Pid) -> (Vec<String>, u64, u64) {
    let mut facts = Vec::new();
    let inodes = procfs::socket_inodes(pid);
    let (mut unread, mut unsent) = (0, 0);
    for socket in procfs::tcp_sockets().into_iter().filter(|s| inodes.contains(&s.inode)) {
        unread += socket.rx_queue;
        unsent += socket.tx_queue;
        facts.push(format!(
            "its connection (from /proc/net/tcp): {}; {} bytes received that it has not read; {} bytes it wrote \
             still in its socket's send queue (not yet taken by the server)",
            procfs::tcp_state_name(socket.state),
            socket.rx_queue,
            socket.tx_queue
        ));
    }
    let calls: Vec<String> = procfs::threads(pid)
        .into_iter()
        .map(|tid| match procfs::thread_syscall(pid, tid) {
            Some(InSyscall::Call { nr, .. }) => {
                procfs::syscall_name(nr).map(str::to_string).unwrap_or_else(|| format!("system call {nr}"))
            }
            Some(InSyscall::Running) => "running".to_string(),
            _ => "(unknown)".to_string(),
        })
        .collect();
    if !calls.is_empty() {
        facts.push(format!("its threads were in: {}", calls.join(", ")));
    }
    (facts, unread, unsent)
}

/// The descriptor a sending system call writes to (`splice` writes to its
/// third argument).
pub(super) fn sent_to(nr: i64, args: &[u64; 6]) -> i32 {
    let fd = if procfs::syscall_name(nr) == Some("splice") { args[2] } else { args[0] };
    fd as i32
}

/// If every thread of `pid` is asleep and one is blocked sending on a
/// socket while none is writing elsewhere (to its stdout, say), the call
/// it sends in. A client in that state reads nothing: a reader, had it any,
/// would be woken by the echo waiting in its socket.
pub(super) fn blocked_sending(pid: Pid) -> Option<&'static str> {
    let sockets: Vec<i32> =
        procfs::fds(pid).into_iter().filter(|(_, target)| target.starts_with("socket:")).map(|(fd, _)| fd).collect();
    let mut sending = None;
    for tid in procfs::threads(pid) {
        match procfs::thread_syscall(pid, tid)? {
            InSyscall::Call { nr, args } if sends(nr) => {
                if !sockets.contains(&sent_to(nr, &args)) {
                    return None;
                }
                sending = procfs::syscall_name(nr);
            }
            InSyscall::Call { .. } => {}
            InSyscall::Running | InSyscall::NotInCall => return None,
        }
    }
    sending
}

/// Whether the client stays blocked sending, with the same bytes unread in
/// its socket, over five looks 50 ms apart; then the call and those bytes.
pub(super) fn stopped_reading(pid: Pid) -> Option<(&'static str, u64)> {
    let (_, unread, _) = client_state(pid);
    let mut call = None;
    for _ in 0..5 {
        call = Some(blocked_sending(pid)?);
        if client_state(pid).1 != unread {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    call.filter(|_| unread > 0).map(|c| (c, unread))
}

/// Runs a started tcp-client to its end and returns what it did. While it
/// runs, the check watches it: if it prints nothing for 1.5 s while echo
/// waits unread in its socket and it is blocked sending, it has stopped
/// reading (it writes everything before reading), and the failure says so
/// at once. A client still running at `until` fails as a time-out, with
/// what the kernel shows of its connection and, from the grader's server
/// (`server`, which echoes at once), whether that saw end of file and
/// whether the echo reached the client. `sizes`: bytes of input, bytes it
/// should print.
pub(super) fn finish_client(
    ctx: &Ctx,
    client: &mut Proc,
    (input_len, expect_len): (usize, usize),
    until: Instant,
    server: Option<&Proc>,
) -> Result<Done, Fail> {
    let pid = client.pid();
    let mut printed = client.stdout.total();
    let mut since = Instant::now();
    loop {
        if client.wait_until(Instant::now() + Duration::from_millis(50)).is_some() {
            return ctx.finish(client);
        }
        let total = client.stdout.total();
        if total != printed {
            (printed, since) = (total, Instant::now());
        }
        let stuck = if since.elapsed() >= CLIENT_STUCK { stopped_reading(pid) } else { None };
        if let Some((call, unread)) = stuck.filter(|_| client.stdout.total() == printed) {
            let (facts, _, _) = client_state(pid);
            let mut fail = Fail::new(format!(
                "tcp-client stopped reading: {unread} bytes of echo wait unread in its socket while it is blocked \
                 sending (in {call}); it has printed {printed} of {expect_len} bytes"
            ))
            .kind(Kind::Timeout)
            .clue("client-stopped-reading")
            .note(
                "the server sends back what it receives. When nobody reads the echo, the client's receive buffer \
                 fills, then the server's send buffer; the server blocks writing and stops reading, so the client's \
                 own send blocks too: each waits for the other, forever (a deadlock). Small inputs fit in the \
                 buffers, which is why short tests pass.",
            );
            for fact in facts {
                fail = fail.note(fact);
            }
            let fail = fail.output_so_far(client);
            client.kill_group();
            return Err(fail);
        }
        if Instant::now() >= until {
            let (facts, unread, unsent) = client_state(pid);
            let mut fail = Fail::new(format!(
                "tcp-client did not finish within {:.1}s: it printed {printed} of {expect_len} bytes",
                (until - client.started).as_secs_f64()
            ))
            .kind(Kind::Timeout);
            for fact in facts {
                fail = fail.note(fact);
            }
            if let Some(server) = server {
                let eof = String::from_utf8_lossy(&server.stdout.bytes()).lines().any(|l| l.starts_with("eof from "));
                fail = fail.note(if eof {
                    "the grader's server saw end of file from tcp-client, sent what it had, and waits for it to close"
                } else {
                    "the grader's server never saw end of file: tcp-client did not shut down its writing side \
                     (shutdown(SHUT_WR)) at the end of stdin"
                });
                // The grader's server echoes at once: with nothing unsent and
                // nothing unread, the client has read all it was sent.
                let arrived = if eof { expect_len } else { input_len };
                if unread == 0 && unsent == 0 && (printed as usize) < arrived {
                    fail = fail.note(format!(
                        "the grader's server sent it {arrived} bytes and nothing waits unread or unsent in its \
                         socket: tcp-client has read them, yet only {printed} are on its stdout. Output kept in a \
                         buffer is lost when a process is killed: write each piece out as it arrives (and flush)"
                    ));
                }
            }
            let fail = fail.output_so_far(client);
            client.kill_group();
            return Err(fail);
        }
    }
}

/// Starts `tcp-client HOST PORT` with `input` on stdin (a large input is
/// random bytes, shown as such in the command) and finishes it (see
/// [`finish_client`]) within the check's deadline, or `timeout`; it should
/// print `expect_len` bytes.
pub(super) fn run_client(
    ctx: &mut Ctx,
    (host, port): (&str, u16),
    input: Arc<Vec<u8>>,
    expect_len: usize,
    timeout: Option<Duration>,
    server: Option<&Proc>,
) -> Result<Done, Fail> {
    let len = input.len();
    let cmd = ctx.program("tcp-client").args([host.to_string(), port.to_string()]).output_cap(expect_len + 1024);
    let cmd = if len > 4096 {
        cmd.stdin_generated(input, &format!("head -c {len} /dev/urandom"))
    } else {
        cmd.stdin_bytes(input)
    };
    let mut client = cmd.spawn()?;
    let until = match timeout {
        Some(t) => ctx.within(t),
        None => ctx.deadline(),
    };
    finish_client(ctx, &mut client, (len, expect_len), until, server)
}

pub(super) fn start_tcp_peer(ctx: &mut Ctx, options: &[&str]) -> Result<(Proc, SocketAddr), Fail> {
    let deadline = ctx.deadline();
    let cmd = ctx.peer(peers::TCP_SERVER)?.args(options).arg("0");
    start_server(cmd, deadline)
}

/// A line drawn for this run that the grader's echo server sends first,
/// before any echo: a client that prints its stdin instead of what the
/// socket brings cannot print it.
fn greeting() -> String {
    format!("greetings from the grader's server, {:016x}\n", fastrand::u64(..))
}

/// The grader's echo server, greeting each client with `greeting` first.
fn start_greeting_peer(ctx: &mut Ctx, greeting: &str, options: &[&str]) -> Result<(Proc, SocketAddr), Fail> {
    let mut all = vec!["--greeting", greeting];
    all.extend(options);
    start_tcp_peer(ctx, &all)
}

/// A few lines through the grader's echo server come back unchanged, after
/// its greeting; exit 0.
pub(super) fn tcp_client_echo(ctx: &mut Ctx) -> Result<(), Fail> {
    let hello = greeting();
    let (server, addr) = start_greeting_peer(ctx, &hello, &[])?;
    let text = b"hello, client\n\nno newline at the end".to_vec();
    let expected = [hello.as_bytes(), &text].concat();
    let done = run_client(ctx, ("127.0.0.1", addr.port()), Arc::new(text), expected.len(), None, Some(&server))?;
    done.expect_code(0)?.expect_stdout(&expected)?;
    stop(server);
    Ok(())
}

/// 20 MiB of random bytes through the grader's echo server come back exactly
/// (sending and receiving at the same time: no deadlock).
pub(super) fn tcp_client_echo_20mib(ctx: &mut Ctx) -> Result<(), Fail> {
    let hello = greeting();
    let (server, addr) = start_greeting_peer(ctx, &hello, &[])?;
    let data = random_bytes(MIB20, 0x20);
    let expected = [hello.as_bytes(), &data].concat();
    let done = run_client(ctx, ("127.0.0.1", addr.port()), data, expected.len(), None, Some(&server))?;
    done.expect_code(0)?.expect_stdout(&expected)?;
    stop(server);
    Ok(())
}

/// At the end of stdin the client shuts down its writing side (the grader's
/// server sees end of file) and keeps reading: it receives what the server
/// sends after that, then exits 0.
pub(super) fn tcp_client_half_close(ctx: &mut Ctx) -> Result<(), Fail> {
    let trailer = format!("server saw end of file, {:016x}\n", fastrand::u64(..));
    let (server, addr) = start_tcp_peer(ctx, &["--trailer", &trailer])?;
    let input = Arc::new(b"bye\n".to_vec());
    let (len, three) = (4 + trailer.len(), Some(Duration::from_secs(3)));
    let done = run_client(ctx, ("127.0.0.1", addr.port()), input, len, three, Some(&server))?;
    done.expect_code(0)?.expect_stdout(format!("bye\n{trailer}").as_bytes()).map_err(|f| {
        f.note("after stdin ends, shutdown(SHUT_WR) — not close — and keep reading until the server closes")
    })?;
    stop(server);
    Ok(())
}

/// Nobody listening: `tcp-client: 127.0.0.1:PORT: Connection refused`, exit 1.
pub(super) fn tcp_client_refused(ctx: &mut Ctx) -> Result<(), Fail> {
    // A port that was just free: bind it, note it, close it.
    let port = ipc_engine::net::refused_tcp_port().map_err(io_infra)?;
    let done = ctx.program("tcp-client").args(["127.0.0.1", &port.to_string()]).run()?;
    done.expect_code(1)?.expect_stderr_line(&format!("tcp-client: 127.0.0.1:{port}: Connection refused"))?;
    Ok(())
}

/// The student's `tcp-client` with the student's `tcp-server`: a short text,
/// then 20 MiB of random bytes.
pub(super) fn tcp_pair_echo(ctx: &mut Ctx) -> Result<(), Fail> {
    let (server, addr) = start_tcp_server(ctx)?;
    let text = b"pair\n".to_vec();
    let done = run_client(ctx, ("127.0.0.1", addr.port()), Arc::new(text.clone()), text.len(), None, None)?;
    done.expect_code(0)?.expect_stdout(&text)?;
    let data = random_bytes(MIB20, 0x9a1);
    let done = run_client(ctx, ("127.0.0.1", addr.port()), data.clone(), MIB20, None, None)?;
    done.expect_code(0)?.expect_stdout(&data)?;
    stop(server);
    Ok(())
}

/// Both clients resolve HOST with getaddrinfo: `localhost` works.
pub(super) fn clients_resolve_localhost(ctx: &mut Ctx) -> Result<(), Fail> {
    let hello = greeting();
    let (tcp, addr) = start_greeting_peer(ctx, &hello, &[])?;
    let expected = format!("{hello}local\n");
    let input = Arc::new(b"local\n".to_vec());
    let done = run_client(ctx, ("localhost", addr.port()), input, expected.len(), None, Some(&tcp))?;
    done.expect_code(0)?.expect_stdout(expected.as_bytes())?;
    stop(tcp);
    let (udp, addr, first) = start_numbered_peer(ctx, &[])?;
    let done = ctx
        .program("udp-client")
        .args(["localhost", &addr.port().to_string()])
        .stdin_bytes(b"local\n".to_vec())
        .run()?;
    done.expect_code(0)?.expect_stdout(&says(&acks(first, &["local"])))?;
    stop(udp);
    Ok(())
}

/// Missing, extra or malformed arguments are usage errors (one line, status 2).
pub(super) fn usage_errors(ctx: &mut Ctx) -> Result<(), Fail> {
    let cases: &[(&str, &[&str])] = &[
        ("udp-server", &[]),
        ("udp-server", &["port"]),
        ("udp-server", &["70000"]),
        ("udp-client", &["127.0.0.1"]),
        ("udp-client", &["--timeout", "soon", "127.0.0.1", "9"]),
        ("tcp-server", &["1", "2"]),
        ("tcp-client", &["127.0.0.1"]),
        ("tcp-client", &["127.0.0.1", "-5"]),
    ];
    for (program, args) in cases {
        ctx.program(program).args(*args).timeout(Duration::from_secs(2)).run()?.expect_usage_error()?;
    }
    Ok(())
}
