#!/usr/bin/env bash
# The one test command. On a fresh clone it installs what it needs (a Python venv with moto's server, cfn-lint,
# cargo-lambda and the SAM CLI; the arm64 Rust target), starts moto on 127.0.0.1 only, and runs every check:
# fmt, clippy, rustdoc, the deploy check (sam validate, sam build, cfn-lint), all Rust tests, and each fuzz target
# for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

step "cargo doc --no-deps (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet

step "python tooling (.venv: moto server, cfn-lint)"
scripts/venv.sh

step "deploy check (SAM validate and build, cfn-lint)"
scripts/deploy-check.sh

step "moto server on loopback"
# shellcheck source=scripts/moto.sh
source scripts/moto.sh
start_moto

step "cargo test"
cargo test --locked --all-targets -- --include-ignored

step "fuzz targets, 20 s each (cargo-fuzz, --sanitizer none)"
scripts/fuzz.sh
