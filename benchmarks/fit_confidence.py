"""Fit the site-confidence logistic weights on simulated training campaigns.

    python benchmarks/fit_confidence.py [--seeds 100-129]

Ingests each campaign (``sim campaign --seed N``) into a fresh SQLite store, labels every
site real or not from truth.json (majority of its evidence), and fits the coefficients of
``plumetrace.sites.confidence`` by L2-regularised maximum likelihood (logistic
regression). Writes src/plumetrace/data/confidence.json; the held-out check is
bench_fusion.py (seeds 0-9, never used here).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from _common import MACHINE, ROOT
from _fusion_eval import FEATURES, design, evaluate_campaign
from scipy.optimize import minimize

from plumetrace.sites.confidence import ConfidenceModel


def fit(x: np.ndarray, y: np.ndarray, l2: float = 0.1) -> np.ndarray:
    def loss(b: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ b
        p = 1 / (1 + np.exp(-z))
        nll = np.sum(np.logaddexp(0, z) - y * z) + 0.5 * l2 * np.sum(b[1:] ** 2)
        grad = x.T @ (p - y) + l2 * np.concatenate([[0.0], b[1:]])
        return float(nll), grad

    res = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(res.x)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="100-129")
    a, b = (int(v) for v in ap.parse_args().seeds.split("-"))
    t0 = time.perf_counter()
    evals = [evaluate_campaign(seed) for seed in range(a, b + 1)]
    rows = [r for e in evals for r in e.sites]
    x, y = design(rows)
    coef = fit(x, y)
    model = ConfidenceModel(
        coef={f: round(float(c), 4) for f, c in zip(FEATURES, coef, strict=True)},
        provenance=(
            f"benchmarks/fit_confidence.py: logistic fit on sim campaign seeds {a}-{b} "
            f"({len(rows)} sites, {int(y.sum())} real), {time.strftime('%Y-%m-%d')}, {MACHINE}"
        ),
    )
    out = ROOT / "src" / "plumetrace" / "data" / "confidence.json"
    out.write_text(json.dumps(model.to_dict(), indent=2) + "\n")
    print(json.dumps(model.to_dict(), indent=2))
    print(f"{len(rows)} sites from {len(evals)} campaigns in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
