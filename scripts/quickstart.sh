#!/usr/bin/env bash
# Install skiff, start a cluster on the embedded SQLite store (with a node agent running real
# containers through runc), and run the sample app: a web Deployment whose image is built here,
# offline, from Debian's busybox-static and imported into the node's image store.
# Usage: /path/to/skiff/scripts/quickstart.sh [extra skiff server flags...]   (from any directory)
# Environment: SKIFF_DATA_DIR (default /var/lib/skiff as root), SKIFF_PORT (default 6443).
#
# Safe to run again: a running server is reused, the server log is appended to, and the sample
# app is applied with --force-conflicts, so it converges back to examples/ even after
# `kubectl scale` or `kubectl edit` changed it (fields the manifests do not set are kept).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
scripts/install.sh
if [[ $(id -u) -eq 0 ]]; then DATA=${SKIFF_DATA_DIR:-/var/lib/skiff}; else DATA=${SKIFF_DATA_DIR:-$HOME/.local/share/skiff}; fi
PORT=${SKIFF_PORT:-6443}
export SKIFF_DATA_DIR="$DATA"
mkdir -p "$DATA"
LOG="$DATA/server.log"
NODE=$("$REPO/.venv/bin/python" -c 'import socket; print(socket.gethostname().lower())')
# the sample image (pinned tag skiff-examples/web:1.0): busybox httpd, built without any registry
"$REPO/.venv/bin/python" -m skiff.testing.images web "$DATA/sample-image" >/dev/null
"$REPO/.venv/bin/skiff" image import --data-dir "$DATA" --node-name "$NODE" "$DATA/sample-image"
if [[ -f "$DATA/server.pid" ]] && kill -0 "$(cat "$DATA/server.pid")" 2>/dev/null; then
    echo "skiff server already running (pid $(cat "$DATA/server.pid"))"
else
    echo "==== quickstart $(date -u +%Y-%m-%dT%H:%M:%SZ): starting skiff server" >>"$LOG"
    # --log appends the server's and its children's output; the redirect catches anything
    # written before the server opened it (a bad flag)
    nohup "$REPO/.venv/bin/skiff" server --data-dir "$DATA" --https-port "$PORT" --log "$LOG" "$@" \
        >>"$LOG" 2>&1 &
    echo $! >"$DATA/server.pid"
fi
# wait for /readyz over HTTPS with the cluster CA (no kubectl or curl needed)
"$REPO/.venv/bin/python" - "$DATA" "$PORT" "$(cat "$DATA/server.pid")" <<'PY'
import os, ssl, sys, time, urllib.request
data, port, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
deadline = time.time() + 60
while True:
    try:
        ctx = ssl.create_default_context(cafile=f"{data}/server/tls/ca.crt")
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/readyz", context=ctx, timeout=2):
            break
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            sys.exit(f"skiff server exited; see the end of {data}/server.log")
        if time.time() > deadline:
            sys.exit(f"skiff server did not become ready; see {data}/server.log")
        time.sleep(0.3)
PY
export KUBECONFIG="$DATA/server/admin.kubeconfig"
"$REPO/.venv/bin/skiff" apply --force-conflicts -f "$REPO/examples/"
# wait (up to 2 minutes) for the sample app's pods to be Ready, then show where to reach them
"$REPO/.venv/bin/python" - <<'PY'
import asyncio, sys
from skiff.client import Client, load_kubeconfig
import os

async def main() -> int:
    async with Client(load_kubeconfig(os.environ["KUBECONFIG"])) as c:
        for _ in range(600):
            d = await c.get(("apps/v1", "Deployment"), "web", namespace="default")
            want = d["spec"].get("replicas", 1)
            if (d.get("status") or {}).get("availableReplicas") == want:
                pods = await c.list(("v1", "Pod"), namespace="default", label_selector="app=web")
                for p in pods["items"]:
                    ip = p["status"].get("podIP")
                    print(f"  pod {p['metadata']['name']}: curl http://{ip}:8080/")
                return 0
            await asyncio.sleep(0.2)
    print("the sample app is not ready yet; see kubectl describe pods -l app=web", file=sys.stderr)
    return 0

sys.exit(asyncio.run(main()))
PY
if command -v kubectl >/dev/null; then kubectl get all -o wide; fi
echo
echo "skiff is running (pid $(cat "$DATA/server.pid"), log $LOG)."
echo "  export KUBECONFIG=$KUBECONFIG"
echo "  export PATH=$REPO/.venv/bin:\$PATH     # for skiff itself"
echo "  stop it with: kill \$(cat $DATA/server.pid)"
