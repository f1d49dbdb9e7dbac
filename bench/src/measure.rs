//! The measurements: each runs the programs (or a baseline) `runs` times and
//! gives one [`Figure`] per quantity.

use std::ffi::{CString, OsString};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ipc_engine::build::{self, Programs};
use ipc_engine::proc::{self, Exit, Input, Proc, Spec};
use nix::sys::signal::Signal;

use super::Figure;

// Lab `rpc`'s figures (a child module: it uses this one's helpers).
#[path = "rpc.rs"]
mod rpc;

// Start-up figures, per-message figures, and the C baselines (issue 21).
#[path = "versus_c.rs"]
mod versus_c;
use versus_c::STARTUP_ARGS;

/// The longest any one run may take before it counts as hung.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// Messages per `mq-send` process and `mq-send` processes per run, by size.
/// Many processes per run (about half a second): a run's rate depends on
/// where the scheduler puts the two sides, and a long run averages over
/// many placements (with 5 and 10 processes, single runs of one program
/// went from 0.5x to 1x of its best rate).
const MQ_PLAN: [(usize, usize, usize); 2] = [(64, 8000, 20), (4096, 200, 40)];
/// Messages given to the one long-running `mq-send` of a per-message run
/// (fewer if its arguments would not fit), by size.
const MQ_STREAM_PLAN: [(usize, usize); 2] = [(64, 16000), (4096, 300)];

/// Texts (of `SYSV_TEXT` bytes) written and read back per `sysv-shm` run.
const SYSV_ROUNDS: usize = 200;
const SYSV_TEXT: usize = 1000;
/// Clients writing into one FIFO at once, and 64-byte lines each sends.
const FIFO_PLAN: (usize, usize) = (4, 250_000);

pub struct Bench {
    programs: Programs,
    /// The tuned variants of bench/tuned/, when they built and a figure
    /// that has them is wanted.
    tuned: std::sync::OnceLock<versus_c::TunedPrograms>,
    size: u64,
    runs: usize,
    rounds: usize,
    only: Vec<String>,
    /// A folder in /dev/shm holding the input (and the copies while they run).
    dir: tempfile::TempDir,
    input: PathBuf,
}

/// A unique POSIX IPC name for this process.
fn ipc_name(base: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("/ipc-bench-{}-{base}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Runs `/bin/sh -c SCRIPT sh ARGS...` to the end and returns how long it took.
fn timed_sh(script: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> anyhow::Result<Duration> {
    let spec = sh_spec(script, args, Input::Null);
    let started = Instant::now();
    let mut running = proc::spawn(&spec).context("cannot start /bin/sh")?;
    let exit = finish(&mut running, started + RUN_LIMIT)?;
    let elapsed = started.elapsed();
    if exit != Exit::Code(0) {
        running.stderr.wait_eof(Instant::now() + Duration::from_secs(2));
        bail!("`{}` ended with {exit}: {}", running.command, String::from_utf8_lossy(&running.stderr.bytes()).trim());
    }
    Ok(elapsed)
}

fn sh_spec(script: &str, args: &[&dyn AsRef<std::ffi::OsStr>], stdin: Input) -> Spec {
    let mut argv: Vec<OsString> = vec!["-c".into(), script.into(), "sh".into()];
    argv.extend(args.iter().map(|a| a.as_ref().to_owned()));
    let mut spec = Spec::new("/bin/sh", argv, std::env::temp_dir());
    spec.stdin = stdin;
    spec.output_cap = 1 << 20;
    spec
}

/// Waits for `running` until `deadline`, killing it if it is late.
fn finish(running: &mut Proc, deadline: Instant) -> anyhow::Result<Exit> {
    match running.wait_until(deadline) {
        Some(exit) => Ok(exit),
        None => {
            running.kill_group();
            bail!("`{}` took longer than {}s and was killed", running.command, RUN_LIMIT.as_secs())
        }
    }
}

/// Ends a server: SIGTERM, then SIGKILL to its group if it lingers.
fn stop(mut server: Proc) {
    let _ = server.signal(Signal::SIGTERM);
    if server.wait_timeout(Duration::from_secs(2)).is_none() {
        server.kill_group();
        server.wait_timeout(Duration::from_secs(2));
    }
}

/// Starts a server (`tcp-server`/`udp-server` 0) and returns it with its port.
fn start_server(program: &Path) -> anyhow::Result<(Proc, u16)> {
    let mut spec = Spec::new(program, ["0"], std::env::temp_dir());
    spec.output_cap = 1 << 20;
    let mut server = proc::spawn(&spec).with_context(|| format!("cannot start {}", program.display()))?;
    let port = server.stdout.wait_for(Instant::now() + Duration::from_secs(10), |bytes| {
        let text = std::str::from_utf8(bytes).ok()?;
        let line = text.lines().next().filter(|_| text.contains('\n'))?;
        line.strip_prefix("listening on ")?.rsplit(':').next()?.parse::<u16>().ok()
    });
    match port {
        Some(port) => Ok((server, port)),
        None => {
            server.kill_group();
            bail!("{} printed no `listening on ADDR` line", program.display())
        }
    }
}

impl Bench {
    pub fn new(programs: Programs, size: u64, runs: usize, rounds: usize, only: Vec<String>) -> anyhow::Result<Bench> {
        let dir =
            tempfile::Builder::new().prefix("ipc-bench-").tempdir_in("/dev/shm").context("a folder in /dev/shm")?;
        let input = dir.path().join("input");
        // Text lines of 64 bytes: what a pipe usually carries, and no byte
        // pattern a program could skip.
        let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&input)?);
        let mut line = [b'x'; 64];
        line[63] = b'\n';
        let mut left = size;
        let mut n = 0u64;
        while left > 0 {
            let digits = format!("{n:016}");
            line[..16].copy_from_slice(digits.as_bytes());
            let take = left.min(64) as usize;
            file.write_all(&line[..take])?;
            left -= take as u64;
            n += 1;
        }
        file.flush()?;
        Ok(Bench { programs, tuned: std::sync::OnceLock::new(), size, runs, rounds, only, dir, input })
    }

    fn wanted(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|w| name.contains(w.as_str()))
    }

    fn program(&self, name: &str) -> anyhow::Result<PathBuf> {
        let path = self.programs.path(name);
        if !path.exists() {
            bail!("no program {name} at {}", path.display());
        }
        Ok(path)
    }

    fn mb_per_s(&self, elapsed: Duration) -> f64 {
        self.size as f64 / 1e6 / elapsed.as_secs_f64()
    }

    /// `runs` throughput runs of `one`, as MB/s.
    fn throughput(
        &self,
        name: &str,
        baseline: bool,
        command: String,
        mut one: impl FnMut() -> anyhow::Result<Duration>,
    ) -> anyhow::Result<Option<Figure>> {
        if !self.wanted(name) {
            return Ok(None);
        }
        eprint!("ipc-bench: {name} ...");
        let mut values = Vec::new();
        for _ in 0..self.runs {
            let elapsed = one().with_context(|| format!("measuring {name}"))?;
            values.push(self.mb_per_s(elapsed));
        }
        let figure = Figure::new("throughput", name, baseline, "MB/s", values, command);
        eprintln!(" {:.0} MB/s", figure.median);
        Ok(Some(figure))
    }

    /// Every figure wanted, and notes on what was left out and why.
    pub fn all(&self) -> anyhow::Result<(Vec<Figure>, Vec<String>)> {
        let mut figures = Vec::new();
        let mut notes = Vec::new();
        // The C baselines, if a figure that uses them is wanted.
        let c = if ["start-up", "mq", "tcp", "ring", "mq-send", "mq-recv", "tcp-server", "tcp-client", "mmap-copy"]
            .iter()
            .any(|w| self.wanted(w))
        {
            match versus_c::CPrograms::build() {
                Ok(c) => Some(c),
                Err(note) => {
                    eprintln!("ipc-bench: {note}");
                    notes.push(note);
                    None
                }
            }
        } else {
            None
        };
        let c = c.as_ref();
        // The tuned variants, if a figure that has them is wanted.
        if ["mq", "ring"].iter().any(|w| self.wanted(w)) {
            eprintln!("ipc-bench: building the tuned variants (bench/tuned) ...");
            match versus_c::TunedPrograms::build() {
                Ok(tuned) => {
                    let _ = self.tuned.set(tuned);
                }
                Err(note) => {
                    eprintln!("ipc-bench: {note}");
                    notes.push(note);
                }
            }
        }
        if self.wanted("start-up") || STARTUP_ARGS.iter().any(|(name, _)| self.wanted(name)) {
            figures.extend(self.startups(c, &mut notes)?);
        }
        let input = self.input.clone();
        let out = self.dir.path().join("copy");
        let gib = format!("{} bytes", self.size);

        // Baselines.
        figures.extend(self.throughput("memcpy (in-process)", true, format!("memcpy of {gib}"), || self.memcpy())?);
        figures.extend(self.throughput(
            "read alone, 64 KiB pieces (ring ceiling)",
            true,
            format!("read(2) of INPUT into one 64 KiB buffer ({gib})"),
            || self.read_only(),
        )?);
        if self.wanted("threads") {
            let values = (0..self.runs).map(|_| parallel_speedup()).collect();
            let figure = Figure::new(
                "machine",
                "busy threads: 2 against 1",
                true,
                "x",
                values,
                "the same busy loop in one thread, then in two at once: how much more work 2 CPUs do".into(),
            );
            eprintln!("ipc-bench: 2 busy threads do {:.2}x the work of one", figure.median);
            figures.push(figure);
        }
        figures.extend(self.throughput(
            "cat | cat (shell)",
            true,
            format!("sh -c 'cat < INPUT | cat > /dev/null' ({gib})"),
            || timed_sh("cat < \"$1\" | cat > /dev/null", &[&input]),
        )?);
        figures.extend(self.throughput("cp", true, format!("cp INPUT /dev/shm/COPY ({gib})"), || {
            let t = timed_sh("exec cp \"$1\" \"$2\"", &[&input, &out]);
            let _ = std::fs::remove_file(&out);
            t
        })?);
        figures.extend(self.throughput(
            "TCP loopback echo (in-process)",
            true,
            format!("an in-process echo over 127.0.0.1 ({gib})"),
            || self.loopback_echo(),
        )?);

        // The labs' programs.
        if self.wanted("pipeline") {
            let pipeline = self.program("pipeline")?;
            figures.extend(self.throughput(
                "pipeline \"cat\" \"cat\"",
                false,
                format!("pipeline cat cat < INPUT > /dev/null ({gib})"),
                || timed_sh("exec \"$1\" cat cat < \"$2\" > /dev/null", &[&pipeline, &input]),
            )?);
        }
        // The next three with their C baselines, if built, run for run.
        if self.wanted("ring") {
            let name = "ring-producer + ring-consumer";
            if self.wanted(name) {
                figures.extend(self.throughput_against_c(
                    c,
                    name,
                    &["ring-producer", "ring-consumer"],
                    |who| format!("{who}ring-producer NAME < INPUT & {who}ring-consumer NAME > /dev/null ({gib})"),
                    |p| {
                        let ring = ipc_name("ring");
                        let t = timed_sh(
                            "\"$1\" \"$3\" < \"$4\" & p=$!; \"$2\" \"$3\" > /dev/null || exit 1; wait $p",
                            &[&p[0], &p[1], &ring, &input],
                        );
                        if let Ok(c) = CString::new(ring) {
                            let _ = nix::sys::mman::shm_unlink(c.as_c_str());
                        }
                        t
                    },
                )?);
            }
            figures.extend(self.throughput_against_c(
                c,
                "ring-fork",
                &["ring-fork"],
                |who| format!("{who}ring-fork < INPUT > /dev/null ({gib})"),
                |p| timed_sh("exec \"$1\" < \"$2\" > /dev/null", &[&p[0], &input]),
            )?);
        }
        if self.wanted("mmap-copy") {
            figures.extend(self.throughput_against_c(
                c,
                "mmap-copy",
                &["mmap-copy"],
                |who| format!("{who}mmap-copy INPUT /dev/shm/COPY ({gib})"),
                |p| {
                    let t = timed_sh("exec \"$1\" \"$2\" \"$3\"", &[&p[0], &input, &out]);
                    let _ = std::fs::remove_file(&out);
                    t
                },
            )?);
        }
        if self.wanted("tcp") {
            figures.extend(self.throughput_against_c(
                c,
                "tcp-client + tcp-server (echo)",
                &["tcp-server", "tcp-client"],
                |who| format!("{who}tcp-client 127.0.0.1 PORT < INPUT > /dev/null, {who}tcp-server 0 ({gib})"),
                |p| {
                    let (running, port) = start_server(&p[0])?;
                    let port = port.to_string();
                    let t = timed_sh("exec \"$1\" 127.0.0.1 \"$2\" < \"$3\" > /dev/null", &[&p[1], &port, &input]);
                    stop(running);
                    t
                },
            )?);
        }
        if self.wanted("mq") {
            for (bytes, per_process, processes) in MQ_PLAN {
                figures.extend(self.mq(c, bytes, per_process, processes)?);
            }
            for (bytes, count) in MQ_STREAM_PLAN {
                figures.extend(self.mq_per_message(c, bytes, count)?);
            }
        }
        if self.wanted("sysv") {
            figures.extend(self.sysv()?);
        }
        if self.wanted("fifo") {
            figures.push(self.pipe_lines(FIFO_PLAN.0, FIFO_PLAN.1)?);
            figures.push(self.fifo(FIFO_PLAN.0, FIFO_PLAN.1)?);
        }
        if self.wanted("rpc") {
            figures.extend(self.rpc()?);
        }

        // Round trips.
        if self.wanted("cat") {
            figures.extend(
                self.latency("cat (shell)", true, "cat", |_| Ok((sh_spec("exec cat", &[], Input::Pipe), None)))?,
            );
        }
        if self.wanted("pipeline") {
            let pipeline = self.program("pipeline")?;
            figures.extend(self.latency("pipeline \"cat\"", false, "pipeline cat", |_| {
                Ok((Spec { stdin: Input::Pipe, ..Spec::new(&pipeline, ["cat"], std::env::temp_dir()) }, None))
            })?);
        }
        if self.wanted("ring") {
            let fork = self.program("ring-fork")?;
            figures.extend(self.latency("ring-fork", false, "ring-fork", |_| {
                Ok((
                    Spec { stdin: Input::Pipe, ..Spec::new(&fork, Vec::<OsString>::new(), std::env::temp_dir()) },
                    None,
                ))
            })?);
        }
        for (lab, server, client) in [("udp", "udp-server", "udp-client"), ("tcp", "tcp-server", "tcp-client")] {
            if !self.wanted(lab) {
                continue;
            }
            let server = self.program(server)?;
            let client = self.program(client)?;
            let label = format!(
                "{} (round trip)",
                if lab == "udp" { "udp-client + udp-server" } else { "tcp-client + tcp-server" }
            );
            figures.extend(self.latency(&label, false, &format!("{lab}-client 127.0.0.1 PORT"), |_| {
                let (running, port) = start_server(&server)?;
                let spec = Spec {
                    stdin: Input::Pipe,
                    ..Spec::new(&client, ["127.0.0.1".to_string(), port.to_string()], std::env::temp_dir())
                };
                Ok((spec, Some(running)))
            })?);
        }
        Ok((figures, notes))
    }

    /// memcpy of `size` bytes between two buffers already in memory.
    fn memcpy(&self) -> anyhow::Result<Duration> {
        let size = usize::try_from(self.size)?;
        let src = std::fs::read(&self.input)?;
        // Touch every page of the destination first: the copy, not the page
        // faults, is measured.
        let mut dst = vec![1u8; size];
        let started = Instant::now();
        dst.copy_from_slice(&src);
        std::hint::black_box(&mut dst);
        Ok(started.elapsed())
    }

    /// The input read into one 64 KiB buffer, over and over: the one copy
    /// that a ring's producer cannot avoid (page cache to memory), with no
    /// ring and no consumer. No ring can carry the stream faster.
    fn read_only(&self) -> anyhow::Result<Duration> {
        let mut file = std::fs::File::open(&self.input)?;
        let mut buf = vec![0u8; 64 * 1024];
        let started = Instant::now();
        while file.read(&mut buf)? != 0 {}
        std::hint::black_box(&mut buf);
        Ok(started.elapsed())
    }

    /// The same bytes from the input file to 127.0.0.1 and back, in-process:
    /// one thread sends, one echoes, one receives (and discards).
    fn loopback_echo(&self) -> anyhow::Result<Duration> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let size = self.size;
        let started = Instant::now();
        let echo = std::thread::spawn(move || -> std::io::Result<()> {
            let (mut stream, _) = listener.accept()?;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = stream.read(&mut buf)?;
                if n == 0 {
                    return Ok(());
                }
                stream.write_all(&buf[..n])?;
            }
        });
        let stream = TcpStream::connect(addr)?;
        let mut sending = stream.try_clone()?;
        let mut file = std::fs::File::open(&self.input)?;
        let sender = std::thread::spawn(move || -> std::io::Result<()> {
            std::io::copy(&mut file, &mut sending)?;
            sending.shutdown(std::net::Shutdown::Write)
        });
        let mut received = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        let mut stream = stream;
        loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                break;
            }
            received += n as u64;
        }
        let elapsed = started.elapsed();
        sender.join().map_err(|_| anyhow::anyhow!("sender panicked"))??;
        echo.join().map_err(|_| anyhow::anyhow!("echo panicked"))??;
        if received != size {
            bail!("loopback echo returned {received} of {size} bytes");
        }
        Ok(elapsed)
    }

    /// Texts per second through a segment, one `sysv-shm KEYFILE TEXT` run
    /// and one `sysv-shm KEYFILE` run per text (1000 bytes), next to the
    /// same two process starts doing nothing (`true`), and to `mmap-write` +
    /// `mmap-read` of the same text in a file in /dev/shm (where POSIX
    /// shared memory lives).
    fn sysv(&self) -> anyhow::Result<Vec<Figure>> {
        let sysv_shm = self.program("sysv-shm")?;
        let keyfile = self.dir.path().join("sysv-key");
        std::fs::write(&keyfile, b"")?;
        let shm_file = self.dir.path().join("sysv-posix");
        let text = "t".repeat(SYSV_TEXT);
        let len = SYSV_TEXT.to_string();
        // Each script: $1 rounds, then what one round needs.
        let round =
            |body: &str| format!("n=$1; shift; i=0; while [ $i -lt $n ]; do {body} || exit 1; i=$((i+1)); done");
        let mut plans: Vec<(&str, bool, String, Vec<OsString>, String)> = vec![
            ("process starts alone (2 x true)", true, round("/bin/true && /bin/true"), vec![], "true; true".into()),
            (
                "sysv-shm (write run + read run)",
                false,
                round("\"$1\" \"$2\" \"$3\" > /dev/null && \"$1\" \"$2\" > /dev/null"),
                vec![sysv_shm.into(), keyfile.clone().into(), text.clone().into()],
                format!("sysv-shm KEY TEXT; sysv-shm KEY ({SYSV_TEXT} B)"),
            ),
        ];
        if let (Ok(write), Ok(read)) = (self.program("mmap-write"), self.program("mmap-read")) {
            plans.push((
                "mmap-write + mmap-read, file in /dev/shm",
                false,
                round("\"$1\" \"$3\" 0 \"$4\" > /dev/null && \"$2\" \"$3\" 0 \"$5\" > /dev/null"),
                vec![write.into(), read.into(), shm_file.clone().into(), text.into(), len.into()],
                format!("mmap-write FILE 0 TEXT; mmap-read FILE 0 {SYSV_TEXT}"),
            ));
        }
        let rounds = SYSV_ROUNDS.to_string();
        let mut figures = Vec::new();
        for (name, baseline, script, words, what) in plans {
            eprint!("ipc-bench: {name} ...");
            let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&rounds];
            args.extend(words.iter().map(|w| w as &dyn AsRef<std::ffi::OsStr>));
            let mut values = Vec::new();
            for _ in 0..self.runs {
                let elapsed = timed_sh(&script, &args).with_context(|| format!("measuring {name}"))?;
                values.push(SYSV_ROUNDS as f64 / elapsed.as_secs_f64());
            }
            let command = format!("{SYSV_ROUNDS} x ({what}), each a new process");
            let figure = Figure::new("segments", name, baseline, "texts/s", values, command);
            eprintln!(" {:.0} texts/s", figure.median);
            figures.push(figure);
        }
        if let Some(segment) = ipc_engine::sysv::ftok(&keyfile, b'R').ok().and_then(ipc_engine::sysv::segment_of) {
            ipc_engine::sysv::remove(segment.id);
        }
        let _ = std::fs::remove_file(&shm_file);
        Ok(figures)
    }

    /// Lines per second from `clients` `fifo-client`s (each sends `lines`
    /// 64-byte lines from stdin, one write per line) into one `fifo-server`,
    /// from the clients' start until the server has printed the last line
    /// (its stdout is counted, not kept).
    fn fifo(&self, clients: usize, lines: usize) -> anyhow::Result<Figure> {
        let server = self.program("fifo-server")?;
        let client = self.program("fifo-client")?;
        let name = format!("fifo: {clients} clients, 64 B lines");
        eprint!("ipc-bench: {name} ...");
        let input = self.dir.path().join("fifo-lines");
        std::fs::write(&input, lines_of_64_bytes(lines))?;
        let count = clients.to_string();
        let mut values = Vec::new();
        for run in 0..self.runs {
            let path = self.dir.path().join(format!("fifo-{run}"));
            let mut spec = Spec::new(&server, [&path], std::env::temp_dir());
            spec.output_cap = 1 << 10;
            let mut running = proc::spawn(&spec).with_context(|| format!("cannot start {}", server.display()))?;
            let header = format!("listening on {}\n", path.display()).len() as u64;
            let listening =
                running.stdout.wait_for(Instant::now() + Duration::from_secs(10), |b| b.contains(&b'\n').then_some(()));
            if listening.is_none() {
                running.kill_group();
                bail!("{} printed no `listening on PATH` line", server.display());
            }
            let expected = header + (clients * lines * 64) as u64;
            let senders = sh_spec(
                "n=$1; shift; pids=; i=0; while [ $i -lt $n ]; do \"$1\" \"$2\" < \"$3\" & pids=\"$pids $!\"; i=$((i+1)); done; \
                 for p in $pids; do wait $p || exit 1; done",
                &[&count, &client, &path, &input],
                Input::Null,
            );
            let started = Instant::now();
            let mut sending = proc::spawn(&senders)?;
            // Done when the server has printed every line.
            while running.stdout.total() < expected && started.elapsed() < RUN_LIMIT && running.try_exit().is_none() {
                std::thread::sleep(Duration::from_millis(1));
            }
            let elapsed = started.elapsed();
            let sent = finish(&mut sending, started + RUN_LIMIT);
            let printed = running.stdout.total();
            stop(running);
            let _ = std::fs::remove_file(&path);
            if sent? != Exit::Code(0) || printed < expected {
                bail!("{name}: the clients failed, or the server printed {printed} of {expected} bytes");
            }
            values.push((clients * lines) as f64 / elapsed.as_secs_f64());
        }
        let _ = std::fs::remove_file(&input);
        let command = format!(
            "fifo-server PATH, then {clients} x fifo-client PATH < LINES at once ({lines} lines of 64 B each), until all are printed"
        );
        let figure = Figure::new("messages", &name, false, "lines/s", values, command);
        eprintln!(" {:.0} lines/s", figure.median);
        Ok(figure)
    }

    /// The FIFO figure's baseline: `writers` threads each write `lines`
    /// 64-byte lines, one write per line, into one anonymous pipe, which one
    /// thread reads; no processes start, and nothing is printed.
    fn pipe_lines(&self, writers: usize, lines: usize) -> anyhow::Result<Figure> {
        let name = format!("one pipe, {writers} writer threads, 64 B lines (in-process)");
        eprint!("ipc-bench: {name} ...");
        let text = lines_of_64_bytes(lines);
        let mut values = Vec::new();
        for _ in 0..self.runs {
            let (reader, writer) = nix::unistd::pipe()?;
            let started = Instant::now();
            let received = std::thread::scope(|scope| -> anyhow::Result<u64> {
                for _ in 0..writers {
                    let writer = writer.try_clone()?;
                    let text = &text;
                    scope.spawn(move || -> std::io::Result<()> {
                        let mut pipe = std::fs::File::from(writer);
                        text.chunks(64).try_for_each(|line| pipe.write_all(line))
                    });
                }
                drop(writer);
                let mut pipe = std::fs::File::from(reader);
                let mut buf = vec![0u8; 64 * 1024];
                let mut received = 0u64;
                loop {
                    match pipe.read(&mut buf)? {
                        0 => return Ok(received),
                        n => received += n as u64,
                    }
                }
            })?;
            let elapsed = started.elapsed();
            if received != (writers * text.len()) as u64 {
                bail!("{name}: {received} of {} bytes arrived", writers * text.len());
            }
            values.push((writers * lines) as f64 / elapsed.as_secs_f64());
        }
        let command =
            format!("{writers} threads x {lines} write(2)s of a 64 B line into one pipe(2), one thread reading");
        let figure = Figure::new("messages", &name, true, "lines/s", values, command);
        eprintln!(" {:.0} lines/s", figure.median);
        Ok(figure)
    }

    /// Round-trip latency: `rounds` lines written one at a time to a program's
    /// stdin, each timed until its reply line appears on stdout, after a
    /// warm-up. `start` gives the program (and a server to stop afterwards).
    fn latency(
        &self,
        name: &str,
        baseline: bool,
        command: &str,
        mut start: impl FnMut(usize) -> anyhow::Result<(Spec, Option<Proc>)>,
    ) -> anyhow::Result<Vec<Figure>> {
        if !self.wanted(name) && !self.wanted(command) {
            return Ok(Vec::new());
        }
        eprint!("ipc-bench: {name} round trips ...");
        let warmup = (self.rounds / 10).max(10);
        let (mut p50s, mut p99s) = (Vec::new(), Vec::new());
        for run in 0..self.runs {
            let (mut spec, server) = start(run)?;
            spec.output_cap = 64 << 20;
            let mut client = proc::spawn(&spec)?;
            let result = round_trips(&mut client, warmup, self.rounds);
            client.close_stdin();
            let exit = client.wait_timeout(Duration::from_secs(10));
            if exit.is_none() {
                client.kill_group();
            }
            if let Some(server) = server {
                stop(server);
            }
            let mut times = result.with_context(|| format!("{name}: {}", client.command))?;
            times.sort_by(f64::total_cmp);
            p50s.push(times[times.len() / 2]);
            p99s.push(times[(times.len() * 99 / 100).min(times.len() - 1)]);
        }
        let command = format!("{command}: {} lines one at a time, after {warmup} warm-up lines", self.rounds);
        let p50 = Figure::new("latency p50", name, baseline, "µs", p50s, command.clone());
        let p99 = Figure::new("latency p99", name, baseline, "µs", p99s, command);
        eprintln!(" p50 {:.1} µs, p99 {:.1} µs", p50.median, p99.median);
        Ok(vec![p50, p99])
    }
}

/// Writes `warmup + rounds` lines, one at a time, each waiting for a line on
/// stdout; returns the timed rounds in microseconds.
fn round_trips(client: &mut Proc, warmup: usize, rounds: usize) -> anyhow::Result<Vec<f64>> {
    let mut times = Vec::with_capacity(rounds);
    let mut seen = 0usize;
    for i in 0..warmup + rounds {
        let line = format!("{i:015}\n");
        let started = Instant::now();
        let stdin = client.stdin().context("stdin closed")?;
        stdin.write_all(line.as_bytes())?;
        stdin.flush()?;
        let deadline = started + Duration::from_secs(5);
        let end = client.stdout.wait_for(deadline, |bytes| {
            bytes.get(seen..).and_then(|rest| rest.iter().position(|&b| b == b'\n')).map(|at| seen + at + 1)
        });
        let Some(end) = end else {
            bail!("no reply to line {} within 5 s", i + 1);
        };
        seen = end;
        if i >= warmup {
            times.push(started.elapsed().as_secs_f64() * 1e6);
        }
    }
    Ok(times)
}

/// `count` distinct text lines of 64 bytes each (63 and a newline).
fn lines_of_64_bytes(count: usize) -> Vec<u8> {
    let mut text = Vec::with_capacity(count * 64);
    for n in 0..count {
        let line = format!("{n:016}{}\n", "x".repeat(47));
        text.extend_from_slice(line.as_bytes());
    }
    text
}

/// The sandbox's protections that a grading run can go without
/// (`IPC_GRADER_WITHOUT`): its cost is the difference. (The seccomp filter
/// and the cleared environment stay: they cost a system call or two.)
const SANDBOX_OFF: &str = "users,landlock,namespaces";

/// `cargo grade --target reference`, once to build, then `runs` times
/// timed, each time also with the sandbox off ([`SANDBOX_OFF`]), the two in
/// turn (which goes first alternates), so that each pair ran under the same
/// load: the pairs' ratios are the sandbox's cost.
pub fn grader(runs: usize) -> anyhow::Result<Vec<Figure>> {
    let root = build::workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let spec = |off: bool| {
        let mut spec = Spec::new(
            cargo.clone(),
            ["run", "--quiet", "--package", "ipc-grader", "--bin", "ipc-grader", "--", "--target", "reference"],
            &root,
        );
        if off {
            spec.env.push((ipc_engine::sandbox::WITHOUT_VAR.into(), SANDBOX_OFF.into()));
        }
        spec
    };
    let mut confined = Vec::new();
    let mut off = Vec::new();
    let mut last = String::new();
    for run in 0..=runs {
        let order = if run % 2 == 0 { [false, true] } else { [true, false] };
        for without in order {
            let started = Instant::now();
            let done = proc::output(spec(without), Duration::from_secs(900))?;
            let elapsed = started.elapsed();
            last = String::from_utf8_lossy(&done.stdout)
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_string();
            let how = if without {
                format!(" with {}={SANDBOX_OFF}", ipc_engine::sandbox::WITHOUT_VAR)
            } else {
                String::new()
            };
            if done.exit != Some(Exit::Code(0)) {
                bail!(
                    "cargo grade --target reference{how} failed ({:?}): {last}\n{}",
                    done.exit,
                    String::from_utf8_lossy(&done.stderr)
                );
            }
            if run == 0 {
                eprintln!("ipc-bench: built and graded once{how} (not timed): {last}");
                continue;
            }
            eprintln!("ipc-bench: cargo grade --target reference{how}: {:.1} s", elapsed.as_secs_f64());
            match without {
                true => off.push(elapsed.as_secs_f64()),
                false => confined.push(elapsed.as_secs_f64()),
            }
        }
    }
    Ok(vec![
        Figure::new(
            "grader",
            GRADER_FIGURE,
            false,
            "s",
            confined,
            format!("cargo grade --target reference; last line: {last}"),
        ),
        Figure::new(
            "grader",
            &format!("{GRADER_FIGURE}, sandbox off"),
            true,
            "s",
            off,
            format!("{}={SANDBOX_OFF} cargo grade --target reference", ipc_engine::sandbox::WITHOUT_VAR),
        ),
    ])
}

/// The name of the grading time's figure; its twin measured with the
/// sandbox off adds `, sandbox off`.
pub const GRADER_FIGURE: &str = "cargo grade --target reference (all labs, once built)";

/// How much more work two threads do than one, each spinning on the same
/// fixed amount of arithmetic: 2.0 on two real cores, less where the two CPUs
/// are hyperthreads of one core or share a host's core with others.
fn parallel_speedup() -> f64 {
    fn work() {
        let mut x = 0u64;
        for i in 0..200_000_000u64 {
            x = std::hint::black_box(x.wrapping_add(i));
        }
    }
    let started = Instant::now();
    work();
    let one = started.elapsed();
    let started = Instant::now();
    std::thread::scope(|s| {
        s.spawn(work);
        s.spawn(work);
    });
    2.0 * one.as_secs_f64() / started.elapsed().as_secs_f64()
}
