#!/usr/bin/env bash
# Refresh docs/screenshots/ (the README's pictures of the workbench) on the demo's
# scenario: builds the demo, serves it and photographs the main views in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/chromium.sh
exec .venv/bin/python scripts/demo_screenshots.py "$@"
