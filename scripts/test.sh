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
echo "== tsc (web/)"
(cd web && npm run --silent typecheck)
echo "== pytest"
bash scripts/postgres.sh
# browser tests drive Debian's Chromium; missing is a failure in this command, not a skip
bash scripts/chromium.sh
export PLUMETRACE_REQUIRE_BROWSER=1
# store tests run on SQLite and on this PostgreSQL; unreachable is a failure, not a skip
export PLUMETRACE_REQUIRE_POSTGRES=1
export PLUMETRACE_TEST_POSTGRES_URL="${PLUMETRACE_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
pytest -m "not slow and not benchmark" -q "$@"
