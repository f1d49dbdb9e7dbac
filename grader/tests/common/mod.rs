//! Helpers shared by the grader's integration tests: reading the results
//! that reach GitHub Classroom and Gradescope the way they read them, and
//! folders of the reference's programs with one broken twin.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use ipc_engine::build::{self, Crate, Programs};
use ipc_engine::proc::{self, Collected, Spec};

use serde_json::Value;

/// Largest encoded Classroom result a test accepts (the grader aims under
/// 60 KiB; Linux refuses an environment string over 128 KiB).
pub const CLASSROOM_BOUND: usize = 64 * 1024;

/// What GitHub Classroom's grading reporter v1 makes of one runner's
/// result, reimplemented from its source: base64, JSON, the sum of
/// `tests[].score` over `max_score` (it posts `Points SUM/MAX`), and the
/// decoded JSON. Panics with the reason wherever the reporter would fail.
pub struct Classroom {
    pub encoded_len: usize,
    pub points: u64,
    pub max: u64,
    pub json: Value,
}

impl Classroom {
    /// From the `result=...` line the grader appended to `$GITHUB_OUTPUT`.
    pub fn from_github_output(path: &Path) -> Classroom {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("no $GITHUB_OUTPUT at {}: {e}", path.display()));
        let line = text.lines().find_map(|l| l.strip_prefix("result=")).expect("a result= line");
        Classroom::decode(line)
    }

    pub fn decode(encoded: &str) -> Classroom {
        use base64::Engine as _;
        assert!(!encoded.is_empty(), "empty result: the reporter fails with `Unexpected end of JSON input`");
        let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).expect("the result is base64");
        let json: Value = serde_json::from_slice(&bytes).expect("the result is JSON");
        let max = json["max_score"].as_u64().expect("an integer max_score (the reporter posts nothing without it)");
        assert!(max > 0, "max_score 0: the reporter posts no points");
        let tests = json["tests"].as_array().expect("a tests array");
        let mut points = 0;
        for t in tests {
            points += t["score"].as_u64().unwrap_or_else(|| panic!("a test without an integer score: {t}"));
            assert!(t["name"].is_string(), "a test without a name: {t}");
            assert!(["pass", "fail", "error"].contains(&t["status"].as_str().unwrap_or_default()), "status: {t}");
            assert_eq!(t["line_no"], 0, "line_no: {t}");
            for key in ["message", "test_code", "filename", "execution_time"] {
                assert!(t[key].is_string(), "tests[].{key} is not a string: {t}");
            }
        }
        assert!(["pass", "fail", "error"].contains(&json["status"].as_str().unwrap_or_default()));
        assert_eq!(json["version"], 1);
        Classroom { encoded_len: encoded.len(), points, max, json }
    }

    /// Checks that passed, by name.
    pub fn passed(&self) -> BTreeSet<String> {
        self.json["tests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["status"] == "pass")
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    }
}

/// The lines of a GitHub Actions log that the runner acts on as workflow
/// commands, reimplemented from actions/runner (ActionCommandManager,
/// ActionCommand.TryParseV2 and TryParse): a line that starts with `::`
/// after blanks (`::NAME PROPERTIES::DATA`), or that holds `##[NAME]`
/// anywhere, NAME one of the runner's commands; `::stop-commands::TOKEN`
/// silences every command until one named TOKEN (either form).
pub fn workflow_commands(log: &str) -> Vec<String> {
    const COMMANDS: &[&str] = &[
        "add-mask",
        "add-matcher",
        "add-path",
        "debug",
        "echo",
        "endgroup",
        "error",
        "group",
        "notice",
        "remove-matcher",
        "save-state",
        "set-env",
        "set-output",
        "stop-commands",
        "warning",
    ];
    let known = |name: &str, token: Option<&str>| {
        COMMANDS.iter().any(|c| c.eq_ignore_ascii_case(name)) || token.is_some_and(|t| t.eq_ignore_ascii_case(name))
    };
    let command = |line: &str, token: Option<&str>| -> Option<(String, String)> {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("::") {
            if let Some(end) = rest.find("::") {
                let name = rest[..end].split(' ').next().unwrap_or_default();
                if known(name, token) {
                    return Some((name.to_string(), rest[end + 2..].to_string()));
                }
            }
        }
        let at = line.find("##[")?;
        let rest = &line[at + 3..];
        let end = rest.find(']')?;
        let name = rest[..end].split(' ').next().unwrap_or_default();
        known(name, token).then(|| (name.to_string(), rest[end + 1..].to_string()))
    };
    let mut stopped: Option<String> = None;
    let mut acted = Vec::new();
    for line in log.lines() {
        let Some((name, data)) = command(line, stopped.as_deref()) else { continue };
        match &stopped {
            Some(token) => {
                if name.eq_ignore_ascii_case(token) {
                    acted.push(line.to_string());
                    stopped = None;
                }
            }
            None => {
                acted.push(line.to_string());
                if name.eq_ignore_ascii_case("stop-commands") {
                    stopped = Some(data);
                }
            }
        }
    }
    acted
}

/// A folder for a checkout that a test grades with `cargo grade` and the
/// target folder the heavy tests share (target/aux-test), emptied first:
/// always the same path, for the launcher gives each checkout its own
/// build folder under a target folder that is not its own (keyed by the
/// checkout's path), and a new path each run would build the grader's
/// libraries anew each run, and keep them.
pub fn stable_checkout(name: &str) -> PathBuf {
    let dir = build::workspace_root().join("target/aux-test/checkouts").join(name);
    let left = ipc_engine::remove::tree(&dir);
    assert!(left.is_empty(), "cannot clear {}: {left:?}", dir.display());
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    dir
}

/// The keys Gradescope's results.json specification allows.
pub const GRADESCOPE_TOP: &[&str] = &[
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
];
pub const GRADESCOPE_TEST: &[&str] = &[
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
];

/// Panics unless `json` has only keys of Gradescope's specification.
pub fn assert_gradescope_keys(json: &Value) {
    for key in json.as_object().expect("an object").keys() {
        assert!(GRADESCOPE_TOP.contains(&key.as_str()), "results.json has `{key}`, not in Gradescope's specification");
    }
    for t in json["tests"].as_array().expect("tests") {
        for key in t.as_object().unwrap().keys() {
            assert!(GRADESCOPE_TEST.contains(&key.as_str()), "tests[] has `{key}`, not in Gradescope's specification");
        }
    }
}

/// Builds a crate of the workspace once per test binary.
pub fn built(krate: Crate) -> &'static Programs {
    static REFERENCE: OnceLock<Programs> = OnceLock::new();
    static BROKEN: OnceLock<Programs> = OnceLock::new();
    let cell = match krate {
        Crate::Reference => &REFERENCE,
        Crate::Broken => &BROKEN,
        Crate::Starter => unreachable!("the starter is built by the grader itself"),
    };
    cell.get_or_init(|| match build::build(krate, &build::workspace_root(), None, Duration::from_secs(900)) {
        Ok(built) => built.programs,
        Err(e) => panic!("cannot build {}: {e:?}", krate.package()),
    })
}

/// A folder of the reference's programs in which `program` is replaced by
/// its broken twin with `fault` switched on.
pub fn bin_dir_with_fault(dir: &Path, program: &str, fault: &str) {
    for (name, exe) in built(Crate::Reference).iter() {
        std::os::unix::fs::symlink(exe, dir.join(name)).unwrap();
    }
    std::fs::remove_file(dir.join(program)).unwrap();
    faulty(dir, program, fault);
}

/// Makes `dir/PROGRAM` a script that runs `program`'s broken twin with
/// `fault` switched on (none if empty). The twin is linked into the same
/// folder (`.PROGRAM-broken`), where the sandbox lets a program under test
/// run it; the script switches the fault on itself (programs under test
/// get none of the grader's environment).
pub fn faulty(dir: &Path, program: &str, fault: &str) {
    let twin: PathBuf = built(Crate::Broken).path(program);
    assert!(twin.is_file(), "no broken twin of {program}: {}", twin.display());
    std::os::unix::fs::symlink(&twin, dir.join(format!(".{program}-broken"))).unwrap();
    // `${0%/*}`, not `$(dirname "$0")`: a check that watches the program's
    // children (sig-reaper's) must not see the shell's.
    let script = format!("#!/bin/sh\nIPC_FAULT='{fault}' exec \"${{0%/*}}/.{program}-broken\" \"$@\"\n");
    let target = dir.join(program);
    std::fs::write(&target, script).unwrap();
    let mut perms = std::fs::metadata(&target).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&target, perms).unwrap();
}

/// A copy of this repository (no target/ or .git/) in which every lab has
/// one hidden check, `secret-LAB`, in `grader/src/hidden/LAB.rs`, with its
/// rubric entry. Returns the marker strings that must not reach a template.
pub fn repository_with_a_hidden_check_per_lab(copy: &Path) -> Vec<String> {
    ipc_grader::export::copy_tree(&build::workspace_root(), copy).unwrap();
    let mut markers = Vec::new();
    let mut arms = String::new();
    let mut mods = String::new();
    for lab in ipc_grader::labs::LABS {
        let check = format!("secret-{}", lab.name);
        let marker = format!("SECRET_MARKER_{}", lab.name.to_uppercase());
        std::fs::write(
            copy.join(format!("grader/src/hidden/{}.rs", lab.name)),
            format!(
                "use ipc_engine::check::{{Check, Fail}};\nuse ipc_engine::ctx::Ctx;\n\npub fn checks() -> Vec<Check> {{\n    vec![Check::new(\"{check}\", run)]\n}}\n\nfn run(_: &mut Ctx) -> Result<(), Fail> {{\n    Err(Fail::new(\"{marker}\"))\n}}\n"
            ),
        )
        .unwrap();
        mods.push_str(&format!("mod {};\n", lab.name));
        arms.push_str(&format!("        \"{0}\" => {0}::checks(),\n", lab.name));
        let rubric = copy.join(format!("rubric/{}.toml", lab.name));
        let mut text = std::fs::read_to_string(&rubric).unwrap();
        text.push_str(&format!(
            "\n[[check]]\nname = \"{check}\"\npoints = 3\ntime_limit = 5\nhidden = true\ntests = \"{marker} in the table.\"\nhint = \"A hint that names {marker} and says more than six words.\"\n"
        ));
        std::fs::write(&rubric, text).unwrap();
        markers.push(check);
        markers.push(marker);
    }
    std::fs::write(
        copy.join("grader/src/hidden/mod.rs"),
        format!(
            "use ipc_engine::check::Check;\n\n{mods}\npub fn checks(lab: &str) -> Vec<Check> {{\n    match lab {{\n{arms}        _ => Vec::new(),\n    }}\n}}\n"
        ),
    )
    .unwrap();
    markers
}

/// Runs `program` to the end through the grader's own spawn (only one party
/// may reap children in a test process that grades), with `NO_COLOR`.
pub fn run_to_end(program: &str, args: &[&str], cwd: &Path) -> Collected {
    let mut spec = Spec::new(program, args.iter().copied(), cwd);
    spec.env = vec![("NO_COLOR".into(), "1".into())];
    proc::output(spec, Duration::from_secs(600)).expect("runs")
}

/// The checks of a JSON report that did not pass, each with its output.
pub fn failed_checks(report: &Value) -> Vec<String> {
    report["tests"]
        .as_array()
        .expect("tests[]")
        .iter()
        .filter(|t| t["status"] != "passed")
        .map(|t| format!("{}: {}", t["name"], t["output"].as_str().unwrap_or_default()))
        .collect()
}
