#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
# It installs the Rust toolchain where every user can read it (the builds
# and programs of submissions run as users of their own), builds the grader,
# compiles every dependency of the students' crate once (the build cache),
# and closes the autograder's own files to everyone but root.
#
# AUTOGRADER_ROOT (default /autograder) lets it run anywhere, for a test.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source/ipc-labs"
RUST_VERSION="@RUST_VERSION@"
export CARGO_HOME="${IPC_CARGO_HOME:-/usr/local/cargo}" RUSTUP_HOME="${IPC_RUSTUP_HOME:-/usr/local/rustup}"
export PATH="$CARGO_HOME/bin:$PATH"

if [ ! -x "$CARGO_HOME/bin/cargo" ]; then
  apt-get update
  apt-get install -y --no-install-recommends curl ca-certificates build-essential
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
    sh -s -- -y --no-modify-path --profile minimal --default-toolchain "$RUST_VERSION"
fi

cd "$SRC"
cargo --version
# Only this machine's crates: the lock file also names Windows' and macOS'.
cargo fetch --locked --target "$(rustc -vV | sed -n 's/^host: //p')"
# The grader and its peers' executable, prebuilt: run_autograder runs these
# and never builds from a tree a submission could have touched.
cargo build --locked -p ipc-grader
# The dependencies of students' code (nix, clap, ...), compiled once, as a
# submission's build compiles them.
"${CARGO_TARGET_DIR:-target}/debug/ipc-grader" --prepare-build-cache "$ROOT/build-cache"
# The grader, the rubric, the hidden checks and the build cache are root's
# alone; the results folder too.
chmod -R go-rwx "$ROOT/source" "$ROOT/build-cache"
mkdir -p "$ROOT/results"
chmod 755 "$ROOT/results"
echo "The autograder is ready."
