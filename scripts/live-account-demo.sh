#!/usr/bin/env bash
# The example outputs of docs/live-account.md, reproduced: builds a small API on moto's server (loopback only, the
# venv scripts/test.sh makes), then runs `diagnose --api-id` and `audit` against it. Run scripts/test.sh once first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/moto.sh
start_moto >/dev/null
export AWS_ENDPOINT_URL=$MOTO_ENDPOINT AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
cargo build -q --bin apigw-doctor
api=$(.venv/bin/python scripts/live_account_demo.py)
echo "\$ apigw-doctor diagnose --api-id $api --stage prod --since 1h"
target/debug/apigw-doctor diagnose --api-id "$api" --stage prod --since 1h || true
echo "\$ apigw-doctor audit --api-id $api --stage prod"
target/debug/apigw-doctor audit --api-id "$api" --stage prod || true
