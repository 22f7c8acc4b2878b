#!/usr/bin/env bash
# Create benchmarks/.env: an isolated venv holding plumetrace and the peer implementations
# (mag1c 1.2.0, fastmag1c 0.1.0, SPy) used by the benchmark scripts in this folder.
#
#   bash benchmarks/setup_peers.sh            # from the repository root
#
# The peers are installed with --no-deps so that nothing pulls a CUDA build of torch; their
# run-time imports are then installed explicitly. torch is pinned to 2.13.0 (the CPU wheel).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
ENV="$HERE/.env"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3

if [ ! -x "$ENV/bin/python" ]; then
    "$PY" -m venv "$ENV"
fi
PIP=("$ENV/bin/python" -m pip install --disable-pip-version-check)

# Peers, without their declared dependencies.
"${PIP[@]}" --no-deps "mag1c==1.2.0" spectral scikit-image "torch==2.13.0"
"${PIP[@]}" --no-deps "fastmag1c==0.1.0" safetensors

# What the peers import at run time (torch's own pure-Python deps included).
"${PIP[@]}" numpy scipy "spectral" "scikit-image" imageio tifffile lazy_loader networkx pillow \
    filelock typing_extensions sympy jinja2 fsspec psutil threadpoolctl
# scikit-image/torch were already installed above; the line above only fills in what they need
# (pip keeps torch 2.13.0 because it is not named again).

# plumetrace itself (editable) with its own dependencies.
"${PIP[@]}" -e "$ROOT"

# Smoke test: every peer imports.
"$ENV/bin/python" - <<'PY'
import numpy as np
np.int = int  # mag1c 1.2.0 still uses the removed alias
import mag1c.mag1c, spectral, torch, fastmag1c.filters, plumetrace
print("peers OK: torch", torch.__version__, "| numpy", np.__version__, "| spectral", spectral.__version__)
PY
