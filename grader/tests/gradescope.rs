//! Gradescope's autograder, as an instructor uploads it: exported, unpacked
//! into an `AUTOGRADER_ROOT`, set up, and run on four submissions.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ipc_engine::build::workspace_root;
use ipc_engine::proc::{self, Collected, Exit, Spec};
use ipc_grader::labs::LABS;
use serde_json::Value;

mod common;
use common::{assert_gradescope_keys, repository_with_a_hidden_check_per_lab, stable_checkout};

/// Runs `program` with the autograder's environment: its root, this
/// machine's Rust toolchain (not one installed under /usr/local), and the
/// Cargo target folder the other heavy tests share (dependencies built once).
fn run(program: &str, args: &[&str], cwd: &Path, root: &Path) -> Collected {
    let mut spec = Spec::new(program, args.iter().copied(), cwd);
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()));
    let cargo_home = std::env::var_os("CARGO_HOME").map(PathBuf::from).unwrap_or_else(|| home.join(".cargo"));
    let rustup_home = std::env::var_os("RUSTUP_HOME").map(PathBuf::from).unwrap_or_else(|| home.join(".rustup"));
    spec.env = vec![
        ("AUTOGRADER_ROOT".into(), root.into()),
        ("IPC_CARGO_HOME".into(), cargo_home.into()),
        ("IPC_RUSTUP_HOME".into(), rustup_home.into()),
        ("CARGO_TARGET_DIR".into(), workspace_root().join("target/aux-test").into()),
        ("CARGO_NET_OFFLINE".into(), "true".into()),
    ];
    proc::output(spec, Duration::from_secs(1200)).expect("runs")
}

fn copy_dir(from: &Path, to: &Path) {
    ipc_grader::export::copy_tree(from, to).unwrap();
}

/// Runs run_autograder on the submission in `root/submission` and returns
/// results.json.
fn grade(root: &Path) -> Value {
    let results = root.join("results/results.json");
    let _ = std::fs::remove_file(&results);
    let out = run("bash", &[root.join("source/run_autograder").to_str().unwrap()], root, root);
    assert_eq!(out.exit, Some(Exit::Code(0)), "run_autograder: {}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&results)
        .unwrap_or_else(|e| panic!("no results.json ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("results.json is not JSON ({e}): {text}"));
    assert_gradescope_keys(&json);
    json
}

fn submission(root: &Path) -> PathBuf {
    let dir = root.join("submission");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tests(json: &Value) -> &Vec<Value> {
    json["tests"].as_array().expect("tests")
}

/// The reference's programs (as a starter, one folder down, as an upload
/// of the repository's folder gives it) score in full on the visible
/// checks; the untouched starter scores 0; a starter that does not compile
/// scores 0 with the compiler's message; a submission without starter/
/// scores 0 with the reason. The zip is exported from a copy of the
/// repository with a hidden check in every lab: the instructor's zip
/// carries it, and results.json shows it only once grades are published.
#[test]
fn the_autograder_zip_grades_every_kind_of_submission() {
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("repository");
    repository_with_a_hidden_check_per_lab(&copy);
    let zip_path = work.path().join("autograder.zip");
    // One assignment per lab, as many courses do: here `pipe` (and
    // `mq::send-usage`, to show that filters of any kind carry over).
    let filters = ["pipe".to_string(), "mq::send-usage".to_string()];
    ipc_grader::gradescope::export(&copy, &copy.join("rubric"), &zip_path, &filters).unwrap();
    // The same export from the command line, as an instructor runs it (of
    // this repository, which has no hidden check).
    let plain = work.path().join("plain.zip");
    let args = ["--export-gradescope", plain.to_str().unwrap(), "pipe", "mq::send-usage"];
    let out = run(env!("CARGO_BIN_EXE_ipc-grader"), &args, &workspace_root(), work.path());
    assert_eq!(out.exit, Some(Exit::Code(0)), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Wrote Gradescope's autograder"));
    assert!(plain.is_file());

    // Unpacked as Gradescope does, into ROOT/source.
    let root = stable_checkout("gradescope");
    let file = std::fs::File::open(&zip_path).unwrap();
    zip::ZipArchive::new(file).unwrap().extract(root.join("source")).unwrap();
    for script in ["setup.sh", "run_autograder"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(root.join("source").join(script)).unwrap().permissions(),
        );
        assert!(mode & 0o111 != 0, "{script} is not executable in the zip");
    }
    assert!(!root.join("source/ipc-labs/reference").exists(), "the zip carries the reference");
    let setup = run("bash", &[root.join("source/setup.sh").to_str().unwrap()], &root, &root);
    assert_eq!(setup.exit, Some(Exit::Code(0)), "setup.sh: {}", String::from_utf8_lossy(&setup.stderr));

    // pipe's checks, mq::send-usage, and the hidden pipe::secret-pipe.
    let checks: usize =
        LABS.iter().filter(|lab| lab.name == "pipe").map(|lab| lab.all_checks().len()).sum::<usize>() + 2;

    // The reference's programs in the starter's crate, one folder down.
    let starter = submission(&root).join("my-repo/starter");
    copy_dir(&workspace_root().join("starter"), &starter);
    copy_dir(&workspace_root().join("reference/src"), &starter.join("src"));
    let manifest = std::fs::read_to_string(starter.join("Cargo.toml")).unwrap();
    let manifest = manifest.replace("clap.workspace = true\n", "clap.workspace = true\nrustix.workspace = true\n");
    std::fs::write(starter.join("Cargo.toml"), manifest).unwrap();
    let json = grade(&root);
    let (hidden, visible): (Vec<&Value>, Vec<&Value>) =
        tests(&json).iter().partition(|t| t["visibility"] == "after_published");
    let failed: Vec<String> = visible
        .iter()
        .filter(|t| t["status"] != "passed")
        .map(|t| format!("{}: {}", t["name"], t["output"].as_str().unwrap_or_default()))
        .collect();
    assert!(failed.is_empty(), "the reference, submitted, fails checks:\n{}", failed.join("\n\n"));
    assert_eq!(tests(&json).len(), checks);
    // The hidden check (it fails everything, by design) came with the zip,
    // is shown after publishing only, and the top-level output, visible at
    // once, counts only the visible checks.
    assert_eq!(hidden.len(), 1, "{json}");
    assert_eq!(hidden[0]["name"], "pipe::secret-pipe");
    assert!(visible.iter().all(|t| t["visibility"] == "visible"));
    let max: f64 = visible.iter().map(|t| t["max_score"].as_f64().unwrap()).sum();
    assert_eq!(json["score"].as_f64(), Some(max));
    let output = json["output"].as_str().unwrap();
    assert!(output.contains(&format!("{max}/{max} points")) && !output.contains("secret"), "{output}");

    // The untouched starter, at the submission's root.
    copy_dir(&workspace_root().join("starter"), &submission(&root).join("starter"));
    let json = grade(&root);
    assert_eq!(json["score"], 0);
    assert_eq!(tests(&json).len(), checks);

    // A starter that does not compile.
    let starter = submission(&root).join("starter");
    copy_dir(&workspace_root().join("starter"), &starter);
    std::fs::write(starter.join("src/pipe/pipeline.rs"), "fn main() { let x: u32 = \"not a number\"; }\n").unwrap();
    let json = grade(&root);
    assert_eq!(json["score"], 0);
    let pipeline = tests(&json).iter().find(|t| t["name"] == "pipe::pipeline-seq-wc").expect("the check is listed");
    let output = pipeline["output"].as_str().unwrap();
    assert!(output.contains("`pipeline` did not compile") && output.contains("mismatched types"), "{output}");

    // No starter/ at all.
    std::fs::write(submission(&root).join("notes.txt"), "my answers\n").unwrap();
    let json = grade(&root);
    assert_eq!(json["score"], 0);
    let text = json["output"].as_str().unwrap_or_default().to_string()
        + tests(&json).first().and_then(|t| t["output"].as_str()).unwrap_or_default();
    assert!(text.contains("no starter/ folder"), "the reason is not given: {json}");
}
