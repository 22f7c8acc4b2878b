#!/usr/bin/env bash
# Set everything up and run the end-to-end demonstration (`plumetrace demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/plumetrace demo "$@"
