#!/usr/bin/env bash
# The one test command. On a fresh clone it installs what it needs (a Python venv with moto's server and
# cfn-lint), starts moto on 127.0.0.1 only, and runs every check: fmt, clippy, cfn-lint, all Rust tests.
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

if [ -f template.yaml ]; then
  step "cfn-lint template.yaml (default; Kinesis fan-in both ways; suppression off)"
  .venv/bin/cfn-lint template.yaml
  .venv/bin/cfn-lint template.yaml --parameters FanIn=kinesis FanInOrganizationId=o-abcdefghij LogGroupNames=
  .venv/bin/cfn-lint template.yaml --parameters FanIn=kinesis FanInSenderAccounts=111122223333,444455556666 Suppression=disabled
fi

step "moto server on loopback"
# shellcheck source=scripts/moto.sh
source scripts/moto.sh
start_moto

step "cargo test"
cargo test --locked --all-targets -- --include-ignored
