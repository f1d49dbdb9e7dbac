//! `cargo grade` (the alias in `.cargo/config.toml`) runs this small
//! program first. It has no dependencies, so cargo builds it in a second;
//! the grader itself and its libraries take about a minute on a two-core
//! machine the first time, which a `cargo run --quiet` of the grader would
//! spend in silence. This program says what is happening, lets cargo show
//! its progress on a first build, then replaces itself with the grader
//! (`exec`: same process, so Ctrl-C and exit statuses are the grader's).
//!
//! It grades the checkout cargo ran it for, with a grader built from that
//! checkout, whatever target folder it shares (see `checkout`).

mod checkout;

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A rebuild quieter than this says nothing.
const SILENT_FOR: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let checkout = match checkout::find() {
        Ok(checkout) => checkout,
        Err(why) => return fail(&why),
    };
    let (root, grader) = (&checkout.root, &checkout.grader);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(&cargo);
    build.arg("build").arg("--manifest-path").arg(root.join("Cargo.toml"));
    build.args(["--package", "ipc-grader", "--bin", "ipc-grader", "--bin", "ipc-grader-peers"]);
    if let Some(dir) = &checkout.target_dir {
        build.arg("--target-dir").arg(dir);
    }
    // In a GitHub Actions log, what cargo prints while it builds (messages
    // about the workspace's manifests, the student's among them) is no
    // workflow command: stopped around it, with cargo's stderr on stdout so
    // that the log keeps one order. The grader does the same around its
    // own builds and report (grader/src/workflow.rs).
    let github = github_format(std::env::args_os().skip(1));
    let stopped = github.then(stop_commands);
    if let Some(Ok(out)) = stopped.as_ref().map(|_| std::io::stdout().as_fd().try_clone_to_owned()) {
        build.stderr(Stdio::from(out));
    }
    let status = if grader.exists() {
        // Usually nothing to do (a fraction of a second); after an edit of
        // the rubric or the grader, a rebuild that says so.
        build.arg("--quiet");
        match wait_saying(&mut build) {
            Ok(status) => status,
            Err(e) => return fail(&format!("cannot run cargo: {e}")),
        }
    } else {
        eprintln!(
            "cargo grade: first run: building the grader and its libraries (about a minute on a two-core machine, \
             once; cargo shows its progress). Then it builds and grades your code."
        );
        if let Some(dir) = &checkout.target_dir {
            eprintln!(
                "cargo grade: the target folder is not this checkout's own, and may be shared with other \
                 checkouts: this checkout's grader and code are built in {}",
                dir.display()
            );
        }
        match build.status() {
            Ok(status) => status,
            Err(e) => return fail(&format!("cannot run cargo: {e}")),
        }
    };
    if let Some(token) = stopped {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "::{token}::");
        let _ = out.flush();
    }
    if !status.success() {
        return fail("the grader itself did not build (cargo's messages above say why)");
    }
    let mut run = Command::new(grader);
    run.args(std::env::args_os().skip(1));
    if let Some(dir) = &checkout.target_dir {
        // What the grader builds (your code) goes there too.
        run.env("CARGO_TARGET_DIR", dir);
    }
    let error = run.exec();
    fail(&format!("cannot start {}: {error}", grader.display()))
}

/// Runs a quiet build; one that takes longer than [`SILENT_FOR`] says why.
fn wait_saying(build: &mut Command) -> std::io::Result<ExitStatus> {
    let mut child = build.spawn()?;
    let started = Instant::now();
    let mut said = false;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if !said && started.elapsed() >= SILENT_FOR {
            eprintln!("cargo grade: the grader's files changed since it was built: rebuilding it (up to a minute)...");
            said = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the grader is asked for `--format github`.
fn github_format(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let args: Vec<std::ffi::OsString> = args.collect();
    args.iter().any(|a| a == "--format=github") || args.windows(2).any(|w| w[0] == "--format" && w[1] == "github")
}

/// Prints `::stop-commands::TOKEN` (128 bits from /dev/urandom, which no
/// student code sees) and returns the token.
fn stop_commands() -> String {
    let mut bytes = [0u8; 16];
    if std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).is_err() {
        // No /dev/urandom: the clock and this process, unknown in advance.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        bytes[..8].copy_from_slice(&now.as_nanos().to_le_bytes()[..8]);
        bytes[8..12].copy_from_slice(&std::process::id().to_le_bytes());
    }
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let token = format!("ipc-grade-{token}");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "::stop-commands::{token}");
    let _ = out.flush();
    token
}

fn fail(why: &str) -> ExitCode {
    eprintln!("cargo grade: {why}");
    ExitCode::from(2)
}
