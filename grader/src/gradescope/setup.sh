#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
# It installs the Rust toolchain (if the image has none), builds the grader,
# and compiles every dependency of the students' crate, so that grading a
# submission compiles only the student's own code.
#
# AUTOGRADER_ROOT (default /autograder) lets it run anywhere, for a test.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source/ipc-labs"
RUST_VERSION="@RUST_VERSION@"

if ! command -v cargo >/dev/null 2>&1 && [ ! -x /usr/local/cargo/bin/cargo ]; then
  apt-get update
  apt-get install -y --no-install-recommends curl ca-certificates build-essential
  export CARGO_HOME=/usr/local/cargo RUSTUP_HOME=/usr/local/rustup
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
    sh -s -- -y --no-modify-path --profile minimal --default-toolchain "$RUST_VERSION"
fi
if [ -x /usr/local/cargo/bin/cargo ]; then
  export CARGO_HOME=/usr/local/cargo RUSTUP_HOME=/usr/local/rustup PATH="/usr/local/cargo/bin:$PATH"
fi

cd "$SRC"
cargo --version
# Only this machine's crates: the lock file also names Windows' and macOS'.
cargo fetch --locked --target "$(rustc -vV | sed -n 's/^host: //p')"
cargo build --locked -p ipc-grader
# The untouched starter compiles: building the programs this assignment
# grades compiles what students' code depends on (nix, clap, ...) once, here.
cargo build --locked -p ipc-starter @BINS@
echo "The autograder is ready."
