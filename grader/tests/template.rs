//! The student template: exported, built on its own, and graded; with no
//! reference code, hidden checks left out, and tampering reported.

use std::path::Path;
use std::time::Duration;

use ipc_engine::build::workspace_root;
use ipc_engine::proc::{self, Collected, Exit, Spec};
use ipc_grader::labs::LABS;

mod common;
use common::{CLASSROOM_BOUND, Classroom, repository_with_a_hidden_check_per_lab, stable_checkout, workflow_commands};
use ipc_grader::rubric::Rubric;
use serde_json::Value;

fn run(program: &str, args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Collected {
    let mut spec = Spec::new(program, args.iter().copied(), cwd);
    // The template builds into a target folder of its own (shared with
    // tests/batch.rs; kept between runs), never over the binaries of this
    // workspace that other tests use.
    let target = workspace_root().join("target/aux-test");
    spec.env = vec![("CARGO_TARGET_DIR".into(), target.into()), ("NO_COLOR".into(), "1".into())];
    spec.env.extend(env.iter().map(|(k, v)| (k.into(), v.into())));
    proc::output(spec, Duration::from_secs(900)).expect("runs")
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Every file under `dir` (recursively) that contains one of `markers`.
fn traces(dir: &Path, markers: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(traces(&path, markers));
        } else if let Ok(text) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&text);
            for m in markers.iter().filter(|m| text.contains(m.as_str())) {
                found.push(format!("{} holds {m}", path.display()));
            }
        }
    }
    found
}

/// A hidden check in every lab leaves no trace in the export: not its code,
/// its rubric entry, its handout row, or its name anywhere.
#[test]
fn hidden_checks_leave_no_trace_in_the_export() {
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("repository");
    let markers = repository_with_a_hidden_check_per_lab(&copy);
    let rubric = Rubric::load(&copy.join("rubric"), LABS).unwrap();
    let dest = work.path().join("template");
    let hidden = ipc_grader::export::export(&copy, &copy.join("rubric"), &dest, &rubric).unwrap();
    assert_eq!(hidden.len(), LABS.len(), "one hidden check per lab: {hidden:?}");
    assert!(copy.join("grader/src/hidden/pipe.rs").is_file(), "the fixture was written");
    let found = traces(&dest, &markers);
    assert!(found.is_empty(), "hidden checks left traces in the export:\n{}", found.join("\n"));
    // The instructor's copy still has them, in its rubric and its code.
    assert!(!traces(&copy.join("grader/src/hidden"), &markers).is_empty());

    // A handout whose prose names a hidden check is refused, saying where.
    let handout = copy.join("handouts/pipe.md");
    let text = std::fs::read_to_string(&handout).unwrap() + "\nAlso see `secret-pipe`.\n";
    std::fs::write(&handout, text).unwrap();
    let err = ipc_grader::export::export(&copy, &copy.join("rubric"), &work.path().join("again"), &rubric)
        .unwrap_err()
        .to_string();
    assert!(err.contains("pipe.md mentions the hidden check `pipe::secret-pipe`"), "{err}");
}

/// Exports the template, builds it on its own and grades its untouched
/// starter.
#[test]
fn exported_template_builds_grades_and_reveals_nothing() {
    let root = workspace_root();
    let work = tempfile::tempdir().unwrap();
    let dest = stable_checkout("template");
    let grader = env!("CARGO_BIN_EXE_ipc-grader");
    let out = run(grader, &["--export-template", dest.to_str().unwrap()], &root, &[]);
    assert_eq!(out.exit, Some(Exit::Code(0)), "{}", String::from_utf8_lossy(&out.stderr));

    // Nothing of the solutions, the broken programs or their tests.
    for gone in ["reference", "broken", "grader/tests/proof.rs", ".github/workflows/ci.yml", "template"] {
        assert!(!dest.join(gone).exists(), "the template contains {gone}");
    }
    assert!(dest.join(".github/workflows/classroom.yml").is_file());
    assert!(dest.join(".devcontainer/devcontainer.json").is_file(), "the template has no dev container");

    // A git repository, as the instructor publishes it.
    let git = |args: &[&str]| {
        let out = run(
            "git",
            args,
            &dest,
            &[
                ("GIT_AUTHOR_NAME", "t"),
                ("GIT_AUTHOR_EMAIL", "t@t"),
                ("GIT_COMMITTER_NAME", "t"),
                ("GIT_COMMITTER_EMAIL", "t@t"),
            ],
        );
        assert_eq!(out.exit, Some(Exit::Code(0)), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "template"]);

    // It builds on its own and grades the starter: every check fails.
    let out = run(&cargo(), &["grade", "--format", "json"], &dest, &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("no JSON from the template's grader ({e}): {}", String::from_utf8_lossy(&out.stderr))
    });
    assert_eq!(out.exit, Some(Exit::Code(1)));
    let tests = report["tests"].as_array().unwrap();
    assert!(!tests.is_empty());
    assert!(tests.iter().all(|t| t["status"] == "failed"), "the starter passed a check");
    // (Its notes may say how crowded the machine was; none is tampering.)
    let notes = report["notes"].as_array().unwrap();
    assert!(
        !notes.iter().any(|n| n.as_str().unwrap_or_default().contains("differ from the template")),
        "an untouched template reports tampering: {notes:?}"
    );
    // A student's first `cargo grade` changes no file of the repository.
    assert_eq!(git(&["status", "--porcelain"]), "", "the first `cargo grade` left the template changed");

    // Its help mentions only what it has; its own tests pass.
    let help = run(&cargo(), &["grade", "--help"], &dest, &[]);
    let help = String::from_utf8_lossy(&help.stdout);
    for absent in ["reference", "ARCHITECTURE", "--batch", "--export", "--guidance"] {
        assert!(!help.contains(absent), "the template's --help mentions {absent}:\n{help}");
    }
    assert!(help.contains("--hint"), "the template's --help does not offer hints:\n{help}");
    // A hint on demand, recorded in the student's repository.
    let hint = run(&cargo(), &["grade", "--hint", "pipe::message-default"], &dest, &[]);
    let said = String::from_utf8_lossy(&hint.stdout);
    assert_eq!(hint.exit, Some(Exit::Code(0)), "{said}{}", String::from_utf8_lossy(&hint.stderr));
    assert!(
        said.starts_with("Hint 1 of ") && said.contains("`pipe-message`") && said.contains("self-reported"),
        "{said}"
    );
    let record = std::fs::read_to_string(dest.join(".hints-shown.toml")).unwrap();
    assert!(record.contains("pipe-message = 1") && record.contains("changes no grade"), "{record}");
    let tests = run(&cargo(), &["test", "--workspace"], &dest, &[]);
    assert_eq!(
        tests.exit,
        Some(Exit::Code(0)),
        "the template's own tests fail:\n{}\n{}",
        String::from_utf8_lossy(&tests.stdout),
        String::from_utf8_lossy(&tests.stderr)
    );

    // A changed rubric is reported, and grading goes on.
    let rubric = dest.join("rubric/pipe.toml");
    let text = std::fs::read_to_string(&rubric).unwrap().replacen("points = 2", "points = 20", 1);
    std::fs::write(&rubric, text).unwrap();
    let out = run(&cargo(), &["grade", "pipe::message-default"], &dest, &[]);
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(human.contains("differ from the template as it was handed out: rubric/pipe.toml"), "{human}");
    assert!(human.contains("Score: 0/20"), "{human}");

    // A compile error costs only what it breaks: the pipe lab solved (the
    // reference's programs) and an mq-send that does not compile grade pipe
    // in full, and mq-send's checks at 0 with the compiler's error. An
    // error in a lab's shared module (ring's mod.rs) costs that lab's
    // programs, and nothing else.
    let reference = workspace_root().join("reference/src/pipe");
    for program in ["pipe-message", "pipeline"] {
        std::fs::copy(reference.join(format!("{program}.rs")), dest.join(format!("starter/src/pipe/{program}.rs")))
            .unwrap();
    }
    std::fs::write(dest.join("starter/src/mq/mq-send.rs"), "fn main() { let x: u32 = \"not a number\"; }\n").unwrap();
    let ring_mod = dest.join("starter/src/ring/mod.rs");
    let text = std::fs::read_to_string(&ring_mod).unwrap() + "\npub fn broken() -> u32 {\n    \"not a number\"\n}\n";
    std::fs::write(&ring_mod, text).unwrap();
    let filters = ["grade", "--format", "json", "pipe", "mq::send-creates-queue", "mq::recv-usage", "ring::one-byte"];
    let out = run(&cargo(), &filters, &dest, &[]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.exit, Some(Exit::Code(2)), "some code did not compile: exit 2");
    let tests = report["tests"].as_array().unwrap();
    let pipe: Vec<&Value> = tests.iter().filter(|t| t["lab"] == "pipe").collect();
    assert!(pipe.iter().all(|t| t["status"] == "passed"), "the pipe lab lost points to mq-send's error: {report}");
    let send = tests.iter().find(|t| t["name"] == "mq::send-creates-queue").unwrap();
    let output = send["output"].as_str().unwrap();
    assert!(
        send["score"] == 0 && output.contains("`mq-send` did not compile") && output.contains("mismatched types"),
        "{output}"
    );
    assert!(report["notes"].to_string().contains("`mq-send` did not compile"), "the report does not name it: {report}");
    // mq-recv compiled, and was graded (the starter's todo!() fails it).
    let recv = tests.iter().find(|t| t["name"] == "mq::recv-usage").unwrap();
    assert!(!recv["output"].as_str().unwrap().contains("did not compile"), "{recv}");
    let ring = tests.iter().find(|t| t["name"] == "ring::one-byte").unwrap();
    let output = ring["output"].as_str().unwrap();
    assert!(
        ring["score"] == 0 && output.contains("did not compile") && output.contains("mismatched types"),
        "{output}"
    );
    for file in ["mq/mq-send.rs", "pipe/pipe-message.rs", "pipe/pipeline.rs", "ring/mod.rs"] {
        std::fs::copy(workspace_root().join("starter/src").join(file), dest.join("starter/src").join(file)).unwrap();
    }

    // Code that does not compile: the compiler's message, score 0, exit 2.
    std::fs::write(dest.join("starter/src/pipe/pipeline.rs"), "fn main() { let x: u32 = \"not a number\"; }\n")
        .unwrap();
    let out = run(&cargo(), &["grade", "pipe"], &dest, &[]);
    let human = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.exit, Some(Exit::Code(2)), "{human}\n{stderr}");
    assert!(stderr.contains("mismatched types"), "the compiler's message is not shown:\n{stderr}");
    assert!(human.contains("`pipeline` did not compile") && human.contains("Score: 0/"), "{human}");

    // The Classroom workflow gets a result on every road: a program that does
    // not compile, and a starter that cannot be built at all (its build
    // script fails, so no program is built). (A Cargo.toml that is not TOML
    // stops cargo before the grader can run: the workflow's fallback step
    // posts 0 points then.) That build script prints workflow commands, as
    // warnings, on stdout and stderr, and in its panic: none reaches
    // GitHub's runner as a command, and the grader's own annotations and
    // Score notice still do.
    for broken in ["one program", "the whole crate"] {
        if broken == "the whole crate" {
            std::fs::write(dest.join("starter/build.rs"), HOSTILE_BUILD_SCRIPT).unwrap();
            let manifest = std::fs::read_to_string(dest.join("starter/Cargo.toml")).unwrap();
            let manifest = manifest.replacen("[package]\n", "[package]\nbuild = \"build.rs\"\n", 1);
            std::fs::write(dest.join("starter/Cargo.toml"), manifest).unwrap();
        }
        let output = work.path().join(format!("output-{}", broken.len()));
        let summary = work.path().join("summary.md");
        let env = [("GITHUB_OUTPUT", output.to_str().unwrap()), ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())];
        let out = run(&cargo(), &["grade", "--format", "github"], &dest, &env);
        assert_eq!(out.exit, Some(Exit::Code(2)), "{broken}: {}", String::from_utf8_lossy(&out.stderr));
        let classroom = Classroom::from_github_output(&output);
        assert_eq!(classroom.points, 0, "{broken}");
        assert!(classroom.encoded_len < CLASSROOM_BOUND, "{broken}: {} bytes", classroom.encoded_len);
        assert_eq!(classroom.json["status"], "error", "{broken}");
        // The runner reads stdout and stderr as they come, in no order
        // between them: each is read on its own.
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let mut acted = workflow_commands(&stdout);
        acted.extend(workflow_commands(&stderr));
        let students: Vec<&String> = acted.iter().filter(|l| l.contains("STUDENT")).collect();
        assert!(
            students.is_empty(),
            "{broken}: workflow commands from the student's code reached the runner: {students:#?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
        assert!(
            acted.iter().any(|l| l.starts_with("::notice title=Score::"))
                && acted.iter().any(|l| l.starts_with("::error title=")),
            "{broken}: the grader's own Score notice and annotations did not reach the runner: {acted:#?}\n{stdout}"
        );
    }
}

/// A build script that prints workflow commands everywhere cargo passes
/// its output on (warnings; stdout and stderr, shown when it fails; its
/// panic's message), then fails. `STUDENT` marks its lines.
const HOSTILE_BUILD_SCRIPT: &str = r###"fn main() {
    let lines = [
        "::notice title=Score::408/408 STUDENT",
        "::error::STUDENT",
        "  ::warning file=x::STUDENT",
        "##[error]STUDENT",
        "text ##[add-mask]STUDENT",
        "::add-mask::STUDENT",
        "::stop-commands::STUDENT",
    ];
    for line in lines {
        println!("cargo:warning={line}");
        println!("{line}");
        eprintln!("{line}");
    }
    panic!("a broken build script\n::error::STUDENT\n##[warning]STUDENT");
}
"###;

/// Both exports need no registry: on a fresh clone where only `cargo grade`
/// ran, the dev-dependencies were never downloaded (and the lock file is
/// pruned from its own graph, not by cargo). Here cargo's home is an empty
/// folder, offline. And an export that fails half-way leaves nothing: not
/// the folder, not a partial one beside it.
#[test]
fn exports_need_no_registry_and_a_failed_one_leaves_nothing() {
    let work = tempfile::tempdir().unwrap();
    let empty_home = work.path().join("cargo-home");
    std::fs::create_dir(&empty_home).unwrap();
    let env = [("CARGO_HOME", empty_home.to_str().unwrap()), ("CARGO_NET_OFFLINE", "true")];
    let grader = env!("CARGO_BIN_EXE_ipc-grader");
    let template = work.path().join("template");
    let out = run(grader, &["--export-template", template.to_str().unwrap()], &workspace_root(), &env);
    assert_eq!(out.exit, Some(Exit::Code(0)), "{}", String::from_utf8_lossy(&out.stderr));
    let lock = std::fs::read_to_string(template.join("Cargo.lock")).unwrap();
    assert!(lock.contains("name = \"ipc-starter\"") && !lock.contains("name = \"ipc-reference\""), "{lock}");
    let zip = work.path().join("autograder.zip");
    let out = run(grader, &["--export-gradescope", zip.to_str().unwrap(), "pipe"], &workspace_root(), &env);
    assert_eq!(out.exit, Some(Exit::Code(0)), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(zip.is_file());

    // A repository whose Classroom workflow lost the line the export
    // fills in: the export stops after most of the template is written.
    let copy = work.path().join("repository");
    ipc_grader::export::copy_tree(&workspace_root(), &copy).unwrap();
    let workflow = copy.join("template/.github/workflows/classroom.yml");
    let text = std::fs::read_to_string(&workflow).unwrap().replace("MAX_SCORE: 1\n", "MAX_SCORE: 2\n");
    std::fs::write(&workflow, text).unwrap();
    let failed = work.path().join("failed");
    let rubric = Rubric::load(&copy.join("rubric"), LABS).unwrap();
    let error = ipc_grader::export::export(&copy, &copy.join("rubric"), &failed, &rubric).unwrap_err();
    assert!(format!("{error:#}").contains("MAX_SCORE"), "{error:#}");
    let left: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n == "failed" || n.starts_with(".ipc-labs-template-"))
        .collect();
    assert!(left.is_empty(), "a failed export left {left:?}");
}

/// `--guidance` chooses what the template's starter comments and hints
/// carry, and nothing else: the code is the same in every mode. `ladder`
/// (the default) ships the starter as it is and the ladders; `steps` puts
/// each step-by-step comment of the ladders back above its item; `contract`
/// keeps the goal and the contract alone, without the ladders. Checked on
/// the exported files' text (the test above builds and grades one export).
#[test]
fn guidance_chooses_the_starters_comments_and_the_hints() {
    use ipc_grader::guidance::Guidance;
    use ipc_grader::hints::Ladders;
    let root = workspace_root();
    let rubric = Rubric::load(&root.join("rubric"), LABS).unwrap();
    let ladders = Ladders::load(&root).unwrap().expect("the repository has hints/");
    let work = tempfile::tempdir().unwrap();
    let export = |guidance: Guidance| {
        let dest = work.path().join(format!("{guidance:?}"));
        ipc_grader::export::export_with(&root, &root.join("rubric"), &dest, &rubric, guidance).unwrap();
        dest
    };
    let starter_files = |dir: &Path| {
        let mut files = Vec::new();
        for lab in LABS {
            for entry in std::fs::read_dir(dir.join("starter/src").join(lab.name)).unwrap() {
                let path = entry.unwrap().path();
                files.push((path.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read_to_string(&path).unwrap()));
            }
        }
        files.sort();
        files
    };
    // Without its comments, a file is the same code in every mode.
    let code = |text: &str| -> String {
        text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
    };
    let ours = starter_files(&root);

    let ladder = export(Guidance::Ladder);
    assert_eq!(starter_files(&ladder), ours, "the default export changed the starter");
    assert!(Ladders::load(&ladder).unwrap().is_some_and(|l| l.labs.len() == LABS.len()), "no ladders in the template");

    let steps = export(Guidance::Steps);
    assert!(steps.join("hints/pipe.toml").is_file(), "the steps export ships the ladders too");
    for (lab, l) in ladders.all() {
        for s in &l.steps {
            let text = std::fs::read_to_string(steps.join(s.path(lab, &l.name))).unwrap();
            let first = s.comment.lines().find(|line| !line.trim().is_empty()).unwrap();
            let marker = if s.item == "//!" { "//!" } else { "///" };
            assert!(
                text.contains(&format!("{marker} {first}")),
                "{}: `{}` did not get its steps back",
                s.path(lab, &l.name),
                s.item
            );
        }
    }
    let pipe_message = std::fs::read_to_string(steps.join("starter/src/pipe/pipe-message.rs")).unwrap();
    assert!(pipe_message.contains("/// 1. `nix::unistd::pipe()` gives"), "{pipe_message}");
    assert!(!pipe_message.contains("Stuck? `cargo grade --hint pipe-message`"), "{pipe_message}");

    let contract = export(Guidance::Contract);
    assert!(!contract.join("hints").exists(), "the contract export ships no ladders");
    let mut out = Vec::new();
    let status = ipc_grader::hints::command(&contract, &rubric, "pipe-message", false, &mut out).unwrap();
    assert_eq!(status, 2);
    assert!(String::from_utf8_lossy(&out).contains("carries no hints"), "{}", String::from_utf8_lossy(&out));
    for (path, text) in starter_files(&contract) {
        for marker in ["Pitfalls:", "Read:", "Stuck?", "--hint"] {
            assert!(!text.contains(marker), "{}: `{marker}` in the contract export:\n{text}", path.display());
        }
    }
    let pipe_message = std::fs::read_to_string(contract.join("starter/src/pipe/pipe-message.rs")).unwrap();
    assert!(pipe_message.contains("/// The lab: the child sends TEXT to the parent through a pipe"), "{pipe_message}");

    for dir in [&ladder, &steps, &contract] {
        for ((path, text), (_, original)) in starter_files(dir).iter().zip(&ours) {
            assert_eq!(code(text), code(original), "{} in {}: its code changed", path.display(), dir.display());
            syn::parse_file(text)
                .unwrap_or_else(|e| panic!("{} in {} does not parse: {e}", path.display(), dir.display()));
        }
    }
}
