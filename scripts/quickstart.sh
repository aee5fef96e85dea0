#!/usr/bin/env bash
# Install skiff, start a cluster on the embedded SQLite store, and apply the sample app.
# Usage: scripts/quickstart.sh [extra skiff server flags...]
# Environment: SKIFF_DATA_DIR (default /var/lib/skiff as root), SKIFF_PORT (default 6443).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
if [[ $(id -u) -eq 0 ]]; then DATA=${SKIFF_DATA_DIR:-/var/lib/skiff}; else DATA=${SKIFF_DATA_DIR:-$HOME/.local/share/skiff}; fi
PORT=${SKIFF_PORT:-6443}
export SKIFF_DATA_DIR="$DATA"
mkdir -p "$DATA"
if [[ -f "$DATA/server.pid" ]] && kill -0 "$(cat "$DATA/server.pid")" 2>/dev/null; then
    echo "skiff server already running (pid $(cat "$DATA/server.pid"))"
else
    nohup .venv/bin/skiff server --data-dir "$DATA" --https-port "$PORT" "$@" >"$DATA/server.log" 2>&1 &
    echo $! >"$DATA/server.pid"
fi
# wait for /readyz over HTTPS with the cluster CA (no kubectl or curl needed)
.venv/bin/python - "$DATA" "$PORT" <<'PY'
import ssl, sys, time, urllib.request
data, port = sys.argv[1], sys.argv[2]
deadline = time.time() + 60
while True:
    try:
        ctx = ssl.create_default_context(cafile=f"{data}/server/tls/ca.crt")
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/readyz", context=ctx, timeout=2):
            break
    except OSError:
        if time.time() > deadline:
            sys.exit(f"skiff server did not become ready; see {data}/server.log")
        time.sleep(0.3)
PY
export KUBECONFIG="$DATA/server/admin.kubeconfig"
.venv/bin/skiff apply -f examples/
if command -v kubectl >/dev/null; then kubectl get all; fi
echo
echo "skiff is running (pid $(cat "$DATA/server.pid"), log $DATA/server.log)."
echo "  export KUBECONFIG=$KUBECONFIG"
