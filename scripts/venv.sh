#!/usr/bin/env bash
# Creates .venv with the pinned test tooling, once; re-running is cheap when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.requirements
if [ -x .venv/bin/python ] && cmp -s scripts/requirements.txt "$stamp"; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
cp scripts/requirements.txt "$stamp"
