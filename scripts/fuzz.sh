#!/usr/bin/env bash
# The fuzz targets (fuzz/), each for a bounded time: what takes untrusted input (a subscription event, a Kinesis or
# any other payload the function is sent, pasted text, the planner's facts, the scanner against serde_json) under
# libFuzzer. Stable Rust, so `--sanitizer none` (cargo-fuzz documents it; nightly would add AddressSanitizer; the
# crate forbids `unsafe`). Installs cargo-fuzz (pinned) when it is missing. A crash fails the run and is kept under
# fuzz/artifacts/<target>/ (replay: cargo fuzz run --sanitizer none <target> <file>).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-20}"
version=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -q "$version"; then
  cargo install cargo-fuzz --locked --version "$version"
fi
cargo fuzz build --sanitizer none
mkdir -p target
for target in $(cargo fuzz list); do
  echo "==> fuzz $target for ${seconds}s"
  log="target/fuzz-$target.log"
  status=0
  cargo fuzz run --sanitizer none "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz target $target failed (exit $status): its input is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
