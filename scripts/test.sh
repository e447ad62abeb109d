#!/usr/bin/env bash
# Run every check CI runs: ruff, mypy, import layers, then the whole pytest suite
# (unit, integration and, as root, the end-to-end tests with runc and the real kubectl).
#
#   ./scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== ruff"; ruff check src tests bench
echo "== mypy"; mypy
echo "== import layers"; PYTHONPATH=src lint-imports
echo "== pytest"; python3 -m pytest "$@"
