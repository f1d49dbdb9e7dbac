//! Attacks on the grade, as the cleverest student of a class would try
//! them, in the two roads where a grade is official: Gradescope's
//! autograder (run as root, as Gradescope runs it) and batch grading.
//!
//! Each evil submission is the untouched starter (it honestly earns 0)
//! plus an attack, from its build script, from a program under test, or
//! from its files:
//!
//! - it forges the results (writes full marks where the results go),
//!   kills the grader, overwrites the grader's executable and sources,
//!   another student's checkout and the instructor's `~/.bashrc`;
//! - it reads the hidden checks, the instructor's secrets (a token in the
//!   grader's environment, `~/.config/gh/hosts.yml`) and prints them
//!   where the feedback shows them;
//! - it leaves a daemon (new session, clean environment) that does all of
//!   that again once the grader is done;
//! - its files are links: to a hidden check, to the instructor's secrets,
//!   to another student's solution.
//!
//! Each scores what it honestly earns (0), no file outside the submission
//! changes, no secret reaches any output, and no process is left. An
//! honest student graded beside them keeps full marks. Without the
//! sandbox, the same reach succeeds (the last test): the defences are
//! what stops it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipc_engine::build::workspace_root;
use ipc_engine::proc::{self, Collected, Exit, Spec};
use serde_json::Value;

mod common;
use common::repository_with_a_hidden_check_per_lab;

/// In every long-lived process an attack starts (`sleep 7777…`): what a
/// survivor is found by.
const SURVIVOR: &str = "77770";

/// The token in the grader's environment that no program may see.
const TOKEN: &str = "ghp_attackTestTokenThatMustNotLeak";

/// The instructor's GitHub credentials, in a file a link points to.
const HOSTS: &str = "oauth_token: gho_hostsFileSecretThatMustNotLeak";

/// What an attack reaches for.
struct Targets {
    /// Where results are written: forged.
    results: Vec<PathBuf>,
    /// Files outside the submission: each must stay as it is.
    canaries: Vec<PathBuf>,
    /// Files whose text must not reach any output.
    secrets: Vec<PathBuf>,
}

/// The attack, as a shell script: run by a build script, or by a program
/// under test. `sh -c` keeps it in one place for both.
fn attack(t: &Targets) -> String {
    let list = |paths: &[PathBuf]| paths.iter().map(|p| format!("'{}'", p.display())).collect::<Vec<_>>().join(" ");
    let (results, canaries, secrets) = (list(&t.results), list(&t.canaries), list(&t.secrets));
    format!(
        r#"
echo 'the attack ran' >&2
forged='{{"score": 999, "output": "forged", "tests": []}}'
for f in {results}; do printf '%s' "$forged" > "$f"; done
for f in {canaries}; do printf 'pwned\n' >> "$f"; done
for f in {secrets}; do cat "$f" >&2; done
env >&2
cat /proc/*/environ >&2
for p in /proc/[0-9]*; do
  case "$(cat "$p/cmdline" 2>/dev/null | tr '\0' ' ')" in
    *ipc-grader*|*run_autograder*) kill -9 "${{p#/proc/}}";;
  esac
done
( env -i setsid sh -c 'sleep {SURVIVOR}1 & sleep 3; for f in {results}; do printf pwned > "$f"; done; for f in {canaries}; do printf late >> "$f"; done; wait' & ) 2>/dev/null
exit 0
"#
    )
}

/// A starter that attacks from its build script (cargo runs it as it
/// builds): otherwise untouched.
fn from_build(dir: &Path, script: &str) {
    copy_starter(dir);
    let build = format!(
        "fn main() {{\n    let _ = std::process::Command::new(\"sh\").arg(\"-c\").arg({script:?}).status();\n    \
         println!(\"cargo::warning=the build script ran its attack\");\n}}\n"
    );
    std::fs::write(dir.join("starter/build.rs"), build).unwrap();
}

/// A starter whose `pipe-message` attacks when it runs: otherwise untouched.
fn from_program(dir: &Path, script: &str) {
    copy_starter(dir);
    let program = format!(
        "fn main() {{\n    let _ = std::process::Command::new(\"sh\").arg(\"-c\").arg({script:?}).status();\n}}\n"
    );
    std::fs::write(dir.join("starter/src/pipe/pipe-message.rs"), program).unwrap();
}

/// A starter whose files are links: `pipe-message.rs` to another student's
/// solution, `pipeline.rs` to a hidden check's source, and a text file to
/// the instructor's credentials.
fn with_links(dir: &Path, solution: &Path, hidden: &Path, hosts: &Path) {
    copy_starter(dir);
    let src = dir.join("starter/src/pipe");
    std::fs::remove_file(src.join("pipe-message.rs")).unwrap();
    std::fs::remove_file(src.join("pipeline.rs")).unwrap();
    std::os::unix::fs::symlink(solution, src.join("pipe-message.rs")).unwrap();
    std::os::unix::fs::symlink(hidden, src.join("pipeline.rs")).unwrap();
    std::os::unix::fs::symlink(hosts, dir.join("starter/notes.txt")).unwrap();
}

/// An honest student: the reference's pipe programs.
fn honest(dir: &Path) {
    copy_starter(dir);
    for program in ["pipe-message", "pipeline"] {
        let from = workspace_root().join(format!("reference/src/pipe/{program}.rs"));
        std::fs::copy(from, dir.join(format!("starter/src/pipe/{program}.rs"))).unwrap();
    }
    std::fs::copy(workspace_root().join("reference/src/pipe/mod.rs"), dir.join("starter/src/pipe/mod.rs")).unwrap();
}

fn copy_starter(dir: &Path) {
    ipc_grader::export::copy_tree(&workspace_root().join("starter"), &dir.join("starter")).unwrap();
}

/// Every canary's bytes, to compare after.
fn snapshot(paths: &[PathBuf]) -> BTreeMap<PathBuf, Vec<u8>> {
    paths.iter().map(|p| (p.clone(), std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))).collect()
}

fn assert_unchanged(before: &BTreeMap<PathBuf, Vec<u8>>, when: &str) {
    for (path, bytes) in before {
        let now = std::fs::read(path).unwrap_or_default();
        assert!(now == *bytes, "{when}: {} was changed", path.display());
    }
}

/// Live processes an attack left (their command line holds [`SURVIVOR`]).
fn survivors() -> Vec<String> {
    let mut found = Vec::new();
    for pid in ipc_engine::proc::procfs::pids() {
        let Some(cmdline) = ipc_engine::proc::procfs::cmdline(pid) else { continue };
        let zombie = matches!(proc::state(nix::unistd::Pid::from_raw(pid)), Some('Z') | Some('X') | None);
        if cmdline.contains(SURVIVOR) && !zombie {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}

/// Every secret's text (a line of it), and the hidden checks' markers.
fn secret_texts(secrets: &[PathBuf], markers: &[String]) -> Vec<String> {
    let mut texts: Vec<String> = vec![TOKEN.to_string(), HOSTS.to_string()];
    texts.extend(markers.iter().filter(|m| m.starts_with("SECRET_MARKER")).cloned());
    for path in secrets {
        if let Ok(text) = std::fs::read_to_string(path) {
            texts.extend(text.lines().filter(|l| l.len() > 30).take(3).map(str::to_string));
        }
    }
    texts
}

fn assert_no_secret(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(!text.contains(secret.as_str()), "{what} holds a secret ({secret}):\n{text}");
    }
}

fn run(program: &str, args: &[&str], cwd: &Path, env: &[(&str, PathBuf)]) -> Collected {
    let mut spec = Spec::new(program, args.iter().copied(), cwd);
    spec.env = env.iter().map(|(k, v)| ((*k).into(), v.clone().into())).collect();
    spec.env.push(("GH_TOKEN".into(), TOKEN.into()));
    spec.env.push(("CARGO_NET_OFFLINE".into(), "true".into()));
    proc::output(spec, Duration::from_secs(1500)).expect("runs")
}

/// The instructor's home: `.bashrc` (a canary) and the GitHub CLI's hosts
/// file (a secret).
fn home(dir: &Path) -> (PathBuf, PathBuf) {
    let bashrc = dir.join("home/.bashrc");
    let hosts = dir.join("home/.config/gh/hosts.yml");
    std::fs::create_dir_all(hosts.parent().unwrap()).unwrap();
    std::fs::write(&bashrc, "export PATH=$HOME/bin:$PATH\n").unwrap();
    std::fs::write(&hosts, format!("github.com:\n    {HOSTS}\n")).unwrap();
    (bashrc, hosts)
}

/// Gradescope's road: the autograder set up as Gradescope sets it up, as
/// root, and run_autograder on each evil submission.
#[test]
fn attacks_through_gradescope_earn_nothing_and_reach_nothing() {
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("repository");
    let markers = repository_with_a_hidden_check_per_lab(&copy);
    let zip_path = work.path().join("autograder.zip");
    ipc_grader::gradescope::export(&copy, &copy.join("rubric"), &zip_path, &["pipe".to_string()]).unwrap();
    let root = work.path().join("autograder");
    let file = std::fs::File::open(&zip_path).unwrap();
    zip::ZipArchive::new(file).unwrap().extract(root.join("source")).unwrap();
    let home_dir = PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()));
    let target = workspace_root().join("target/aux-test");
    let env = [
        ("AUTOGRADER_ROOT", root.clone()),
        (
            "IPC_CARGO_HOME",
            std::env::var_os("CARGO_HOME").map(PathBuf::from).unwrap_or_else(|| home_dir.join(".cargo")),
        ),
        (
            "IPC_RUSTUP_HOME",
            std::env::var_os("RUSTUP_HOME").map(PathBuf::from).unwrap_or_else(|| home_dir.join(".rustup")),
        ),
        ("CARGO_TARGET_DIR", target.clone()),
    ];
    let setup = run("bash", &[root.join("source/setup.sh").to_str().unwrap()], &root, &env);
    assert_eq!(setup.exit, Some(Exit::Code(0)), "setup.sh: {}", String::from_utf8_lossy(&setup.stderr));

    let (bashrc, hosts) = home(work.path());
    let ws = root.join("source/ipc-labs");
    let targets = Targets {
        results: vec![root.join("results/results.json"), root.join("results/results.json.grader")],
        canaries: vec![
            bashrc,
            ws.join("grader/src/lib.rs"),
            ws.join("rubric/pipe.toml"),
            target.join("debug/ipc-grader"),
            root.join("source/run_autograder"),
        ],
        secrets: vec![ws.join("grader/src/hidden/pipe.rs"), ws.join("rubric/pipe.toml"), hosts.clone()],
    };
    let secrets = secret_texts(&targets.secrets, &markers);
    let before = snapshot(&targets.canaries);
    let script = attack(&targets);
    let honest_solution = work.path().join("honest");
    honest(&honest_solution);

    type Make<'a> = Box<dyn Fn(&Path) + 'a>;
    let submissions: Vec<(&str, Make)> = vec![
        ("build script", Box::new(|d: &Path| from_build(d, &script))),
        ("program under test", Box::new(|d: &Path| from_program(d, &script))),
        (
            "links",
            Box::new(|d: &Path| {
                let solution = honest_solution.join("starter/src/pipe/pipe-message.rs");
                with_links(d, &solution, &ws.join("grader/src/hidden/pipe.rs"), &hosts)
            }),
        ),
    ];
    for (how, make) in &submissions {
        let submission = root.join("submission");
        let _ = std::fs::remove_dir_all(&submission);
        make(&submission);
        let out = run("bash", &[root.join("source/run_autograder").to_str().unwrap()], &root, &env);
        assert_eq!(out.exit, Some(Exit::Code(0)), "{how}: run_autograder: {}", String::from_utf8_lossy(&out.stderr));
        // The daemon acts 3 s after the grading: past that, nothing changed.
        std::thread::sleep(Duration::from_secs(5));
        let text = std::fs::read_to_string(root.join("results/results.json")).unwrap();
        let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{how}: results.json ({e}): {text}"));
        assert_eq!(json["score"].as_f64(), Some(0.0), "{how}: earned points:\n{text}");
        assert!(json["tests"].as_array().is_some_and(|t| !t.is_empty()), "{how}: no checks in {text}");
        // What the student sees before grades are published: the hidden
        // checks' own entries (shown after) hold their texts by design.
        let mut seen = json["output"].as_str().unwrap_or_default().to_string();
        for t in json["tests"].as_array().unwrap().iter().filter(|t| t["visibility"] != "after_published") {
            seen.push_str(&t.to_string());
        }
        assert_no_secret(&format!("{how}: results.json"), &seen, &secrets);
        // No secret of the instructor's anywhere in it.
        assert_no_secret(&format!("{how}: results.json"), &text, &secrets[..2]);
        assert_unchanged(&before, how);
        let left = survivors();
        assert!(left.is_empty(), "{how}: processes outlived the grading: {left:#?}");
        // The attack did run, and was stopped.
        let log = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        match *how {
            "build script" => assert!(log.contains("the build script ran its attack"), "{how}: it never ran:\n{log}"),
            "program under test" => assert!(text.contains("the attack ran"), "{how}: it never ran:\n{text}"),
            _ => assert!(text.contains("left out of your submission"), "{how}: the links are not named: {text}"),
        }
    }
    // The honest student, graded after them, earns full marks.
    let submission = root.join("submission");
    let _ = std::fs::remove_dir_all(&submission);
    ipc_grader::export::copy_tree(&honest_solution, &submission).unwrap();
    let out = run("bash", &[root.join("source/run_autograder").to_str().unwrap()], &root, &env);
    assert_eq!(out.exit, Some(Exit::Code(0)));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("results/results.json")).unwrap()).unwrap();
    let visible: f64 = json["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["visibility"] != "after_published")
        .map(|t| t["max_score"].as_f64().unwrap())
        .sum();
    assert_eq!(json["score"].as_f64(), Some(visible), "the honest student lost points: {json}");
}

/// Batch grading, as root, of a class with three evil submissions and an
/// honest one: the evil earn 0, the honest full marks, nothing outside the
/// submissions changes (another student's checkout, the grader's
/// executables, the instructor's `.bashrc`), no secret in the gradebook,
/// the results or the feedback, no process left, and the results are
/// still the grader's afterwards.
#[test]
fn attacks_in_batch_earn_nothing_and_reach_nothing() {
    let work = tempfile::tempdir().unwrap();
    // The grader as an instructor installs it: its executables are canaries.
    let install = work.path().join("bin");
    std::fs::create_dir_all(&install).unwrap();
    for exe in [env!("CARGO_BIN_EXE_ipc-grader"), env!("CARGO_BIN_EXE_ipc-grader-peers")] {
        let to = install.join(Path::new(exe).file_name().unwrap());
        std::fs::copy(exe, &to).unwrap();
    }
    let grader = install.join("ipc-grader");
    let subs = work.path().join("submissions");
    let out = work.path().join("out");
    let (bashrc, hosts) = home(work.path());
    honest(&subs.join("ruth"));
    let ruth = subs.join("ruth/starter/src/pipe/pipe-message.rs");
    let targets = Targets {
        results: vec![out.join("results/eve.json"), out.join("grades.csv")],
        canaries: vec![bashrc, ruth.clone(), grader.clone(), install.join("ipc-grader-peers")],
        secrets: vec![hosts.clone(), workspace_root().join("rubric/pipe.toml")],
    };
    let secrets = secret_texts(std::slice::from_ref(&hosts), &[]);
    let before = snapshot(&targets.canaries);
    let script = attack(&targets);
    from_build(&subs.join("eve"), &script);
    from_program(&subs.join("mallory"), &script);
    with_links(&subs.join("oscar"), &ruth, &workspace_root().join("rubric/pipe.toml"), &hosts);

    let cache = workspace_root().join("target/aux-test/batch-cache");
    let args = ["--batch", subs.to_str().unwrap(), "--out", out.to_str().unwrap(), "--build-cache"];
    let mut args: Vec<&str> = args.to_vec();
    args.extend([cache.to_str().unwrap(), "pipe"]);
    let out_run = run(grader.to_str().unwrap(), &args, work.path(), &[("NO_COLOR", "1".into())]);
    assert_eq!(out_run.exit, Some(Exit::Code(0)), "{}", String::from_utf8_lossy(&out_run.stderr));
    std::thread::sleep(Duration::from_secs(5));

    let csv = std::fs::read_to_string(out.join("grades.csv")).unwrap();
    let total = |student: &str| -> u32 {
        let line = csv.lines().find(|l| l.starts_with(student)).unwrap_or_else(|| panic!("no {student} in {csv}"));
        line.split(',').nth(2).unwrap().parse().unwrap()
    };
    for evil in ["eve", "mallory", "oscar"] {
        assert_eq!(total(evil), 0, "{evil} earned points:\n{csv}");
    }
    let max: u32 = csv.lines().find(|l| l.starts_with("ruth")).unwrap().split(',').nth(3).unwrap().parse().unwrap();
    assert_eq!(total("ruth"), max, "the honest student lost points:\n{csv}");
    let feedback = std::fs::read_to_string(out.join("feedback/mallory.txt")).unwrap();
    assert!(feedback.contains("the attack ran"), "mallory's attack never ran:\n{feedback}");
    assert_unchanged(&before, "batch");
    let left = survivors();
    assert!(left.is_empty(), "processes outlived the batch: {left:#?}");
    for entry in walk(&out) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        assert_no_secret(&entry.display().to_string(), &text, &secrets);
    }
    // The results are still the grader's: a run again keeps every one.
    let again = run(grader.to_str().unwrap(), &args, work.path(), &[("NO_COLOR", "1".into())]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("4 submission(s) already graded are kept"), "{stderr}");
    assert!(!stderr.contains("changed after"), "{stderr}");
}

/// Without the sandbox (as on a machine without users, Landlock and
/// namespaces), the same reach succeeds: a program under test appends to
/// a file of the instructor's and prints the secrets into the feedback.
/// (Only this harmless part of the attack: it does not kill or forge.)
#[test]
fn without_the_sandbox_the_same_reach_succeeds() {
    let work = tempfile::tempdir().unwrap();
    let (bashrc, hosts) = home(work.path());
    let targets = Targets { results: Vec::new(), canaries: vec![bashrc.clone()], secrets: vec![hosts] };
    let script = format!("printf 'pwned\\n' >> '{}'; cat '{}' >&2\n", bashrc.display(), targets.secrets[0].display());
    from_program(&work.path().join("submission"), &script);
    let grader = env!("CARGO_BIN_EXE_ipc-grader");
    let cache = workspace_root().join("target/aux-test/batch-cache");
    let sub = work.path().join("submission");
    let args = ["--submission", sub.to_str().unwrap(), "--build-cache", cache.to_str().unwrap()];
    let mut args = args.to_vec();
    args.extend(["--verbose", "pipe::message-default"]);
    let unconfined = ("IPC_GRADER_WITHOUT", PathBuf::from("users,landlock,namespaces"));
    let out = run(grader, &args, work.path(), &[unconfined]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(std::fs::read_to_string(&bashrc).unwrap().contains("pwned"), "the unconfined program could not write");
    assert!(report.contains(HOSTS), "the unconfined program could not read the secret:\n{report}");
    assert!(report.contains("Sandbox incomplete"), "the report does not say what is missing:\n{report}");

    // And with the sandbox, not.
    std::fs::write(&bashrc, "export PATH=$HOME/bin:$PATH\n").unwrap();
    let out = run(grader, &args, work.path(), &[]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!std::fs::read_to_string(&bashrc).unwrap().contains("pwned"), "the confined program wrote");
    assert!(!report.contains(HOSTS), "the confined program read the secret:\n{report}");
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                todo.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}
