#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv with everything needed
# to run plumetrace and its tests. Idempotent: re-running only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "plumetrace needs Python >= 3.11 (found: $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.plumetrace-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  touch "$stamp"
fi
# The workbench page: built from web/ with packages from the npm registry (nothing
# front-end is vendored); rebuilt when a web/ source is newer than the last build.
if [[ -f web/package.json ]]; then
  if command -v npm >/dev/null 2>&1; then
    built=src/plumetrace/api/static/.built
    if [[ ! -d web/node_modules || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
      (cd web && npm ci --no-audit --no-fund --loglevel=error)
    fi
    if [[ ! -f $built || -n "$(find web -path web/node_modules -prune -o -type f -newer "$built" -print -quit)" ]]; then
      (cd web && npm run --silent build)
      touch "$built"
    fi
  else
    echo "warning: npm not found: the workbench page is not built (the API still works)" >&2
  fi
fi
