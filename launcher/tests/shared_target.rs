//! Two checkouts that share one Cargo target folder each grade with their
//! own grader: `cargo grade --list` in each reports its own rubric, in
//! both orders, though cargo takes their builds for one (it names a
//! workspace member's build by its path inside the workspace) and the
//! sources of the second look older than what the first built.
//!
//! Each checkout is a small workspace: this repository's launcher and
//! `.cargo/config.toml` (the `cargo grade` alias), and a stand-in
//! `ipc-grader` that prints the rubric compiled into it and the folder
//! it was built from.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// This repository.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A checkout at `dir` whose grader's rubric says `rubric`.
fn checkout(dir: &Path, rubric: &str) {
    let repo = repository();
    for file in ["launcher/Cargo.toml", "launcher/build.rs", "common/build.rs", ".cargo/config.toml"] {
        write(&dir.join(file), &std::fs::read_to_string(repo.join(file)).unwrap());
    }
    for entry in std::fs::read_dir(repo.join("launcher/src")).unwrap() {
        let path = entry.unwrap().path();
        write(&dir.join("launcher/src").join(path.file_name().unwrap()), &std::fs::read_to_string(&path).unwrap());
    }
    write(
        &dir.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"launcher\", \"grader\"]\n\n[workspace.package]\n\
         edition = \"2024\"\nrust-version = \"1.85\"\nlicense = \"MIT\"\npublish = false\n\n[workspace.lints.rust]\n",
    );
    write(
        &dir.join("grader/Cargo.toml"),
        "[package]\nname = \"ipc-grader\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         [[bin]]\nname = \"ipc-grader\"\npath = \"src/main.rs\"\n\n[[bin]]\nname = \"ipc-grader-peers\"\npath = \"src/main.rs\"\n",
    );
    write(
        &dir.join("grader/src/main.rs"),
        "fn main() {\n    println!(\"rubric: {}\", include_str!(\"../rubric.txt\").trim());\n    \
         println!(\"built from: {}\", env!(\"CARGO_MANIFEST_DIR\"));\n    \
         println!(\"builds in: {}\", std::env::var(\"CARGO_TARGET_DIR\").unwrap_or_default());\n}\n",
    );
    write(&dir.join("grader/rubric.txt"), rubric);
}

/// Sets the modification time of every file under `dir` to `when`.
fn touch_all(dir: &Path, when: SystemTime) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            touch_all(&path, when);
        } else {
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(when).unwrap();
        }
    }
}

/// `cargo grade --list` in `dir` with the target folder `target`: what it printed.
fn grade_list(dir: &Path, target: &Path) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["grade", "--list"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_NET_OFFLINE", "true")
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "cargo grade --list in {}: {}\n{stdout}\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Checkouts `first` and `second` graded in that order with one target
/// folder, `second`'s sources older than what `first` builds: each
/// reports its own rubric and was built from its own folder, also when
/// `first` is graded again.
fn each_grades_with_its_own_grader(work: &Path, first: &str, second: &str) {
    let target = work.join("shared-target");
    let (a, b) = (work.join(first), work.join(second));
    checkout(&a, first);
    checkout(&b, second);
    touch_all(&b, SystemTime::now() - Duration::from_secs(3600 * 24));
    let mut builds_in = Vec::new();
    for (dir, rubric) in [(&a, first), (&b, second), (&a, first)] {
        let printed = grade_list(dir, &target);
        let built_from = format!("built from: {}", dir.join("grader").display());
        assert!(
            printed.contains(&format!("rubric: {rubric}")) && printed.contains(&built_from),
            "`cargo grade --list` in {} ran another checkout's grader:\n{printed}",
            dir.display()
        );
        builds_in.push(printed.lines().find_map(|l| l.strip_prefix("builds in: ")).unwrap_or_default().to_string());
    }
    // The code each grader builds (a student's) has a target folder of its
    // checkout's own, under the shared one.
    assert!(
        builds_in[0] == builds_in[2]
            && builds_in[0] != builds_in[1]
            && builds_in.iter().all(|d| Path::new(d).starts_with(&target)),
        "{builds_in:?}"
    );
}

#[test]
fn two_checkouts_sharing_a_target_folder_grade_with_their_own_graders() {
    let work = tempfile_dir();
    each_grades_with_its_own_grader(&work.join("one"), "alpha", "beta");
    each_grades_with_its_own_grader(&work.join("two"), "beta", "alpha");
    std::fs::remove_dir_all(&work).unwrap();
}

/// A fresh folder under the system's temporary folder (the launcher has
/// no dependencies, tempfile included).
fn tempfile_dir() -> PathBuf {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("ipc-grade-shared-target-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
