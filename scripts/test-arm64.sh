#!/usr/bin/env bash
# The scanner's SIMD block search (src/ingest/string_ends.rs) has one code path per architecture inside the `wide`
# crate: SSE2 on x86-64, where `scripts/test.sh` runs it, and NEON on arm64, where the Lambda runs. This runs the
# module's tests (exhaustive block classification, backslash runs across blocks, the property test against a
# byte-by-byte reference) compiled for aarch64 and executed under QEMU user emulation.
#
# Not part of `scripts/test.sh`: it needs QEMU and an arm64 C library from the system's packages
# (Debian: `apt-get install qemu-user libc6-arm64-cross`), and zig from the project's venv (`scripts/venv.sh`).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

command -v qemu-aarch64 >/dev/null || { echo "needs qemu-aarch64 (Debian: apt-get install qemu-user)" >&2; exit 2; }
[ -d /usr/aarch64-linux-gnu ] || { echo "needs an arm64 C library (Debian: apt-get install libc6-arm64-cross)" >&2; exit 2; }
zig=$(find "$repo/.venv" -path '*ziglang/zig' -type f 2>/dev/null | head -1)
[ -n "$zig" ] || { echo "needs zig from the venv: run scripts/venv.sh" >&2; exit 2; }
rustup target add aarch64-unknown-linux-gnu >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/.cargo"
# The module alone, with the crate's own versions of its two dependencies.
wide=$(grep -E '^wide = ' Cargo.toml)
cat >"$work/Cargo.toml" <<EOF
[package]
name = "string-ends-arm64"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
$wide

[dev-dependencies]
proptest = "1"
EOF
cp Cargo.lock "$work/Cargo.lock"
cat >"$work/src/lib.rs" <<EOF
#[path = "$repo/src/ingest/string_ends.rs"]
#[allow(dead_code)]
mod string_ends;
EOF
cat >"$work/linker.sh" <<EOF
#!/bin/sh
exec "$zig" cc -target aarch64-linux-gnu.2.17 "\$@"
EOF
chmod +x "$work/linker.sh"
cat >"$work/.cargo/config.toml" <<EOF
[target.aarch64-unknown-linux-gnu]
linker = "$work/linker.sh"
runner = "qemu-aarch64 -L /usr/aarch64-linux-gnu"
EOF
cd "$work"
CARGO_TARGET_DIR="$repo/target/arm64-check" cargo test --target aarch64-unknown-linux-gnu
