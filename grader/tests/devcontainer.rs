//! The dev container (`.devcontainer/`, the same in the student template)
//! and the stop for a build that is not for Linux (`common/build.rs`, which
//! `engine/build.rs` includes).
//!
//! No container runs here: these tests check the definition against the dev
//! container specification and run the build scripts as cargo would for
//! macOS and Windows. `.ci/run` also builds for macOS where that target's
//! standard library is installed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ipc_engine::build::workspace_root;
use ipc_engine::proc::{self, Collected, Exit, Spec};
use ipc_grader::handouts::anchors;
use ipc_grader::labs::LABS;
use ipc_grader::rubric::Rubric;
use serde_json::{Map, Value};

/// The top-level properties the specification allows in the devcontainer.json
/// of a container made from an image: the properties of `devContainerCommon`,
/// `nonComposeBase` and `imageContainer` in the spec's
/// `schemas/devContainer.base.schema.json`, which refuses any other
/// (`unevaluatedProperties: false`). A misspelt property is ignored by the
/// tools, so it fails here instead.
const IMAGE_PROPERTIES: &[&str] = &[
    // devContainerCommon
    "$schema",
    "name",
    "features",
    "overrideFeatureInstallOrder",
    "secrets",
    "forwardPorts",
    "portsAttributes",
    "otherPortsAttributes",
    "updateRemoteUserUID",
    "containerEnv",
    "containerUser",
    "mounts",
    "init",
    "privileged",
    "capAdd",
    "securityOpt",
    "remoteEnv",
    "remoteUser",
    "initializeCommand",
    "onCreateCommand",
    "updateContentCommand",
    "postCreateCommand",
    "postStartCommand",
    "postAttachCommand",
    "waitFor",
    "userEnvProbe",
    "hostRequirements",
    "customizations",
    "additionalProperties",
    // nonComposeBase
    "appPort",
    "runArgs",
    "shutdownAction",
    "overrideCommand",
    "workspaceFolder",
    "workspaceMount",
    // imageContainer
    "image",
];

/// The lifecycle commands: a string (run by a shell), an array (one command
/// and its arguments) or an object of named commands of either form.
const LIFECYCLE: &[&str] = &[
    "initializeCommand",
    "onCreateCommand",
    "updateContentCommand",
    "postCreateCommand",
    "postStartCommand",
    "postAttachCommand",
];

fn definition_at(root: &Path) -> Map<String, Value> {
    let path = root.join(".devcontainer/devcontainer.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    // serde_json takes strict JSON only: no comments, no trailing commas (the
    // tools accept both, but a plain JSON file is read the same by all).
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => map,
        Ok(other) => panic!("{} is JSON but not an object: {other}", path.display()),
        Err(e) => panic!("{} is not valid JSON: {e}", path.display()),
    }
}

fn definition() -> Map<String, Value> {
    definition_at(&workspace_root())
}

/// Whether a container image or feature reference names one version for
/// good: a digest (`@sha256:` and 64 hex digits), or a tag that starts with
/// a full version (`2.0.9`, `2.0.9-1-trixie`, `1.5.1`). `latest`, a missing
/// tag and partial versions (`1`, `2.0-1`, `1-trixie`) move.
fn pinned(reference: &str) -> bool {
    if let Some((_, digest)) = reference.split_once("@sha256:") {
        return digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let name = reference.rsplit('/').next().unwrap_or(reference);
    let Some((_, tag)) = name.split_once(':') else { return false };
    let version = tag.split('-').next().unwrap_or_default();
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_command(value: &Value) -> bool {
    match value {
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(items) => !items.is_empty() && items.iter().all(Value::is_string),
        _ => false,
    }
}

/// `.devcontainer/devcontainer.json` is JSON with what the specification
/// requires of a container made from an image, and nothing it does not know.
#[test]
fn definition_is_json_with_the_fields_the_specification_requires() {
    let def = definition();
    let unknown: Vec<&String> = def.keys().filter(|k| !IMAGE_PROPERTIES.contains(&k.as_str())).collect();
    assert!(unknown.is_empty(), "properties the dev container specification does not define: {unknown:?}");
    // Exactly one source for the container: an image (not a Dockerfile, not Compose).
    for other in ["build", "dockerFile", "dockerfile", "dockerComposeFile", "service"] {
        assert!(!def.contains_key(other), "an image container has no `{other}`");
    }
    let image = def.get("image").and_then(Value::as_str).expect("`image` (a string) is required");
    assert!(
        image.starts_with("mcr.microsoft.com/devcontainers/rust:"),
        "not the official Rust dev container image: {image}"
    );
    assert!(def.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty()), "a `name` to show in the editor");

    for key in LIFECYCLE {
        let Some(value) = def.get(*key) else { continue };
        let ok = is_command(value)
            || value.as_object().is_some_and(|cmds| !cmds.is_empty() && cmds.values().all(is_command));
        assert!(ok, "`{key}` is not a command, an array of arguments, or an object of commands: {value}");
    }
    let extensions =
        def["customizations"]["vscode"]["extensions"].as_array().expect("customizations.vscode.extensions");
    assert!(extensions.iter().any(|e| e == "rust-lang.rust-analyzer"), "rust-analyzer is not among {extensions:?}");
    if let Some(features) = def.get("features") {
        assert!(features.is_object(), "`features` maps each feature to its options: {features}");
    }
}

/// The image is pinned by digest or an exact version, and so is every feature.
#[test]
fn image_and_features_are_pinned() {
    // The rule itself, on references that move and ones that do not.
    for moving in [
        "mcr.microsoft.com/devcontainers/rust",
        "mcr.microsoft.com/devcontainers/rust:latest",
        "mcr.microsoft.com/devcontainers/rust:1",
        "mcr.microsoft.com/devcontainers/rust:1-trixie",
        "mcr.microsoft.com/devcontainers/rust:2.0-1-trixie",
        "ghcr.io/devcontainers/features/rust:1",
        "ghcr.io/devcontainers/features/rust@sha256:abc",
        "localhost:5000/rust",
    ] {
        assert!(!pinned(moving), "{moving} moves, yet counts as pinned");
    }
    for fixed in [
        "mcr.microsoft.com/devcontainers/rust:2.0.9-1-trixie",
        "ghcr.io/devcontainers/features/rust:1.5.1",
        &format!("mcr.microsoft.com/devcontainers/rust@sha256:{}", "ab".repeat(32)),
    ] {
        assert!(pinned(fixed), "{fixed} names one version, yet counts as moving");
    }

    let def = definition();
    let image = def["image"].as_str().unwrap();
    assert!(pinned(image), "the image `{image}` is not pinned: give an exact version tag or @sha256:DIGEST");
    let features = def.get("features").and_then(Value::as_object).cloned().unwrap_or_default();
    let moving: Vec<&String> = features.keys().filter(|f| !pinned(f)).collect();
    assert!(moving.is_empty(), "features not pinned to an exact version or digest: {moving:?}");
}

/// The command run when the container is created builds what `cargo grade`
/// builds, the way it builds it, so that cargo reuses it.
#[test]
fn creating_the_container_builds_what_cargo_grade_builds() {
    let root = workspace_root();
    let def = definition();
    let command = def["postCreateCommand"].as_str().expect("postCreateCommand, one shell command");
    let script = command.strip_prefix("bash ").expect("postCreateCommand runs a script with bash");
    let text = std::fs::read_to_string(root.join(script)).unwrap_or_else(|e| panic!("{script}: {e}"));
    // `cargo grade` is `cargo run ... --package ipc-grade --bin ipc-grade`
    // (launcher/), which builds `--package ipc-grader --bin ipc-grader --bin
    // ipc-grader-peers`; then
    // the grader builds `--package ipc-starter --bins` (engine/src/build.rs).
    let alias = std::fs::read_to_string(root.join(".cargo/config.toml")).unwrap();
    let grade = alias.lines().find(|l| l.starts_with("grade = ")).expect("the `grade` alias");
    assert!(grade.contains("--package ipc-grade --bin ipc-grade"), "the `grade` alias changed: update {script}");
    let launcher = std::fs::read_to_string(root.join("launcher/src/main.rs")).unwrap();
    let grader_build = r#"["--package", "ipc-grader", "--bin", "ipc-grader", "--bin", "ipc-grader-peers"]"#;
    assert!(launcher.contains(grader_build), "the launcher's build changed");
    for build in ["ipc-grader --bin ipc-grader --bin ipc-grader-peers", "ipc-grade --bin ipc-grade"] {
        assert!(text.contains(&format!("\ncargo build --package {build}\n")), "{script} does not build {build}");
    }
    assert!(text.contains("cargo build --package ipc-starter --bins"), "{script} does not build the starter");
    for tool in ["gdb", "strace", "cargo clippy", "cargo fmt", "man -w"] {
        assert!(text.contains(tool), "{script} does not check for {tool}");
    }
}

/// `cargo grade --export-template` writes the same `.devcontainer/`, file for
/// file, and a README that says how to open it (with a Codespaces badge).
#[test]
fn the_exported_template_carries_the_dev_container() {
    let root = workspace_root();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("template");
    let rubric = Rubric::builtin(LABS).unwrap();
    ipc_grader::export::export(&root, &root.join("rubric"), &dest, &rubric).unwrap();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root.join(".devcontainer")).unwrap() {
        files.push(entry.unwrap().file_name());
    }
    assert!(files.len() >= 2, "devcontainer.json and its script: {files:?}");
    for name in &files {
        let ours = std::fs::read(root.join(".devcontainer").join(name)).unwrap();
        let theirs = std::fs::read(dest.join(".devcontainer").join(name))
            .unwrap_or_else(|e| panic!("the template has no .devcontainer/{}: {e}", name.to_string_lossy()));
        assert!(ours == theirs, ".devcontainer/{} differs in the template", name.to_string_lossy());
    }
    assert_eq!(definition_at(&dest), definition());

    let readme = std::fs::read_to_string(dest.join("README.md")).unwrap();
    assert!(
        readme.contains(
            "[![Open in GitHub Codespaces](https://github.com/codespaces/badge.svg)](https://github.com/codespaces/new)"
        ),
        "the template's README has no Codespaces badge:\n{readme}"
    );
}

/// Both READMEs and the handouts' index say how to open a container, under
/// the heading the build scripts' message names.
#[test]
fn readmes_say_how_to_open_the_container() {
    let root = workspace_root();
    let message = std::fs::read_to_string(root.join("common/build.rs")).unwrap();
    assert!(message.contains("README.md, \\\"Working in a container\\\""), "common/build.rs names another section");
    for readme in ["README.md", "template/README.md"] {
        let text = std::fs::read_to_string(root.join(readme)).unwrap();
        assert!(
            anchors(&text).iter().any(|a| a == "working-in-a-container"),
            "{readme}: no \"Working in a container\""
        );
        assert!(text.contains("Reopen in Container") && text.contains("Codespaces"), "{readme}: how to open it?");
    }
    let index = std::fs::read_to_string(root.join("handouts/README.md")).unwrap();
    assert!(
        index.contains("(../README.md#working-in-a-container)"),
        "handouts/README.md does not point at the section"
    );
}

fn rustc() -> PathBuf {
    // Tests run under cargo, which says where it is; rustc is beside it.
    let cargo = PathBuf::from(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    let beside = cargo.with_file_name("rustc");
    if beside.is_file() { beside } else { PathBuf::from("rustc") }
}

fn run(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Collected {
    let mut spec = Spec::new(program, args.iter().copied(), workspace_root());
    spec.env = env.iter().map(|(k, v)| (k.into(), v.into())).collect();
    proc::output(spec, Duration::from_secs(300)).expect("runs")
}

/// The build scripts of ipc-common (every lab program) and ipc-engine (the
/// grader), run as cargo runs them: for macOS, Windows or FreeBSD they fail
/// the build with one `cargo::error` line that says what to do; for Linux
/// they say nothing.
#[test]
fn a_build_for_another_system_stops_with_one_message() {
    let root = workspace_root();
    let work = tempfile::tempdir().unwrap();
    let mut messages = Vec::new();
    for krate in ["common", "engine", "launcher"] {
        let exe = work.path().join(format!("{krate}-build-script"));
        let src = root.join(krate).join("build.rs");
        let out = run(
            &rustc(),
            &["--edition", "2024", "--crate-type", "bin", "-o", exe.to_str().unwrap(), src.to_str().unwrap()],
            &[],
        );
        assert_eq!(
            out.exit,
            Some(Exit::Code(0)),
            "{krate}/build.rs does not compile:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );

        for (os, shown) in [("macos", "macOS"), ("windows", "Windows"), ("freebsd", "freebsd")] {
            let out = run(&exe, &[], &[("CARGO_CFG_TARGET_OS", os)]);
            // cargo fails the build for a `cargo::error` line; the script itself exits 0.
            assert_eq!(out.exit, Some(Exit::Code(0)), "{krate}/build.rs for {os}");
            let stdout = String::from_utf8(out.stdout).unwrap();
            let errors: Vec<&str> = stdout.lines().filter_map(|l| l.strip_prefix("cargo::error=")).collect();
            assert_eq!(errors.len(), 1, "{krate}/build.rs for {os}: one message, not {errors:?}");
            let message = errors[0];
            for says in [
                "Linux only",
                &format!("this build is for {shown}"),
                "dev container",
                "Codespaces",
                "Reopen in Container",
                "WSL 2",
                "Working in a container",
            ] {
                assert!(
                    message.contains(says),
                    "{krate}/build.rs for {os}: the message does not say {says:?}: {message}"
                );
            }
            messages.push(message.replace(&format!("this build is for {shown}"), "this build is for SYSTEM"));
        }
        let out = run(&exe, &[], &[("CARGO_CFG_TARGET_OS", "linux")]);
        assert_eq!(out.exit, Some(Exit::Code(0)));
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(!stdout.contains("cargo::error"), "{krate}/build.rs stops a build for Linux: {stdout}");
        assert!(
            stdout.contains("cargo::rerun-if-changed=build.rs"),
            "{krate}/build.rs would run again for every change"
        );
    }
    messages.sort();
    messages.dedup();
    assert_eq!(messages.len(), 1, "the build scripts' messages differ beyond the system's name: {messages:#?}");
}

/// Every crate of the workspace is ipc-common or ipc-engine (with the build
/// script), or depends on one of them, so cargo runs the stop before it
/// compiles any of the workspace's code; seccompiler, which does not compile
/// for other systems, is a dependency only for Linux.
#[test]
fn every_crate_starts_behind_the_stop() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = run(Path::new(&cargo), &["metadata", "--format-version", "1", "--no-deps", "--offline"], &[]);
    assert_eq!(out.exit, Some(Exit::Code(0)), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = workspace_root();
    let packages = meta["packages"].as_array().unwrap();
    assert!(packages.len() >= 7, "the workspace's packages: {}", packages.len());
    for package in packages {
        let name = package["name"].as_str().unwrap();
        let deps = package["dependencies"].as_array().unwrap();
        match name {
            "ipc-common" | "ipc-engine" | "ipc-grade" => {
                let dir = match name {
                    "ipc-common" => "common",
                    "ipc-engine" => "engine",
                    _ => "launcher",
                };
                let build = package["targets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "custom-build"))
                    .unwrap_or_else(|| panic!("{name} has no build script"));
                assert_eq!(Path::new(build["src_path"].as_str().unwrap()), root.join(dir).join("build.rs"));
            }
            _ => {
                let behind = deps.iter().any(|d| {
                    (d["name"] == "ipc-common" || d["name"] == "ipc-engine")
                        && d["kind"].is_null()
                        && d["target"].is_null()
                });
                assert!(
                    behind,
                    "{name} depends on neither ipc-common nor ipc-engine: its code would compile before the stop"
                );
            }
        }
        for dep in deps.iter().filter(|d| d["name"] == "seccompiler") {
            assert_eq!(dep["target"], "cfg(target_os = \"linux\")", "{name}: seccompiler for every system");
        }
    }
}
