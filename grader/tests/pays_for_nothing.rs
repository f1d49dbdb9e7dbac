//! No check pays for nothing (GRADER.md, "The repository around it"): a
//! folder whose every program does nothing and exits 0, one whose programs
//! print junk on both streams and exit 0, and one whose programs print an
//! error line and exit 1, score 0 on every check of a lab.

use std::path::Path;
use std::time::Duration;

use ipc_grader::build::workspace_root;
use ipc_grader::labs::LABS;
use ipc_grader::proc::{self, Exit, Spec};
use serde_json::Value;

/// The labs this test holds to it. Add a lab once none of its checks pays
/// for nothing (`cargo grade --bin-dir DIR LAB` with the folders below).
const LABS_CHECKED: &[&str] = &["rpc"];

/// The three kinds of program that must earn nothing, as shell script bodies.
fn bodies(program: &str) -> [(&'static str, String); 3] {
    [
        ("does nothing and exits 0", "exit 0".to_string()),
        ("prints junk on both streams and exits 0", "echo junk; echo junk >&2; exit 0".to_string()),
        ("prints an error line and exits 1", format!("echo '{program}: error' >&2; exit 1")),
    ]
}

fn script(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Each checked lab scores 0 on each of the three folders.
#[test]
fn programs_that_do_nothing_earn_nothing() {
    let mut paid = Vec::new();
    for lab in LABS.iter().filter(|l| LABS_CHECKED.contains(&l.name)) {
        for kind in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let mut what = "";
            for program in lab.programs {
                let (description, body) = &bodies(program)[kind];
                what = description;
                script(dir.path(), program, body);
            }
            let args = ["--bin-dir", dir.path().to_str().unwrap(), lab.name, "--format", "json"];
            let mut spec = Spec::new(env!("CARGO_BIN_EXE_ipc-grader"), args, workspace_root());
            spec.env = vec![("NO_COLOR".into(), "1".into())];
            let done = proc::output(spec, Duration::from_secs(600)).expect("the grader runs");
            assert_eq!(done.exit, Some(Exit::Code(1)), "{}", String::from_utf8_lossy(&done.stderr));
            let report: Value = serde_json::from_slice(&done.stdout).expect("a JSON report");
            for t in report["tests"].as_array().expect("tests[]") {
                if t["status"] != "failed" {
                    paid.push(format!("{}: a program that {what} passes it", t["name"]));
                }
            }
        }
    }
    assert!(paid.is_empty(), "checks that pay for nothing:\n{}", paid.join("\n"));
}
