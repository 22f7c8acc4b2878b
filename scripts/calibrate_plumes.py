"""Fit the effective-wind calibrations and the plume-confidence model.

Writes ``src/plumetrace/data/plume_model.json`` from the ``train`` (AVIRIS-NG, 5 m) and
``emit-train`` (EMIT, 60 m) case sets of ``benchmarks/plume_cases.py`` (make them first:
``python benchmarks/plume_cases.py train emit-train``). Validation uses other seeds.

U_eff: for every true source matched by a candidate with IME significance >= 5, the
effective wind that would give the true rate is ``Q L / IME``; ``U_eff = a U10 + b`` is
fitted by robust (soft-l1) least squares on ``ln(Q_est / Q_true)``. The calibration's own
scatter is the robust spread of those log ratios with the per-plume background and
masking errors (already in each plume's budget) removed in quadrature.

Confidence: L2-regularised logistic regression of "real" (>= 20 % of the candidate on
true gas) on the standardised features of every candidate of the ``train`` set; a second
model without ``spectral_residual`` for maps that come without ``residual.tif``.

It fits on the cases' maps from ``detect``'s defaults (``det_spatial/``);
``PLUME_CASES_DETECT=det`` fits on their ``--no-spatial`` maps instead.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares, minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from plume_cases import SETS, load_case, run_case  # noqa: E402

from plumetrace.plumes.evaluate import candidate_is_real, match_sources  # noqa: E402
from plumetrace.plumes.features import FEATURE_NAMES  # noqa: E402

OUT = ROOT / "src" / "plumetrace" / "data" / "plume_model.json"


def collect(set_name: str) -> tuple[list[dict[str, float]], list[bool], list[tuple[float, ...]]]:
    feats, labels, wind_rows = [], [], []
    for seed in SETS[set_name].seeds:
        case = load_case(set_name, seed)
        plumes = run_case(case, sensor="generic")
        for p in plumes:
            feats.append(p.features)
            labels.append(candidate_is_real(p, case.truth, case.noise_ppm_m))
        for m in match_sources(plumes, case.sources_rc, case.rates):
            p = m.plume
            if p is None or not p.flux.ime_snr >= 5 or not p.flux.ime_kg > 0:
                continue
            e = p.flux.relative_errors
            wind_rows.append(
                (
                    case.wind_speed,
                    p.flux.ime_kg / p.flux.length_m,
                    m.rate_kg_h / 3600.0,
                    float(np.hypot(e["background"], e["masking"])),
                )
            )
        print(f"{set_name}/{seed}: {len(plumes)} candidates", flush=True)
    return feats, labels, wind_rows


def fit_ueff(rows: list[tuple[float, ...]], sensor: str, seeds: str) -> dict[str, object]:
    a = np.array(rows)
    u10, mass_per_m, q_true, rel_known = a.T

    def resid(p: np.ndarray) -> np.ndarray:
        ueff = np.maximum(p[0] * u10 + p[1], 0.1)
        return np.log(ueff * mass_per_m / q_true)

    fit = least_squares(resid, x0=[1.0, 0.0], loss="soft_l1", f_scale=0.2)
    r = resid(fit.x)
    spread = 1.4826 * np.median(np.abs(r - np.median(r)))
    known = float(np.median(rel_known))
    rel_sigma = float(np.sqrt(max(spread**2 - known**2, 0.01**2)))
    return {
        "slope": round(float(fit.x[0]), 4),
        "intercept": round(float(fit.x[1]), 4),
        "relative_sigma": round(rel_sigma, 4),
        "source": (
            f"fitted by scripts/calibrate_plumes.py on {len(rows)} simulated {sensor} plumes "
            f"(seeds {seeds}); form of Varon et al. 2018, AMT 11, 5673"
        ),
        "n_plumes": len(rows),
        "log_ratio_spread": round(float(spread), 4),
        "median_known_relative_error": round(known, 4),
    }


def fit_confidence(
    feats: list[dict[str, float]], labels: list[bool], names: tuple[str, ...] = FEATURE_NAMES
) -> dict[str, object]:
    assert names[0] == "ime_snr"
    x = np.array([[f.get(n, np.nan) for n in names] for f in feats], dtype=np.float64)
    y = np.array(labels, dtype=np.float64)
    x[:, 0] = np.sign(x[:, 0]) * np.log1p(np.abs(x[:, 0]))  # heavy-tailed: fit on log scale
    mean = np.nanmean(x, axis=0)
    scale = np.nanstd(x, axis=0)
    scale[~(scale > 0)] = 1.0
    z = np.where(np.isfinite(x), (x - mean) / scale, 0.0)
    lam = 1.0

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        t = w[0] + z @ w[1:]
        p = 1.0 / (1.0 + np.exp(-t))
        ll = np.sum(np.logaddexp(0.0, t) - y * t) + 0.5 * lam * np.sum(w[1:] ** 2)
        g = np.concatenate([[np.sum(p - y)], z.T @ (p - y) + lam * w[1:]])
        return float(ll), g

    res = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B")
    return {
        "features": list(names),
        "transform": {"ime_snr": "signed log1p"},
        "weights": [round(float(v), 5) for v in res.x[1:]],
        "intercept": round(float(res.x[0]), 5),
        "mean": [round(float(v), 5) for v in mean],
        "scale": [round(float(v), 5) for v in scale],
        "n_candidates": len(labels),
        "n_real": int(y.sum()),
    }


def main() -> None:
    feats, labels, rows_av = collect("train")
    _, _, rows_emit = collect("emit-train")
    seeds_av = f"{SETS['train'].seeds.start}-{SETS['train'].seeds.stop - 1}"
    seeds_emit = f"{SETS['emit-train'].seeds.start}-{SETS['emit-train'].seeds.stop - 1}"
    doc = {
        "metadata": {
            "made_by": "scripts/calibrate_plumes.py",
            "date": dt.date.today().isoformat(),
            "training_sets": {"aviris-ng": seeds_av, "emit": seeds_emit},
            "note": "plumetrace simulator: puffs transported at the given wind speed",
            "retrieval": "detect --no-spatial (per pixel)"
            if os.environ.get("PLUME_CASES_DETECT") == "det"
            else "detect (defaults: the neighbourhood step)",
        },
        "ueff": {
            "aviris-ng": fit_ueff(rows_av, "AVIRIS-NG 5 m", seeds_av),
            "emit": fit_ueff(rows_emit, "EMIT 60 m", seeds_emit),
            "generic": fit_ueff(
                rows_av + rows_emit, "AVIRIS-NG 5 m and EMIT 60 m", f"{seeds_av}, {seeds_emit}"
            ),
        },
        "confidence": fit_confidence(feats, labels),
        "confidence_without_residual": fit_confidence(
            feats, labels, tuple(n for n in FEATURE_NAMES if n != "spectral_residual")
        ),
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc["ueff"], indent=1))
    print(
        "confidence:",
        doc["confidence"]["n_candidates"],
        "candidates,",
        doc["confidence"]["n_real"],
        "real",
    )


if __name__ == "__main__":
    main()
