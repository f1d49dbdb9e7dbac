//! `cargo grade` (the alias in `.cargo/config.toml`) runs this small
//! program first. It has no dependencies, so cargo builds it in a second;
//! the grader itself and its libraries take about a minute on a two-core
//! machine the first time, which a `cargo run --quiet` of the grader would
//! spend in silence. This program says what is happening, lets cargo show
//! its progress on a first build, then replaces itself with the grader
//! (`exec`: same process, so Ctrl-C and exit statuses are the grader's).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus};
use std::time::{Duration, Instant};

/// A rebuild quieter than this says nothing.
const SILENT_FOR: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the launcher lives in the workspace").to_owned();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // This program and the grader share a target folder and profile.
    let grader: PathBuf = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name("ipc-grader"),
        Err(e) => return fail(&format!("cannot find where cargo put this program: {e}")),
    };
    let mut build = Command::new(&cargo);
    build.arg("build").arg("--manifest-path").arg(root.join("Cargo.toml"));
    build.args(["--package", "ipc-grader", "--bin", "ipc-grader", "--bin", "ipc-grader-peers"]);
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
        match build.status() {
            Ok(status) => status,
            Err(e) => return fail(&format!("cannot run cargo: {e}")),
        }
    };
    if !status.success() {
        return fail("the grader itself did not build (cargo's messages above say why)");
    }
    let error = Command::new(&grader).args(std::env::args_os().skip(1)).exec();
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

fn fail(why: &str) -> ExitCode {
    eprintln!("cargo grade: {why}");
    ExitCode::from(2)
}
