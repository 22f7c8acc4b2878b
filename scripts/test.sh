#!/usr/bin/env bash
# Set everything up and run the whole test suite: lint, type check, tests.
# Slow benchmarks are excluded (run them with benchmarks/, see benchmarks/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"
ruff check .
ruff format --check src tests
echo "== mypy"
mypy
echo "== pytest"
pytest -m "not slow and not benchmark" -q "$@"
