//! The labs' programs against C (issue 21), in three kinds of figure:
//!
//! - **Start-up**: microseconds per run of a program that only reads its
//!   arguments and exits (arguments the contract makes a usage error once
//!   all are read, so any correct program, in any language, exits 2 having
//!   done no IPC), started `STARTS` times from a shell loop, beside
//!   `/bin/true` (what the shell's fork and exec cost alone).
//! - **Messages/s per message**: one long-running `mq-send` with all its
//!   messages in its arguments, and one `mq-recv`, less the time of the same
//!   pair with 10 messages: what the messages cost, without process starts.
//! - **Baselines written in C** from the contract alone (`src/c/*.c`: the
//!   message queue, the TCP echo, the ring and `mmap-copy`), built with `cc -O2` into a temporary
//!   folder when the machine has a C compiler, and skipped with a note when
//!   it has not. Every run measures the labs' program and then its C
//!   baseline, so both see the same load, and the report gives the ratio of
//!   each pair besides the ratio of the medians.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ipc_engine::proc::{self, Exit, Input, Spec};

use super::{Bench, RUN_LIMIT, finish, ipc_name, sh_spec, timed_sh};
use crate::Figure;

/// Program starts timed per start-up run.
const STARTS: usize = 200;

/// The C baselines: contract name and source.
const C_SOURCES: [(&str, &str); 8] = [
    ("mq-send", include_str!("c/mq-send.c")),
    ("mq-recv", include_str!("c/mq-recv.c")),
    ("tcp-server", include_str!("c/tcp-server.c")),
    ("tcp-client", include_str!("c/tcp-client.c")),
    ("ring-producer", include_str!("c/ring-producer.c")),
    ("ring-consumer", include_str!("c/ring-consumer.c")),
    ("ring-fork", include_str!("c/ring-fork.c")),
    ("mmap-copy", include_str!("c/mmap-copy.c")),
];

/// Headers the baselines include, written beside them.
const C_HEADERS: [(&str, &str); 1] = [("ring.h", include_str!("c/ring.h"))];

/// Each program's start-up run: arguments that the contract makes a usage
/// error (exit status 2) only once every one of them has been read (a bad
/// IPC name, a number that does not parse, an operand missing or extra),
/// so the program reads its whole command line, prints one usage line and
/// exits, having done nothing else.
pub(super) const STARTUP_ARGS: [(&str, &[&str]); 25] = [
    ("pipe-message", &["--exit", "x", "text"]),
    ("pipeline", &[]),
    ("ring-producer", &["--capacity", "4096", "no-slash"]),
    ("ring-consumer", &["--wait", "10", "no-slash"]),
    ("ring-fork", &["--capacity", "x"]),
    ("mq-send", &["--priority", "1", "no-slash", "message"]),
    ("mq-recv", &["--count", "2", "no-slash"]),
    ("udp-server", &["--host", "127.0.0.1", "no-port"]),
    ("udp-client", &["--timeout", "100", "127.0.0.1", "no-port"]),
    ("tcp-server", &["--host", "127.0.0.1", "no-port"]),
    ("tcp-client", &["127.0.0.1", "no-port"]),
    ("sig-counter", &["extra"]),
    ("sig-reaper", &["x"]),
    ("sig-segv", &["extra"]),
    ("timeout-run", &["x", "true"]),
    ("mmap-write", &["FILE", "x", "text"]),
    ("mmap-read", &["FILE", "x", "1"]),
    ("mmap-counter", &["FILE", "x"]),
    ("mmap-private", &["FILE"]),
    ("mmap-copy", &["SRC"]),
    ("sysv-shm", &["KEYFILE", "TEXT", "extra"]),
    ("fifo-server", &[]),
    ("fifo-client", &[]),
    ("rpc-server", &["no-port"]),
    ("rpc-client", &["127.0.0.1", "no-port"]),
];

/// The C baselines, built.
pub struct CPrograms {
    dir: tempfile::TempDir,
}

impl CPrograms {
    /// Builds every baseline with `cc -O2` in a temporary folder (under
    /// $TMPDIR: /dev/shm may forbid running programs), or says why it could not.
    pub fn build() -> Result<CPrograms, String> {
        let dir = tempfile::Builder::new()
            .prefix("ipc-bench-c-")
            .tempdir()
            .map_err(|e| format!("no temporary folder for the C baselines: {e}"))?;
        for (name, text) in C_HEADERS {
            let file = dir.path().join(name);
            std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
        }
        for (name, source) in C_SOURCES {
            let file = dir.path().join(format!("{name}.c"));
            std::fs::write(&file, source).map_err(|e| format!("{}: {e}", file.display()))?;
            let args: [OsString; 4] = ["-O2".into(), "-o".into(), dir.path().join(name).into(), file.into()];
            let built = match proc::output(Spec::new("cc", args, dir.path()), Duration::from_secs(120)) {
                Ok(built) => built,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err("no C compiler (`cc`) on PATH: the C baselines and their comparisons are left out \
                                (install one, e.g. `apt-get install gcc`, to have them)"
                        .into());
                }
                Err(e) => return Err(format!("cannot run cc: {e}")),
            };
            if built.exit != Some(Exit::Code(0)) {
                let error = String::from_utf8_lossy(&built.stderr);
                let first = error.lines().take(3).collect::<Vec<_>>().join(" / ");
                return Err(format!("cc could not build the C baseline {name}.c, so it is left out: {first}"));
            }
        }
        Ok(CPrograms { dir })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn has(&self, name: &str) -> bool {
        C_SOURCES.iter().any(|(n, _)| *n == name)
    }
}

/// The tuned variants of bench/tuned/ (`NAME-tuned`: the C entry point of
/// the mq programs, the futex waiter of the ring, the static unwinder),
/// built in release mode, measured beside the reference as a case study.
pub struct TunedPrograms {
    dir: PathBuf,
}

impl TunedPrograms {
    /// The programs this crate has.
    const PROGRAMS: [&str; 5] = ["mq-send", "mq-recv", "ring-producer", "ring-consumer", "ring-fork"];

    /// Builds them (`cargo build --release -p ipc-bench-tuned`), or says why not.
    pub fn build() -> Result<TunedPrograms, String> {
        let root = ipc_engine::build::workspace_root();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let manifest = root.join("Cargo.toml");
        let args: Vec<OsString> = vec![
            "build".into(),
            "--quiet".into(),
            "--release".into(),
            "--manifest-path".into(),
            manifest.into(),
            "--package".into(),
            "ipc-bench-tuned".into(),
            "--message-format=json".into(),
        ];
        let built = proc::output(Spec::new(cargo, args, &root), Duration::from_secs(900))
            .map_err(|e| format!("cannot run cargo for the tuned variants: {e}"))?;
        if built.exit != Some(Exit::Code(0)) {
            let error = String::from_utf8_lossy(&built.stderr);
            return Err(format!(
                "the tuned variants (bench/tuned) do not build, so they are left out: {}",
                error.trim()
            ));
        }
        // Cargo names each executable in its JSON messages.
        let dir = String::from_utf8_lossy(&built.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .and_then(|exe| exe.parent().map(PathBuf::from))
            .ok_or("cargo named no executable of the tuned variants")?;
        Ok(TunedPrograms { dir })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}-tuned"))
    }

    /// Whether every one of `names` has a tuned variant.
    pub fn has_all(&self, names: &[&str]) -> bool {
        names.iter().all(|n| Self::PROGRAMS.contains(n) && self.path(n).exists())
    }
}

/// `NAME, tuned variant`.
pub fn tuned_name(name: &str) -> String {
    format!("{name}, tuned variant")
}

/// The name of a figure's C twin.
pub fn c_name(name: &str) -> String {
    format!("{name}, C baseline")
}

/// Pairs of runs at the least for a figure compared with its baseline
/// (`--runs` may ask for more).
pub const MIN_PAIRS: usize = 7;

/// One thing measured in alternation with others: its figure's name, whether
/// it is a baseline, the command as a person would type it, and one run.
pub type Entry<'a> = (String, bool, String, Box<dyn FnMut() -> anyhow::Result<f64> + 'a>);

impl Bench {
    /// `runs` rounds; each round runs every entry once, in turn, so that
    /// every entry sees the same changes of the machine's load. Every other
    /// round goes in the opposite order (A B, B A, ...): neither of a pair
    /// is always the one that runs first.
    pub(super) fn alternating(
        &self,
        group: &'static str,
        unit: &'static str,
        what: &str,
        mut entries: Vec<Entry<'_>>,
    ) -> anyhow::Result<Vec<Figure>> {
        // A comparison with a baseline gets at least MIN_PAIRS pairs: with
        // fewer, one disturbed pair moves the median of their ratios.
        let runs =
            if entries.iter().any(|(_, baseline, _, _)| *baseline) { self.runs.max(MIN_PAIRS) } else { self.runs };
        eprint!("ipc-bench: {what} ...");
        let mut values = vec![Vec::with_capacity(runs); entries.len()];
        for run in 0..runs {
            let mut order: Vec<usize> = (0..entries.len()).collect();
            if run % 2 == 1 {
                order.reverse();
            }
            for i in order {
                let (name, _, _, one) = &mut entries[i];
                values[i].push(one().with_context(|| format!("measuring {name}"))?);
            }
        }
        let figures: Vec<Figure> = entries
            .into_iter()
            .zip(values)
            .map(|((name, baseline, command, _), values)| Figure::new(group, &name, baseline, unit, values, command))
            .collect();
        let medians: Vec<String> = figures.iter().map(|f| format!("{:.0}", f.median)).collect();
        eprintln!(" {} {unit}", medians.join(" / "));
        Ok(figures)
    }

    /// Throughput of the labs' `programs` (contract names), one run being
    /// `one` given their paths, alternating run for run with the same run of
    /// their C baselines when they were built: the figures `name` and
    /// `name, C baseline`. `command` tells how, given "" or "C ".
    pub(super) fn throughput_against_c<'a>(
        &'a self,
        c: Option<&CPrograms>,
        name: &str,
        programs: &[&str],
        command: impl Fn(&str) -> String,
        one: impl Fn(&[PathBuf]) -> anyhow::Result<Duration> + Copy + 'a,
    ) -> anyhow::Result<Vec<Figure>> {
        let ours = programs.iter().map(|p| self.program(p)).collect::<anyhow::Result<Vec<_>>>()?;
        let mut versions = vec![(name.to_string(), false, "", ours)];
        if let Some(c) = c {
            versions.push((c_name(name), true, "C ", programs.iter().map(|p| c.path(p)).collect()));
        }
        if let Some(tuned) = self.tuned.get().filter(|t| t.has_all(programs)) {
            versions.push((tuned_name(name), true, "tuned ", programs.iter().map(|p| tuned.path(p)).collect()));
        }
        let entries = versions
            .into_iter()
            .map(|(label, baseline, who, paths)| -> Entry<'a> {
                (label, baseline, command(who), Box::new(move || Ok(self.mb_per_s(one(&paths)?))))
            })
            .collect();
        self.alternating("throughput", "MB/s", name, entries)
    }

    /// Microseconds per start of every program there is (and of its C
    /// baseline), next to `/bin/true`. A program whose start-up run does not
    /// end with the usage status 2 is left out, with a note.
    pub(super) fn startups(&self, c: Option<&CPrograms>, notes: &mut Vec<String>) -> anyhow::Result<Vec<Figure>> {
        let script = "n=$1; want=$2; shift 2; i=0; while [ $i -lt $n ]; do \"$@\" > /dev/null 2>&1; s=$?; \
                      [ $s -eq $want ] || { echo \"exit status $s, not $want\" >&2; exit 1; }; i=$((i+1)); done";
        let starts = STARTS.to_string();
        let mut entries: Vec<Entry<'_>> = Vec::new();
        let mut add = |name: String, baseline: bool, program: PathBuf, args: &[&str], want: u8| {
            let command = format!("{} {} (status {want}), {STARTS} times from a shell loop", name, args.join(" "));
            let mut words: Vec<OsString> = vec![starts.clone().into(), want.to_string().into(), program.into()];
            words.extend(args.iter().map(OsString::from));
            entries.push((
                name,
                baseline,
                command,
                Box::new(move || {
                    let words: Vec<&dyn AsRef<std::ffi::OsStr>> = words.iter().map(|w| w as _).collect();
                    Ok(timed_sh(script, &words)?.as_secs_f64() * 1e6 / STARTS as f64)
                }),
            ));
        };
        add("/bin/true (a process start alone)".into(), true, "/bin/true".into(), &[], 0);
        for (name, args) in STARTUP_ARGS {
            if !self.wanted("start-up") && !self.wanted(name) {
                continue;
            }
            let path = self.programs.path(name);
            if !path.exists() {
                notes.push(format!("start-up of {name}: no program at {}", path.display()));
                continue;
            }
            match usage_status(&path, args) {
                Ok(()) => add(name.to_string(), false, path, args, 2),
                Err(e) => {
                    notes.push(format!("start-up of {name} left out: `{name} {}` {e}", args.join(" ")));
                    continue;
                }
            }
            if let Some(c) = c.filter(|c| c.has(name)) {
                match usage_status(&c.path(name), args) {
                    Ok(()) => add(c_name(name), true, c.path(name), args, 2),
                    Err(e) => notes.push(format!("start-up of the C baseline {name} left out: {e}")),
                }
            }
        }
        self.alternating("start-up", "µs", "start-up per program (µs per start)", entries)
    }

    /// Messages per second through one queue, end to end (`processes` runs
    /// of `mq-send` with `per_process` messages each, while one `mq-recv`
    /// receives them all), for the labs' programs and the C baseline in turn.
    pub(super) fn mq(
        &self,
        c: Option<&CPrograms>,
        bytes: usize,
        per_process: usize,
        processes: usize,
    ) -> anyhow::Result<Vec<Figure>> {
        let name = mq_label(bytes);
        let total = per_process * processes;
        let command = |who: &str| {
            format!(
                "{processes} x {who}mq-send NAME MSG... ({per_process} messages of {bytes} B) while {who}mq-recv --count {total} NAME > /dev/null"
            )
        };
        let mut entries: Vec<Entry<'_>> = Vec::new();
        let (send, recv) = (self.program("mq-send")?, self.program("mq-recv")?);
        entries.push((
            name.clone(),
            false,
            command(""),
            Box::new(move || self.mq_once(&send, &recv, bytes, per_process, processes)),
        ));
        if let Some(c) = c {
            let (send, recv) = (c.path("mq-send"), c.path("mq-recv"));
            entries.push((
                c_name(&name),
                true,
                command("C "),
                Box::new(move || self.mq_once(&send, &recv, bytes, per_process, processes)),
            ));
        }
        if let Some(tuned) = self.tuned.get().filter(|t| t.has_all(&["mq-send", "mq-recv"])) {
            let (send, recv) = (tuned.path("mq-send"), tuned.path("mq-recv"));
            entries.push((
                tuned_name(&name),
                true,
                command("tuned "),
                Box::new(move || self.mq_once(&send, &recv, bytes, per_process, processes)),
            ));
        }
        self.alternating("messages", "msg/s", &name, entries)
    }

    fn mq_once(
        &self,
        send: &Path,
        recv: &Path,
        bytes: usize,
        per_process: usize,
        processes: usize,
    ) -> anyhow::Result<f64> {
        let total = per_process * processes;
        let message: String = "m".repeat(bytes);
        let queue = Queue::create(bytes)?;
        let count = total.to_string();
        let times = processes.to_string();
        let recv_spec =
            sh_spec("exec \"$1\" --count \"$2\" \"$3\" > /dev/null", &[&recv, &count, &queue.name], Input::Null);
        let mut send_args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&times, &send, &queue.name];
        send_args.extend(std::iter::repeat_n(&message as &dyn AsRef<std::ffi::OsStr>, per_process));
        let send_spec = sh_spec(
            "n=$1; shift; i=0; while [ $i -lt $n ]; do \"$@\" || exit 1; i=$((i+1)); done",
            &send_args,
            Input::Null,
        );
        let elapsed = run_pair(send, recv, &send_spec, &recv_spec)?;
        Ok(total as f64 / elapsed.as_secs_f64())
    }

    /// Messages per second between two long-running processes: one `mq-send`
    /// given `count` messages (as many as its arguments may hold), one
    /// `mq-recv --count`, less the same pair with `MQ_SHORT` messages, so
    /// that starting and ending the processes is not counted (repeated until
    /// `MQ_STREAM_TOTAL` messages have gone through).
    pub(super) fn mq_per_message(
        &self,
        c: Option<&CPrograms>,
        bytes: usize,
        count: usize,
    ) -> anyhow::Result<Vec<Figure>> {
        let count = count.min(args_room() / (bytes + 1 + std::mem::size_of::<usize>()));
        let name = format!("{}, per message (long-running)", mq_label(bytes));
        let command = |who: &str| {
            format!(
                "{who}mq-send NAME MSG... ({count} messages of {bytes} B in one process) and {who}mq-recv --count {count} NAME > /dev/null, less the same with {MQ_SHORT} messages, repeated for {MQ_STREAM_TOTAL} messages or more"
            )
        };
        let mut entries: Vec<Entry<'_>> = Vec::new();
        let (send, recv) = (self.program("mq-send")?, self.program("mq-recv")?);
        entries.push((name.clone(), false, command(""), Box::new(move || mq_stream(&send, &recv, bytes, count))));
        if let Some(c) = c {
            let (send, recv) = (c.path("mq-send"), c.path("mq-recv"));
            entries.push((c_name(&name), true, command("C "), Box::new(move || mq_stream(&send, &recv, bytes, count))));
        }
        if let Some(tuned) = self.tuned.get().filter(|t| t.has_all(&["mq-send", "mq-recv"])) {
            let (send, recv) = (tuned.path("mq-send"), tuned.path("mq-recv"));
            entries.push((
                tuned_name(&name),
                true,
                command("tuned "),
                Box::new(move || mq_stream(&send, &recv, bytes, count)),
            ));
        }
        self.alternating("messages", "msg/s", &name, entries)
    }
}

/// `mq 64 B messages`, `mq 4 KiB messages`.
pub fn mq_label(bytes: usize) -> String {
    if bytes >= 1024 { format!("mq {} KiB messages", bytes / 1024) } else { format!("mq {bytes} B messages") }
}

/// Bytes of arguments one program may be given, with a margin for the
/// environment (sysconf's ARG_MAX: usually a quarter of the stack limit).
fn args_room() -> usize {
    // SAFETY: sysconf only reads a system limit.
    let max = unsafe { libc::sysconf(libc::_SC_ARG_MAX) };
    usize::try_from(max).unwrap_or(128 * 1024).saturating_sub(64 * 1024) / 2
}

/// A queue made for one run (10 messages of `bytes`), unlinked when dropped.
struct Queue {
    name: String,
}

impl Queue {
    fn create(bytes: usize) -> anyhow::Result<Queue> {
        use nix::mqueue::{MQ_OFlag, MqAttr, mq_close, mq_open};
        let name = ipc_name("mq");
        let attr = MqAttr::new(0, 10, bytes as _, 0);
        let flags = MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDWR;
        let fd = mq_open(name.as_str(), flags, nix::sys::stat::Mode::from_bits_truncate(0o600), Some(&attr))
            .with_context(|| format!("mq_open {name}"))?;
        let _ = mq_close(fd);
        Ok(Queue { name })
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        let _ = nix::mqueue::mq_unlink(self.name.as_str());
    }
}

/// Messages given to the short runs that [`mq_stream`] subtracts.
const MQ_SHORT: usize = 10;
/// Messages a per-message figure's run moves in all, at the least: a long
/// and a short run are repeated until their long runs have carried this
/// many (one long run of 4 KiB messages holds only about 250 of them).
const MQ_STREAM_TOTAL: usize = 16000;

/// One per-message run (see [`Bench::mq_per_message`]): long runs of
/// `count` messages, each followed by a short run of `MQ_SHORT`, each with a
/// fresh pair of processes; the difference of the two total times is what
/// the extra messages cost, without the processes' starts and exits.
fn mq_stream(send: &Path, recv: &Path, bytes: usize, count: usize) -> anyhow::Result<f64> {
    let repeats = MQ_STREAM_TOTAL.div_ceil(count);
    let (mut long, mut short) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..repeats {
        long += mq_pair_once(send, recv, bytes, count)?;
        short += mq_pair_once(send, recv, bytes, MQ_SHORT)?;
    }
    if long <= short {
        bail!("{count} messages took no longer than {MQ_SHORT} ({long:?} against {short:?}): too few to time");
    }
    Ok((repeats * (count - MQ_SHORT)) as f64 / (long - short).as_secs_f64())
}

/// One `mq-send NAME MSG...` with `count` messages while `mq-recv --count
/// COUNT NAME > /dev/null` receives them: the time from starting both until
/// both have ended.
fn mq_pair_once(send: &Path, recv: &Path, bytes: usize, count: usize) -> anyhow::Result<Duration> {
    let queue = Queue::create(bytes)?;
    let count_text = count.to_string();
    let recv_spec =
        sh_spec("exec \"$1\" --count \"$2\" \"$3\" > /dev/null", &[&recv, &count_text, &queue.name], Input::Null);
    let message = "m".repeat(bytes);
    let args = std::iter::once(queue.name.clone()).chain(std::iter::repeat_n(message, count));
    let mut send_spec = Spec::new(send, args, std::env::temp_dir());
    send_spec.output_cap = 1 << 16;
    run_pair(send, recv, &send_spec, &recv_spec)
}

/// Starts the receiver, then the sender, waits for both, and returns the
/// time from the first start until both have ended; either failing is an
/// error with both programs' stderr.
fn run_pair(send: &Path, recv: &Path, send_spec: &Spec, recv_spec: &Spec) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut receiver = proc::spawn(recv_spec).with_context(|| format!("cannot start {}", recv.display()))?;
    let mut sender = proc::spawn(send_spec).with_context(|| format!("cannot start {}", send.display()))?;
    let sent = finish(&mut sender, started + RUN_LIMIT);
    let received = finish(&mut receiver, started + RUN_LIMIT);
    let elapsed = started.elapsed();
    if sent? != Exit::Code(0) || received? != Exit::Code(0) {
        receiver.kill_group();
        bail!(
            "{} or {} failed: {}{}",
            send.display(),
            recv.display(),
            String::from_utf8_lossy(&sender.stderr.bytes()),
            String::from_utf8_lossy(&receiver.stderr.bytes())
        );
    }
    Ok(elapsed)
}

/// Runs `program ARGS` once and checks it exits with the usage status 2.
fn usage_status(program: &Path, args: &[&str]) -> Result<(), String> {
    let done = proc::output(Spec::new(program, args, std::env::temp_dir()), Duration::from_secs(10))
        .map_err(|e| format!("could not start: {e}"))?;
    match done.exit {
        Some(Exit::Code(2)) => Ok(()),
        Some(exit) => Err(format!("ended with {exit}, not the usage status 2")),
        None => Err("did not end within 10 s".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start-up list names every program the reference builds, once:
    /// a lab added without its start-up arguments fails here.
    #[test]
    fn every_program_has_start_up_arguments() {
        let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../reference/Cargo.toml"))
            .expect("reference/Cargo.toml");
        let mut built: Vec<&str> = manifest
            .lines()
            .filter_map(|l| l.trim().strip_prefix("name = \""))
            .filter_map(|l| l.strip_suffix("-ref\""))
            .collect();
        let mut listed: Vec<&str> = STARTUP_ARGS.iter().map(|(name, _)| *name).collect();
        built.sort_unstable();
        listed.sort_unstable();
        assert_eq!(listed, built, "add the missing programs to STARTUP_ARGS, with arguments that are a usage error");
    }

    /// The C baselines are complete programs: each source has a `main`, and
    /// `has` knows exactly them.
    #[test]
    fn the_c_baselines_are_the_programs_compared() {
        for (name, source) in C_SOURCES {
            assert!(source.contains("int main(int argc, char **argv)"), "{name}.c has no main");
        }
        let c = CPrograms { dir: tempfile::tempdir().expect("a temporary folder") };
        assert!(c.has("mq-send") && c.has("tcp-client") && c.has("ring-fork") && !c.has("pipeline"));
        assert_eq!(c_name("mq 64 B messages"), "mq 64 B messages, C baseline");
    }
}
