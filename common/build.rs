// Stops a build for any system but Linux at once, with one message that
// says what to do, instead of dozens of compiler errors from crates and
// code that need Linux (POSIX message queues, /proc, seccomp).
//
// Every program of the labs depends on this crate, and `engine/build.rs`
// includes this file for the grader: cargo runs a crate's build script
// before it compiles any of the crate's code, so whatever a student builds
// (`cargo grade`, `cargo build -p ipc-starter`), this message comes first.
// The build script runs on the machine that builds, and reads the system
// the build is *for* from cargo (`CARGO_CFG_TARGET_OS`).

fn main() {
    // Only this file decides whether the script has to run again.
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os != "linux" {
        // `cargo::error` fails the build with this one line (cargo 1.84 and later).
        println!("cargo::error={}", not_linux(&os));
    }
}

/// The message for a build whose target system is `os`.
fn not_linux(os: &str) -> String {
    let system = match os {
        "macos" => "macOS",
        "windows" => "Windows",
        "" => "a system cargo did not name",
        other => other,
    };
    format!(
        "the IPC labs run on Linux only (POSIX message queues, /proc, seccomp), and this build is for {system}. \
         Open the repository in its dev container instead: on GitHub, Code > Codespaces > Create codespace; \
         in VS Code with Docker, \"Dev Containers: Reopen in Container\". \
         WSL 2 on Windows, or any Linux machine, works too. README.md, \"Working in a container\", says how."
    )
}
