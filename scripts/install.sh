#!/usr/bin/env bash
# Install skiff's system and Python dependencies into ./.venv (Debian 12, run as root).
# Usage: scripts/install.sh [--test]     (--test adds the test and lint dependencies)
set -euo pipefail
cd "$(dirname "$0")/.."

# Needed now: a venv, and iproute2 (the tests compare the serving certificate's addresses with
# `ip address`). Installed for the node agent and networking (later issues), and used by nothing
# yet, so a mirror hiccup there must not stop the control plane from installing.
REQUIRED=(python3-venv iproute2)
LATER=(runc nftables busybox-static)
missing() { for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done; }
need=($(missing "${REQUIRED[@]}"))
want=($(missing "${LATER[@]}"))
if ((${#need[@]} + ${#want[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || true
        if ((${#need[@]})); then
            apt-get install -y -qq --no-install-recommends "${need[@]}"
        fi
        if ((${#want[@]})); then
            apt-get install -y -qq --no-install-recommends "${want[@]}" ||
                echo "skiff: could not install ${want[*]} (not needed yet)" >&2
        fi
    else
        echo "skiff: not root (or no apt); skipping system packages: ${need[*]} ${want[*]}" >&2
    fi
fi

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
