#!/usr/bin/env bash
# Peak memory of the shipped Lambda binary on one delivery: the release `apigw-doctor-lambda` (the `bootstrap` SAM
# packages) driven through cargo-lambda's Runtime API emulator, as Lambda drives it; VmHWM of its process after
# the invocation. SNS points at a closed loopback port, so publishing fails fast after rendering (memory is what
# is measured here, not delivery).
#
#   cargo build --release --bin apigw-doctor-lambda
#   bench/bootstrap-memory.sh DELIVERY.json [DELIVERY.json ...]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/apigw-doctor-lambda}
EMULATOR=${CARGO_LAMBDA:-.venv/bin/cargo-lambda}
PORT=${PORT:-9311}
"$EMULATOR" lambda watch --only-lambda-apis -A 127.0.0.1 -P "$PORT" >/dev/null 2>&1 &
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
  sleep 0.1
done
for delivery in "$@"; do
  AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$PORT/.rt" AWS_LAMBDA_FUNCTION_NAME=_ AWS_LAMBDA_FUNCTION_VERSION=1 \
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
    AWS_ENDPOINT_URL=http://127.0.0.1:9 ALERT_TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:t \
    "$BIN" >/dev/null 2>&1 &
  function=$!
  sleep 0.5
  idle=$(awk '/VmRSS/ {print $2}' /proc/$function/status)
  curl -s -o /dev/null -X POST --data-binary @"$delivery" "http://127.0.0.1:$PORT/2015-03-31/functions/_/invocations"
  peak=$(awk '/VmHWM/ {print $2}' /proc/$function/status)
  kill $function; wait $function 2>/dev/null || true
  printf '%s: bootstrap idle %.1f MB, peak (VmHWM) %.1f MB\n' "$delivery" "$(echo "$idle/1024" | bc -l)" "$(echo "$peak/1024" | bc -l)"
done
