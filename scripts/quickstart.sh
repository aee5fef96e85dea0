#!/usr/bin/env bash
# Install skiff, start a cluster on the embedded SQLite store, and apply the sample app.
# Usage: scripts/quickstart.sh [extra skiff server flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
if [[ $(id -u) -eq 0 ]]; then DATA=${SKIFF_DATA_DIR:-/var/lib/skiff}; else DATA=${SKIFF_DATA_DIR:-$HOME/.local/share/skiff}; fi
PORT=${SKIFF_PORT:-6443}
mkdir -p "$DATA"
if [[ -f "$DATA/server.pid" ]] && kill -0 "$(cat "$DATA/server.pid")" 2>/dev/null; then
    echo "skiff server already running (pid $(cat "$DATA/server.pid"))"
else
    nohup .venv/bin/skiff server --data-dir "$DATA" --https-port "$PORT" "$@" >"$DATA/server.log" 2>&1 &
    echo $! >"$DATA/server.pid"
fi
export KUBECONFIG="$DATA/server/admin.kubeconfig"
for _ in $(seq 1 100); do
    if [[ -f "$KUBECONFIG" ]] && kubectl --request-timeout=2s get --raw /readyz >/dev/null 2>&1; then
        break
    fi
    sleep 0.3
done
kubectl get --raw /readyz >/dev/null
kubectl apply -f examples/
kubectl get all
echo
echo "skiff is running (pid $(cat "$DATA/server.pid"), log $DATA/server.log)."
echo "  export KUBECONFIG=$KUBECONFIG"
