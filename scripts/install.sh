#!/usr/bin/env bash
# Install kubelite and everything it needs on a fresh Debian 12 machine, as root, then start
# `kubelite server` on its embedded SQLite store (unless KUBELITE_NO_START=1), and wait
# until it answers /readyz (KUBELITE_PORT, default 6443; log /var/log/kubelite.log).
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

# Start the server unless one already answers. "Already running" is judged by the API
# (/readyz on the port) and by the pid this script recorded, not by process names (a test
# server or a shell mentioning "kubelite server" must not count). The server runs in its
# own session (setsid), so it outlives the shell (or CI step) that started it.
port=${KUBELITE_PORT:-6443}
log=${KUBELITE_LOG:-/var/log/kubelite.log}
pidfile=${KUBELITE_PIDFILE:-/run/kubelite-server.pid}
ready() {
  python3 - "$port" <<'PY'
import ssl, sys, urllib.request
ctx = ssl.create_default_context()
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
try:
    with urllib.request.urlopen(f"https://127.0.0.1:{sys.argv[1]}/readyz", context=ctx,
                                timeout=2) as r:
        sys.exit(0 if r.read().strip() == b"ok" else 1)
except Exception:
    sys.exit(1)
PY
}
alive() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

if [ "${KUBELITE_NO_START:-0}" != 1 ]; then
  if ready; then
    echo "kubelite server is already running (https://127.0.0.1:$port)"
  else
    if ! alive; then
      mkdir -p /var/log
      setsid nohup kubelite server --https-listen-port "$port" >"$log" 2>&1 </dev/null &
      echo $! >"$pidfile"
    fi
    # first start makes the CA and certificates; on a busy 2-core machine allow 2 minutes
    for _ in $(seq 1 600); do
      if grep -q "kubelite: ready" "$log" 2>/dev/null && ready; then break; fi
      alive || { echo "kubelite server exited:" >&2; tail -n 50 "$log" >&2; exit 1; }
      sleep 0.2
    done
    ready || { echo "kubelite server did not become ready:" >&2; tail -n 50 "$log" >&2; exit 1; }
    echo "kubelite is running (log: $log, pid $(cat "$pidfile"))."
    echo "Try: kubelite kubectl get nodes"
  fi
fi
