#!/usr/bin/env bash
# Runs every measurement of BENCHMARKS.md side by side, on this machine, and prints the figures:
#   1. the Rust pipeline benchmark (stages, end to end, ratio to inflate), checked against the ground truth;
#   2. the Python 3.11 peer on the same three deliveries, and the ratio;
#   3. peak memory growth (VmHWM) of one end-to-end run on the largest delivery;
#   4. the release `bootstrap`: CPU time to be ready for its first event, its whole-process peak (VmHWM) after
#      handling the largest delivery (publishing to SNS on moto), and its size.
# Needs nothing installed by hand: the venv (moto, cargo-lambda) comes from scripts/venv.sh. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench-events
mkdir -p "$out"

echo "== 1. Rust pipeline (cargo bench --bench pipeline)"
cargo bench --bench pipeline -- --write-events "$out"

echo
echo "== 2. Python $(python3 -c 'import sys; print(sys.version.split()[0])') peer on the same deliveries"
python3 bench/python_peer.py "$out" > "$out/python.jsonl"
python3 - "$out" <<'PY'
import json, sys
from pathlib import Path
d = Path(sys.argv[1])
rust = json.loads((d / "rust-e2e.json").read_text())
print("| delivery | Rust end to end (median) | Python peer (median) | Rust is x times faster |")
print("|---|---:|---:|---:|")
for line in (d / "python.jsonl").read_text().splitlines():
    p = json.loads(line)
    r = rust[p["delivery"]]
    print(f"| {p['delivery']} | {r:.2f} ms | {p['median_ms']:.1f} ms | {p['median_ms'] / r:.1f} |")
PY

echo
echo "== 3. Peak memory growth of one end-to-end run (VmHWM - VmRSS before)"
cargo bench --bench pipeline -- --memory "$out/largest.json"

echo
echo "== 4. The release bootstrap: start-up CPU, whole-process peak, size"
cargo build --release --bin apigw-doctor-lambda
scripts/venv.sh
# shellcheck source=scripts/moto.sh
source scripts/moto.sh
start_moto
topic=$(.venv/bin/python -c 'import boto3; print(boto3.client("sns").create_topic(Name="bench")["TopicArn"])')
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/cargo-lambda lambda watch --only-lambda-apis -A 127.0.0.1 -P "$port" >target/emulator.log 2>&1 &
emulator=$!
trap 'kill $emulator $MOTO_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$port/.rt" AWS_LAMBDA_FUNCTION_NAME=_ AWS_LAMBDA_FUNCTION_VERSION=1 \
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 ALERT_TOPIC_ARN="$topic" target/release/apigw-doctor-lambda >target/bootstrap.log 2>&1 &
fn=$!
# Ready = blocked in its first GET /next: wait until it sleeps, then read its CPU time (ns on CPU, schedstat).
sleep 1
echo "bootstrap ready for its first event after $(awk '{printf "%.2f", $1/1e6}' /proc/$fn/schedstat) ms of CPU (schedstat)"
curl -s -o /dev/null -X POST --data-binary @"$out/largest.json" "http://127.0.0.1:$port/2015-03-31/functions/_/invocations"
echo "after the largest delivery ($(stat -c %s "$out/largest.json") bytes): $(grep -E 'VmHWM' /proc/$fn/status | tr -s ' ')"
echo "bootstrap binary: $(stat -c %s target/release/apigw-doctor-lambda) bytes (stripped, lto, codegen-units=1), $(uname -m)"
kill $fn 2>/dev/null || true
