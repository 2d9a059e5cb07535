# Sourced by scripts/test.sh: starts moto's server on 127.0.0.1 on a free port, exports the variables the AWS SDK
# and the tests read, and stops the server when the shell exits.
start_moto() {
  local port log
  port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p target
  log=target/moto.log
  # moto's server; scripts/moto_server.py gives HTTP and WebSocket APIs ids of AWS's shape.
  .venv/bin/python scripts/moto_server.py -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  MOTO_PID=$!
  trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    if .venv/bin/python - "$port" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
PY
    sleep 0.2
  done
  export MOTO_ENDPOINT="http://127.0.0.1:$port"
  export AWS_ENDPOINT_URL="$MOTO_ENDPOINT"
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export CARGO_LAMBDA="$PWD/.venv/bin/cargo-lambda"
  echo "moto listening on $MOTO_ENDPOINT (log: $log)"
}
