#!/usr/bin/env bash
# Create benchmarks/.env-stonesoup: an isolated venv holding Stone Soup 1.9.1 (dstl) from PyPI,
# used by benchmarks/peers/stonesoup_ste.py (gas source-term estimation peer, see
# benchmarks/peers/STONESOUP_STE.md).
#
#   bash benchmarks/setup_stonesoup.sh          # from anywhere; idempotent
#
# Stone Soup's declared dependencies (numpy, scipy, matplotlib, plotly, ordered-set, pymap3d,
# rtree, ruamel.yaml, utm) are all CPU-only pure/wheel packages: no torch, no CUDA. Its "docs"
# extra (torch, geopandas, pyehm) is NOT installed: the source-term estimation example needs
# none of it. It is kept apart from benchmarks/.env so its numpy/scipy pins cannot disturb the
# retrieval peers.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENV="$HERE/.env-stonesoup"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3

if [ ! -x "$ENV/bin/python" ]; then
    "$PY" -m venv "$ENV"
fi
PIP=("$ENV/bin/python" -m pip install --disable-pip-version-check --quiet)

"${PIP[@]}" --upgrade pip
"${PIP[@]}" "stonesoup==1.9.1"

# Smoke test: the classes the STE example (and our peer script) use import and evaluate.
"$ENV/bin/python" - <<'PY'
from importlib.metadata import version
import numpy as np
from stonesoup.models.measurement.gas import IsotropicPlume
from stonesoup.types.state import GaussianState, ParticleState
from stonesoup.types.array import StateVector
from stonesoup.predictor.particle import ParticlePredictor
from stonesoup.updater.particle import ParticleUpdater
from stonesoup.resampler.particle import ESSResampler
from stonesoup.regulariser.particle import MCMCRegulariser
from stonesoup.sensor.gas import GasIntensitySensor
from stonesoup.platform import FixedPlatform
from stonesoup.movable.grid import NStepDirectionalGridMovable
from stonesoup.sensormanager import BruteForceSensorManager
from stonesoup.sensormanager.reward import MultiUpdateExpectedKLDivergence

m = IsotropicPlume(translation_offset=StateVector([30.0, 40.0, 1.0]))
z = m.function(GaussianState(StateVector([30, 40, 1, 5, 4, np.radians(90), 1, 8]), np.eye(8)),
               noise=False)
assert np.isfinite(z).all()
print("stonesoup OK:", version("stonesoup"), "| numpy", np.__version__)
PY
