//! Which executables are graded: a crate of this workspace, built here, or
//! any folder of executables.
//!
//! The starter's binaries carry the contract's names (`pipe-message`). The
//! reference's carry the suffix `-ref` (`pipe-message-ref`) so that building
//! the whole workspace never makes two files of one name in `target/`; the
//! grader maps them back to the contract's names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::proc::{self, Input, Spec};

/// Suffix of the reference crate's binaries.
pub const REFERENCE_SUFFIX: &str = "-ref";

/// The executables to grade, by contract name.
#[derive(Debug, Clone)]
pub struct Programs {
    map: BTreeMap<String, PathBuf>,
    /// Where they come from, for reports (`the starter`, `bin dir X`).
    pub origin: String,
    /// Used for programs missing from `map`.
    fallback_dir: Option<PathBuf>,
    /// Programs that did not compile, with the compiler's first error.
    not_built: BTreeMap<String, String>,
}

impl Programs {
    /// Programs in a folder, each under its contract name.
    pub fn from_dir(dir: &Path) -> Programs {
        Programs {
            map: BTreeMap::new(),
            origin: format!("the folder {}", dir.display()),
            fallback_dir: Some(dir.to_owned()),
            not_built: BTreeMap::new(),
        }
    }

    /// Programs from a map of contract name to path.
    pub fn from_map(map: BTreeMap<String, PathBuf>, origin: String) -> Programs {
        Programs { map, origin, fallback_dir: None, not_built: BTreeMap::new() }
    }

    /// The compiler's first error for a program that did not compile.
    pub fn not_built(&self, name: &str) -> Option<&str> {
        self.not_built.get(name).map(String::as_str)
    }

    /// Every program that did not compile, with its first error.
    pub fn failed(&self) -> impl Iterator<Item = (&String, &String)> {
        self.not_built.iter()
    }

    /// Records that `name` did not compile (for batch copies of a build).
    pub fn set_not_built(&mut self, name: String, error: String) {
        self.not_built.insert(name, error);
    }

    /// Every program named in the map.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &PathBuf)> {
        self.map.iter()
    }

    /// Where the programs are: each file of the map, and the folder given
    /// (`--bin-dir`), whose files programs may also use (a script's own
    /// modules), with what its links point to (the folder is the
    /// instructor's: `ln -s` of each program is a way to make one). What a
    /// program under test may read and run of them.
    pub fn locations(&self) -> Vec<PathBuf> {
        let mut places: Vec<PathBuf> = self.map.values().cloned().collect();
        if let Some(dir) = &self.fallback_dir {
            places.push(dir.clone());
            let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
            let linked = entries.filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()));
            places.extend(linked.filter_map(|e| std::fs::canonicalize(e.path()).ok()));
        }
        places
    }

    /// The same programs, copied under `stage` (a file of the map as
    /// `stage/NAME`; the folder's files, what its links point to, and its
    /// folders, into `stage/`): for programs under test that may not reach
    /// where they are.
    pub fn staged(&self, stage: &Path) -> std::io::Result<Programs> {
        let mut staged = self.clone();
        for (name, path) in staged.map.iter_mut() {
            if path.is_file() {
                let copy = stage.join(name);
                std::fs::copy(&*path, &copy)?;
                *path = copy;
            }
        }
        if let Some(dir) = &staged.fallback_dir {
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                let (from, to) = (entry.path(), stage.join(entry.file_name()));
                if entry.file_type()?.is_dir() {
                    crate::sandbox::copy_folder(&from, &to)?;
                } else if from.is_file() {
                    std::fs::copy(&from, &to)?;
                }
            }
            staged.fallback_dir = Some(stage.to_owned());
        }
        Ok(staged)
    }

    /// The path of a program (which may not exist).
    pub fn path(&self, name: &str) -> PathBuf {
        if let Some(path) = self.map.get(name) {
            return path.clone();
        }
        match &self.fallback_dir {
            Some(dir) => dir.join(name),
            None => PathBuf::from(format!("(no binary named {name} was built)")),
        }
    }
}

/// A crate of this workspace that can be built and graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crate {
    Starter,
    Reference,
    /// The deliberately broken programs (for the grader's own tests).
    Broken,
}

impl Crate {
    pub fn package(self) -> &'static str {
        match self {
            Crate::Starter => "ipc-starter",
            Crate::Reference => "ipc-reference",
            Crate::Broken => "ipc-broken",
        }
    }

    /// The crate's folder in the workspace.
    fn folder(self) -> &'static str {
        match self {
            Crate::Starter => "starter",
            Crate::Reference => "reference",
            Crate::Broken => "broken",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Crate::Starter => "",
            Crate::Reference => REFERENCE_SUFFIX,
            Crate::Broken => "-broken",
        }
    }
}

/// The workspace this grader belongs to (where `cargo build` runs).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the grader lives in the workspace").to_owned()
}

/// Why a build gave no programs at all.
#[derive(Debug)]
pub enum BuildError {
    /// The crate does not build, and no program could be attributed an error
    /// (a broken Cargo.toml, say): cargo's messages.
    Compile { package: String, messages: String },
    /// Cargo could not be run, or the build ran out of time.
    Cargo(String),
}

/// Passes cargo's stderr (its `Compiling ...` lines) on to the grader's own
/// stderr as it comes, line by line, but for cargo's summary of a failed
/// build (`error: could not compile ...`, `warning: build failed, waiting
/// for other jobs ...`): the compiler's errors reach the grader as JSON on
/// stdout and are shown after the build, each under the program it stops,
/// so a summary printed before them would come before the error itself.
#[derive(Default)]
struct Relay {
    passed: usize,
}

impl Relay {
    fn pass_on(&mut self, stderr: &[u8], at_end: bool) {
        use std::io::Write;
        let fresh = &stderr[self.passed.min(stderr.len())..];
        let complete = match fresh.iter().rposition(|&b| b == b'\n') {
            Some(end) => end + 1,
            None if at_end => fresh.len(),
            None => 0,
        };
        let mut out = std::io::stderr().lock();
        for line in fresh[..complete].split_inclusive(|&b| b == b'\n') {
            let text = String::from_utf8_lossy(line);
            let summary = text.trim_start();
            if summary.starts_with("error: could not compile") || summary.starts_with("warning: build failed") {
                continue;
            }
            let _ = out.write_all(line);
        }
        let _ = out.flush();
        self.passed += complete;
    }
}

/// A finished build: the programs and how many warnings the compiler gave.
pub struct Built {
    pub programs: Programs,
    pub warnings: usize,
}

#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    target: Option<CargoTarget>,
    #[serde(default)]
    message: Option<CompilerMessage>,
    #[serde(default)]
    success: Option<bool>,
}

#[derive(Deserialize)]
struct CargoTarget {
    name: String,
    kind: Vec<String>,
}

#[derive(Deserialize)]
struct CompilerMessage {
    #[serde(default)]
    message: String,
    level: String,
    #[serde(default)]
    rendered: Option<String>,
}

/// Builds `krate`'s binaries with cargo (progress on stderr) and returns
/// them by contract name. `time_limit` bounds the build.
///
/// Cargo runs with `--keep-going`: a program that does not compile costs
/// only itself (and a lab's shared module only that lab's programs, which
/// compile it in); every other program is built and graded. The ones that
/// failed are in [`Programs::failed`], each with the compiler's first error.
pub fn build(
    krate: Crate,
    manifest_dir: &Path,
    target_dir: Option<&Path>,
    time_limit: Duration,
) -> Result<Built, BuildError> {
    build_profile(krate, manifest_dir, target_dir, time_limit, false, None)
}

/// Builds a submission's starter in its sandbox (`sandbox::build`): the
/// workspace `work/ws` into `work/target`, offline, with only `programs`
/// if given (as [`build_programs`]).
pub fn build_submission(
    work: &crate::sandbox::build::Work,
    sandbox: &crate::sandbox::build::BuildSandbox,
    time_limit: Duration,
    programs: Option<&[&str]>,
) -> Result<Built, BuildError> {
    // The build's own view of its folder (`sandbox::build::SEEN_AT`).
    let seen = crate::sandbox::build::Work { root: sandbox.seen_at.clone().unwrap_or_else(|| work.root.clone()) };
    let how = Confined { sandbox };
    cargo_build(Crate::Starter, &seen.workspace(), Some(&seen.target()), time_limit, false, programs, Some(how))
}

/// How a build of student code runs: its cargo, environment and sandbox.
struct Confined<'s> {
    sandbox: &'s crate::sandbox::build::BuildSandbox,
}

/// As [`build`], but only the programs named (contract names), when the
/// crate's manifest declares them: grading one lab builds that lab's
/// programs, not all of them (a batch of a class, a first `cargo grade
/// pipe`). Programs the manifest does not declare are left to grading to
/// report as missing; when it declares none of them, or cannot be read,
/// every program is built (and cargo says what is wrong with the manifest).
pub fn build_programs(
    krate: Crate,
    manifest_dir: &Path,
    target_dir: Option<&Path>,
    time_limit: Duration,
    programs: &[&str],
) -> Result<Built, BuildError> {
    build_profile(krate, manifest_dir, target_dir, time_limit, false, Some(programs))
}

/// The `[[bin]]` names `krate`'s manifest declares, or `None` when it cannot
/// be read.
fn declared_bins(krate: Crate, manifest_dir: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(manifest_dir.join(krate.folder()).join("Cargo.toml")).ok()?;
    let manifest: toml::Table = text.parse().ok()?;
    let bins = manifest.get("bin")?.as_array()?;
    Some(bins.iter().filter_map(|b| b.get("name")?.as_str().map(str::to_string)).collect())
}

/// Cargo's arguments choosing the binaries: `--bin NAME` for each of
/// `programs` the manifest declares, else `--bins` (all of them).
fn bin_args(krate: Crate, manifest_dir: &Path, programs: Option<&[&str]>) -> Vec<std::ffi::OsString> {
    let chosen: Vec<String> = match (programs, declared_bins(krate, manifest_dir)) {
        (Some(programs), Some(declared)) => {
            programs.iter().map(|p| format!("{p}{}", krate.suffix())).filter(|bin| declared.contains(bin)).collect()
        }
        _ => Vec::new(),
    };
    if chosen.is_empty() {
        return vec!["--bins".into()];
    }
    chosen.into_iter().flat_map(|bin| ["--bin".into(), bin.into()]).collect()
}

/// As [`build`], optimised (`--release`) if `release` is set (what the
/// benchmark measures), and only `programs` if given (see [`build_programs`]).
pub fn build_profile(
    krate: Crate,
    manifest_dir: &Path,
    target_dir: Option<&Path>,
    time_limit: Duration,
    release: bool,
    programs: Option<&[&str]>,
) -> Result<Built, BuildError> {
    cargo_build(krate, manifest_dir, target_dir, time_limit, release, programs, None)
}

fn cargo_build(
    krate: Crate,
    manifest_dir: &Path,
    target_dir: Option<&Path>,
    time_limit: Duration,
    release: bool,
    programs: Option<&[&str]>,
    confined: Option<Confined>,
) -> Result<Built, BuildError> {
    let cargo = match &confined {
        Some(c) => c.sandbox.cargo.clone().into_os_string(),
        None => std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
    };
    let mut args: Vec<std::ffi::OsString> = vec![
        "build".into(),
        "--manifest-path".into(),
        manifest_dir.join("Cargo.toml").into(),
        "--package".into(),
        krate.package().into(),
    ];
    args.extend(bin_args(krate, manifest_dir, programs));
    args.extend(["--keep-going".into(), "--message-format=json".into()]);
    if release {
        args.push("--release".into());
    }
    // Cargo's stderr is a pipe to the grader (see `Relay`): keep its colours
    // where the grader's own stderr is a terminal.
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        args.push("--color=always".into());
    }
    if let Some(dir) = target_dir {
        args.push("--target-dir".into());
        args.push(dir.into());
    }
    if confined.is_some() {
        args.push("--offline".into());
    }
    let mut spec = Spec {
        program: cargo.into(),
        arg0: None,
        args,
        cwd: manifest_dir.to_owned(),
        env: Vec::new(),
        stdin: Input::Null,
        output_cap: 64 << 20,
        // Captured, and passed on line by line as it comes (see below).
        inherit_stderr: false,
        clear_env: false,
        confine: None,
    };
    if let Some(c) = &confined {
        spec.clear_env = true;
        spec.env = c.sandbox.env.clone();
        spec.confine = Some(c.sandbox.confine.clone());
        // Cargo reads a `.cargo/config.toml` in each folder above the one it
        // runs in: from `/`, none but the root's, which the sandbox checks.
        spec.cwd = PathBuf::from("/");
    }
    let mut running = proc::spawn(&spec).map_err(|e| BuildError::Cargo(format!("cannot run cargo: {e}")))?;
    let until = Instant::now() + time_limit;
    let mut relay = Relay::default();
    let exit = loop {
        let exit = running.wait_until(until.min(Instant::now() + Duration::from_millis(100)));
        relay.pass_on(&running.stderr.bytes(), false);
        if exit.is_some() || Instant::now() >= until {
            break exit;
        }
    };
    if exit.is_none() {
        running.kill_group();
        return Err(BuildError::Cargo(format!("the build took longer than {}s and was stopped", time_limit.as_secs())));
    }
    running.stderr.wait_eof(Instant::now() + Duration::from_secs(5));
    relay.pass_on(&running.stderr.bytes(), true);
    running.stdout.wait_eof(Instant::now() + Duration::from_secs(5));
    let stdout = running.stdout.bytes();
    let mut programs = BTreeMap::new();
    let mut errors = Vec::new();
    let mut first_errors: BTreeMap<String, String> = BTreeMap::new();
    let mut warnings = 0;
    let mut success = false;
    for line in stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(msg) = serde_json::from_slice::<CargoMessage>(line) else { continue };
        match msg.reason.as_str() {
            "compiler-artifact" => {
                if let (Some(exe), Some(target)) = (msg.executable, msg.target) {
                    if target.kind.iter().any(|k| k == "bin") {
                        let name = target.name.strip_suffix(krate.suffix()).unwrap_or(&target.name).to_string();
                        let exe = match &confined {
                            Some(c) => c.sandbox.outside(&exe),
                            None => exe,
                        };
                        programs.insert(name, exe);
                    }
                }
            }
            "compiler-message" => {
                if let Some(m) = msg.message {
                    match m.level.as_str() {
                        "error" | "error: internal compiler error" => {
                            let rendered = m.rendered.unwrap_or(m.message);
                            if let Some(target) = msg.target.filter(|t| t.kind.iter().any(|k| k == "bin")) {
                                let name = target.name.strip_suffix(krate.suffix()).unwrap_or(&target.name);
                                first_errors.entry(name.to_string()).or_insert_with(|| rendered.clone());
                            }
                            errors.push(rendered);
                        }
                        "warning" => warnings += 1,
                        _ => {}
                    }
                }
            }
            "build-finished" => success = msg.success == Some(true),
            _ => {}
        }
    }
    if !success && first_errors.is_empty() {
        let messages = if errors.is_empty() {
            format!("cargo build failed ({}); run `cargo build -p {}` to see why", exit.unwrap(), krate.package())
        } else {
            errors.join("\n")
        };
        return Err(BuildError::Compile { package: krate.package().to_string(), messages });
    }
    let origin = match krate {
        Crate::Starter => "the starter (your code)".to_string(),
        Crate::Reference => "the reference solution".to_string(),
        Crate::Broken => "the broken programs".to_string(),
    };
    let mut programs = Programs::from_map(programs, origin);
    programs.not_built = first_errors;
    Ok(Built { programs, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workspace whose crates declare `pipe-message` and `pipeline`
    /// (with each crate's suffix).
    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for krate in [Crate::Starter, Crate::Reference] {
            let bins: String = ["pipe-message", "pipeline"]
                .iter()
                .map(|p| format!("[[bin]]\nname = \"{p}{}\"\npath = \"src/pipe/{p}.rs\"\n", krate.suffix()))
                .collect();
            std::fs::create_dir(dir.path().join(krate.folder())).unwrap();
            std::fs::write(
                dir.path().join(krate.folder()).join("Cargo.toml"),
                format!("[package]\nname = \"x\"\n{bins}"),
            )
            .unwrap();
        }
        dir
    }

    fn args(root: &Path, krate: Crate, programs: Option<&[&str]>) -> Vec<String> {
        bin_args(krate, root, programs).into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn only_the_programs_asked_for_and_declared_are_built() {
        let ws = workspace();
        let root = ws.path();
        let pipe = ["pipe-message", "pipeline", "no-such-program"];
        assert_eq!(args(root, Crate::Reference, Some(&pipe)), ["--bin", "pipe-message-ref", "--bin", "pipeline-ref"]);
        assert_eq!(args(root, Crate::Starter, Some(&pipe)), ["--bin", "pipe-message", "--bin", "pipeline"]);
        // Every program, when none is asked for or none asked for is declared.
        assert_eq!(args(root, Crate::Starter, None), ["--bins"]);
        assert_eq!(args(root, Crate::Starter, Some(&["no-such-program"])), ["--bins"]);
    }

    #[test]
    fn an_unreadable_manifest_builds_every_program() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("starter")).unwrap();
        std::fs::write(dir.path().join("starter/Cargo.toml"), "[[bin]\nname = ").unwrap();
        let args = bin_args(Crate::Starter, dir.path(), Some(&["pipeline"]));
        assert_eq!(args, [std::ffi::OsString::from("--bins")]);
    }
}
