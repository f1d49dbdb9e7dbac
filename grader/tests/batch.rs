//! Batch grading of a folder of student checkouts, black-box.

use std::path::Path;
use std::time::Duration;

use ipc_engine::build::workspace_root;
use ipc_engine::proc::{self, Collected, Exit, Spec};
use ipc_grader::labs::LABS;
use ipc_grader::rubric::Rubric;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

fn batch(submissions: &Path, out: &Path) -> Collected {
    // Shared with tests/template.rs (test binaries run one at a time), so the
    // dependencies of these other workspaces are compiled once.
    let target = workspace_root().join("target/aux-test");
    let args = ["--batch", submissions.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let mut spec = Spec::new(env!("CARGO_BIN_EXE_ipc-grader"), args, workspace_root());
    spec.args.extend(["--batch-target-dir".into(), target.into(), "pipe".into(), "mq".into()]);
    spec.env = vec![("NO_COLOR".into(), "1".into())];
    proc::output(spec, Duration::from_secs(900)).expect("the grader runs")
}

/// Four checkouts: untouched; one program solved; the pipe lab solved with
/// an `mq-send` that does not compile; no starter. The gradebook has a row
/// each, points where earned, errors where not: a compile error costs only
/// its own program's checks.
#[test]
fn batch_grades_a_class_into_a_gradebook() {
    let root = workspace_root();
    let work = tempfile::tempdir().unwrap();
    let subs = work.path().join("submissions");
    copy_dir(&root.join("starter"), &subs.join("alice/starter"));
    copy_dir(&root.join("starter"), &subs.join("bob/starter"));
    std::fs::copy(root.join("reference/src/pipe/pipe-message.rs"), subs.join("bob/starter/src/pipe/pipe-message.rs"))
        .unwrap();
    copy_dir(&root.join("starter"), &subs.join("carol/starter"));
    for program in ["pipe-message", "pipeline"] {
        let file = format!("src/pipe/{program}.rs");
        std::fs::copy(root.join("reference").join(&file), subs.join("carol/starter").join(&file)).unwrap();
    }
    std::fs::write(subs.join("carol/starter/src/mq/mq-send.rs"), "fn main() { this does not compile }\n").unwrap();
    // A student's own grader is never used: make it obviously wrong.
    std::fs::create_dir_all(subs.join("bob/rubric")).unwrap();
    std::fs::write(subs.join("bob/rubric/pipe.toml"), "lab = \"pipe\"\n# every check worth 1000 points\n").unwrap();
    std::fs::create_dir_all(subs.join("dave")).unwrap();
    let out = work.path().join("out");

    let run = batch(&subs, &out);
    assert_eq!(run.exit, Some(Exit::Code(0)), "{}", String::from_utf8_lossy(&run.stderr));
    let csv = std::fs::read_to_string(out.join("grades.csv")).unwrap();
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows[0], ["student", "pipe", "mq", "total", "max", "error"]);

    let rubric = Rubric::builtin(LABS).unwrap();
    let pipe = &rubric.labs["pipe"];
    let pipe_max: u32 = pipe.checks.iter().map(|c| c.points).sum();
    let max: u32 = pipe_max + rubric.labs["mq"].checks.iter().map(|c| c.points).sum::<u32>();
    let message: u32 = pipe.checks.iter().filter(|c| c.name.starts_with("message-")).map(|c| c.points).sum();
    let row = |name: &str| rows.iter().find(|r| r[0] == name).unwrap_or_else(|| panic!("no row for {name}:\n{csv}"));
    let (zero, max, message, pipe_max) = ("0".to_string(), max.to_string(), message.to_string(), pipe_max.to_string());
    assert_eq!(row("alice")[1..5], [zero.clone(), zero.clone(), zero.clone(), max.clone()]);
    assert_eq!(row("bob")[1..5], [message.clone(), zero.clone(), message.clone(), max.clone()]);
    // A program that does not compile costs only its own checks.
    let carol = std::fs::read_to_string(out.join("feedback/carol.txt")).unwrap_or_default();
    assert_eq!(row("carol")[1..5], [pipe_max.clone(), zero.clone(), pipe_max.clone(), max.clone()], "{csv}\n{carol}");
    assert!(row("carol")[5].starts_with("did not compile: mq-send ("), "{csv}");
    let feedback = std::fs::read_to_string(out.join("feedback/carol.txt")).unwrap();
    assert!(feedback.contains("`mq-send` did not compile"), "{feedback}");
    assert_eq!(row("dave")[5], "no starter/ folder with a Cargo.toml");
    let feedback = std::fs::read_to_string(out.join("feedback/bob.txt")).unwrap();
    assert!(feedback.contains(&format!("Score: {message}/{max}")), "{feedback}");

    // Again: everything is kept, nothing rebuilt.
    let again = batch(&subs, &out);
    assert_eq!(again.exit, Some(Exit::Code(0)));
    assert!(String::from_utf8_lossy(&again.stderr).contains("4 submission(s) already graded are kept"));
    assert_eq!(std::fs::read_to_string(out.join("grades.csv")).unwrap(), csv);
}
