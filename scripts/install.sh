#!/usr/bin/env bash
# Install kubelite and everything it needs on a fresh Debian 12 machine, as root, then start
# `kubelite server` on its embedded SQLite store (unless KUBELITE_NO_START=1).
#
#   sudo ./scripts/install.sh
#
# Debian packages come from scripts/debian-packages.txt; the Python package and its
# dependencies are installed from this checkout with pip.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (it installs Debian packages and runs containers)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
mapfile -t pkgs < <(grep -v '^\s*\(#\|$\)' "$here/scripts/debian-packages.txt")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# kubectl: the machine's own if it has one; else the kubectl package where an apt source
# provides it, else Debian's (older) kubernetes-client
if ! command -v kubectl >/dev/null; then
  apt-get install -y -q kubectl 2>/dev/null || apt-get install -y -q kubernetes-client
fi

# the official JavaScript client for its e2e tests (tests/e2e/clients/js, pinned by its
# package-lock.json): Node.js from the machine, else Debian's
if [ -f "$here/tests/e2e/clients/js/package-lock.json" ]; then
  command -v npm >/dev/null || apt-get install -y -q --no-install-recommends nodejs npm
  npm ci --prefix "$here/tests/e2e/clients/js" --no-audit --no-fund --loglevel=error
fi

python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -e "$here[test]"

if [ "${KUBELITE_NO_START:-0}" != 1 ]; then
  mkdir -p /var/log
  if pgrep -f "kubelite server" >/dev/null; then
    echo "kubelite server is already running"
  else
    nohup kubelite server >/var/log/kubelite.log 2>&1 &
    for _ in $(seq 1 100); do
      grep -q "kubelite: ready" /var/log/kubelite.log 2>/dev/null && break
      sleep 0.2
    done
    grep -q "kubelite: ready" /var/log/kubelite.log || { cat /var/log/kubelite.log; exit 1; }
    echo "kubelite is running (log: /var/log/kubelite.log)."
    echo "Try: kubelite kubectl get nodes"
  fi
fi
