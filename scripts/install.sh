#!/usr/bin/env bash
# Install skiff's system and Python dependencies into ./.venv (Debian 12, run as root).
# Usage: scripts/install.sh [--test]     (--test adds the test and lint dependencies)
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: a venv; iproute2 (the serving certificate's addresses, pod networking);
# runc, nftables and busybox-static for the node agent's containers, pod network and test images;
# docker-registry for the image-pull tests (started by the tests themselves, bound to 127.0.0.1).
REQUIRED=(python3-venv iproute2 runc nftables busybox-static docker-registry)
missing() { for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done; }
need=($(missing "${REQUIRED[@]}"))
if ((${#need[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || true
        apt-get install -y -qq --no-install-recommends "${need[@]}"
    else
        echo "skiff: not root (or no apt); skipping system packages: ${need[*]}" >&2
        echo "skiff: without runc the agent falls back to the process runtime" >&2
    fi
fi
# Debian's docker-registry package starts nothing here (no systemd); the tests run their own.

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [[ "${1:-}" == "--test" ]]; then
    .venv/bin/python -m pip install -q -e '.[test]'
else
    .venv/bin/python -m pip install -q -e .
fi
