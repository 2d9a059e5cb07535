#!/usr/bin/env bash
# Memory of one warm Lambda process over a sequence of deliveries: the release `apigw-doctor-lambda` driven through
# cargo-lambda's Runtime API emulator, one process for the whole sequence (as a warm Lambda keeps it), VmRSS and
# VmHWM after each invocation. SNS points at a closed loopback port (memory is measured, not delivery).
#
#   cargo build --release --bin apigw-doctor-lambda
#   bench/bootstrap-warm-memory.sh DELIVERY.json [DELIVERY.json ...]     # in this order, in one process
#
# Extra environment for the function (e.g. MALLOC_ARENA_MAX=1) passes through with FUNCTION_ENV="K=V K=V".
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/apigw-doctor-lambda}
EMULATOR=${CARGO_LAMBDA:-.venv/bin/cargo-lambda}
PORT=${PORT:-9312}
"$EMULATOR" lambda watch --only-lambda-apis -A 127.0.0.1 -P "$PORT" >/dev/null 2>&1 &
emulator=$!
trap 'kill $emulator 2>/dev/null || true; kill $function 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
  sleep 0.1
done
# shellcheck disable=SC2086
env AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$PORT/.rt" AWS_LAMBDA_FUNCTION_NAME=_ AWS_LAMBDA_FUNCTION_VERSION=1 \
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
  AWS_ENDPOINT_URL=http://127.0.0.1:9 ALERT_TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:t ${FUNCTION_ENV:-} \
  "$BIN" >/dev/null 2>&1 &
function=$!
sleep 0.5
kb() { awk -v k="$1" '$1 == k":" {printf "%.1f", $2/1024}' /proc/$function/status; }
echo "idle: VmRSS $(kb VmRSS) MB"
n=0
for delivery in "$@"; do
  n=$((n + 1))
  curl -s -o /dev/null -X POST --data-binary @"$delivery" "http://127.0.0.1:$PORT/2015-03-31/functions/_/invocations"
  echo "$n $(basename "$delivery"): VmRSS $(kb VmRSS) MB, peak VmHWM $(kb VmHWM) MB"
done
