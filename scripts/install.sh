#!/usr/bin/env bash
# Install skiff's system and Python dependencies into ./.venv (Debian 12, run as root).
# Usage: scripts/install.sh [--test]     (--test adds the test and lint dependencies)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3-venv runc iproute2 nftables busybox-static)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || true
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        echo "skiff: not root; skipping system packages: ${missing[*]}" >&2
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
