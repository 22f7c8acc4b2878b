#!/usr/bin/env bash
# Refresh docs/screenshots/ (the README's pictures of the workbench) from the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PLUMETRACE_SCREENSHOTS=1 bash scripts/test.sh tests/web -p no:cacheprovider
