#!/usr/bin/env bash
# Usage: scripts/smoke.sh [first-port] [last-port]
# Checks a running fleet (`npm start`): a key posted on the first node reads back on the last.
# Exit 0 when it does, 1 when it does not.
set -euo pipefail
first=${1:-8181}
last=${2:-8183}
key="smoke-$$-$RANDOM"
curl -fsS -d "key=$key" -d "value=ok" "http://127.0.0.1:$first/post" >/dev/null
got=$(curl -fsS "http://127.0.0.1:$last/get/$key")
if [ "$got" = ok ]; then
  echo "ok: $key posted on :$first, read on :$last"
else
  echo "FAILED: read '$got' on :$last" >&2
  exit 1
fi
