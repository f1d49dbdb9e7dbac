#!/usr/bin/env bash
# Runs once, when the dev container is created (postCreateCommand in
# devcontainer.json, which pins the image: Debian 13 with Rust, rustfmt,
# clippy, rust-analyzer, strace and the man pages of the system calls).
# It adds gdb, checks that every tool is there, and builds what
# `cargo grade` builds, so that the first `cargo grade` only grades.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v gdb >/dev/null; then
  echo "post-create: installing gdb (the image has lldb; the handouts use gdb)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gdb >/dev/null
fi

# Every tool the labs and handouts name. A missing one is reported at the
# end (the container still works for the rest).
missing=()
for tool in "cargo fmt" "cargo clippy" strace gdb; do
  $tool --version >/dev/null 2>&1 || missing+=("$tool")
done
for page in "2 pipe" "3 mq_open" "7 signal"; do
  man -w $page >/dev/null 2>&1 || missing+=("man $page")
done

# The builds `cargo grade` runs: the grader (`cargo run -p ipc-grade`, which builds
# `-p ipc-grader`),
# then the starter's programs. Each on its own, as the grader runs them, so
# that cargo reuses both as they are.
cargo build --package ipc-grader --bin ipc-grader --bin ipc-grader-peers
cargo build --package ipc-grade --bin ipc-grade
if ! cargo build --package ipc-starter --bins --keep-going; then
  # Not a fault of the container: some of the student's code does not compile.
  echo "post-create: some of starter/ does not compile; \`cargo grade\` names each program and its first error."
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "post-create: missing from the container: ${missing[*]}." >&2
  echo "post-create: the image in .devcontainer/devcontainer.json no longer has them; add them to this script." >&2
  exit 1
fi
echo "post-create: ready; run \`cargo grade\`."
