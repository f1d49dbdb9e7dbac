//! The student template: exported, built on its own, and graded; with no
//! reference code, hidden checks left out, and tampering reported.

use std::path::Path;
use std::time::Duration;

use ipc_grader::build::workspace_root;
use ipc_grader::proc::{self, Collected, Exit, Spec};
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

/// Exports the template with `pipe::pipeline-usage` marked hidden, builds it
/// and grades its untouched starter.
#[test]
fn exported_template_builds_grades_and_reveals_nothing() {
    let root = workspace_root();
    let work = tempfile::tempdir().unwrap();
    let rubric_dir = work.path().join("rubric");
    std::fs::create_dir(&rubric_dir).unwrap();
    for entry in std::fs::read_dir(root.join("rubric")).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap() == "pipe.toml" {
            text = text.replace("name = \"pipeline-usage\"\n", "name = \"pipeline-usage\"\nhidden = true\n");
        }
        std::fs::write(rubric_dir.join(path.file_name().unwrap()), text).unwrap();
    }
    let dest = work.path().join("template");
    let grader = env!("CARGO_BIN_EXE_ipc-grader");
    let out = run(
        grader,
        &["--rubric", rubric_dir.to_str().unwrap(), "--export-template", dest.to_str().unwrap()],
        &root,
        &[],
    );
    assert_eq!(out.exit, Some(Exit::Code(0)), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pipe::pipeline-usage"));

    // Nothing of the solutions, the broken programs or their tests.
    for gone in ["reference", "broken", "grader/tests/proof.rs", ".github/workflows/ci.yml", "template"] {
        assert!(!dest.join(gone).exists(), "the template contains {gone}");
    }
    let pipe_checks = std::fs::read_to_string(dest.join("grader/src/labs/pipe/mod.rs")).unwrap();
    assert!(!pipe_checks.contains("pipeline_usage"), "the hidden check's code is in the template");
    assert!(!std::fs::read_to_string(dest.join("rubric/pipe.toml")).unwrap().contains("pipeline-usage"));
    assert!(dest.join(".github/workflows/classroom.yml").is_file());

    // It builds on its own and grades the starter: every check fails.
    let out = run(&cargo(), &["grade", "--format", "json"], &dest, &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("no JSON from the template's grader ({e}): {}", String::from_utf8_lossy(&out.stderr))
    });
    assert_eq!(out.exit, Some(Exit::Code(1)));
    let tests = report["tests"].as_array().unwrap();
    assert!(!tests.is_empty());
    assert!(tests.iter().all(|t| t["status"] == "failed"), "the starter passed a check");
    assert!(tests.iter().all(|t| t["name"] != "pipe::pipeline-usage"), "the hidden check ran in the template");
    assert_eq!(report["notes"].as_array().unwrap().len(), 0, "an untouched template reports tampering");

    // A changed rubric is reported, and grading goes on.
    let rubric = dest.join("rubric/pipe.toml");
    let text = std::fs::read_to_string(&rubric).unwrap().replacen("points = 2", "points = 20", 1);
    std::fs::write(&rubric, text).unwrap();
    let out = run(&cargo(), &["grade", "pipe::message-default"], &dest, &[]);
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(human.contains("differ from the template as it was handed out: rubric/pipe.toml"), "{human}");
    assert!(human.contains("Score: 0/20"), "{human}");

    // Code that does not compile: the compiler's message, score 0, exit 2.
    std::fs::write(dest.join("starter/src/pipe/pipeline.rs"), "fn main() { let x: u32 = \"not a number\"; }\n")
        .unwrap();
    let out = run(&cargo(), &["grade", "pipe"], &dest, &[]);
    let human = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.exit, Some(Exit::Code(2)), "{human}\n{stderr}");
    assert!(stderr.contains("mismatched types"), "the compiler's message is not shown:\n{stderr}");
    assert!(human.contains("does not compile") && human.contains("Score: 0/"), "{human}");
}
