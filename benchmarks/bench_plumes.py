"""Validation and speed of ``plumes`` on simulated scenes and real STARCOP tiles.

Needs the case sets of ``plume_cases.py`` (``python benchmarks/plume_cases.py valid pod200
empty speed``). Everything is measured in one run; results go to stdout and
``benchmarks/results/plumes.json``.

Simulated (seeds disjoint from the calibration's): probability of detection by rate,
false plumes per 100 km², source location error, flux median absolute percentage error,
68 % interval coverage; and the operating curve (detection and false plumes as the
acceptance threshold ``min_confidence`` moves), to compare with the baseline at equal
detection. The STARCOP baseline (enhancement > 500 ppm·m, then a 3 x 3
cross-shaped binary opening; Růžička et al. 2023) runs on the same maps. Real: mask IoU
against the STARCOP human labels, and flux next to the reported rate (the tiles carry no
wind, so the rate is given per assumed wind and as the wind that would match).
"""

from __future__ import annotations

import itertools
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plume_cases import SETS, load_case, run_case

from plumetrace.plumes import PlumeOptions, find_plumes
from plumetrace.plumes.evaluate import candidate_is_real, match_sources

STARCOP = Path(__file__).resolve().parents[2] / "shared" / "data" / "starcop_tiles"
CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)
RATE_BINS = [50, 100, 200, 400, 1000, 2001]


def baseline_components(enh: np.ndarray) -> tuple[np.ndarray, int]:
    mask = ndi.binary_opening(np.nan_to_num(enh) > 500.0, structure=CROSS)
    return ndi.label(mask, structure=np.ones((3, 3), dtype=bool))


def baseline_found(labels: np.ndarray, r: float, c: float, radius: float = 3.0) -> bool:
    r0, c0 = int(r), int(c)
    win = labels[
        max(r0 - int(radius), 0) : r0 + int(radius) + 1,
        max(c0 - int(radius), 0) : c0 + int(radius) + 1,
    ]
    return bool((win > 0).any())


def simulated() -> dict[str, object]:
    recs: list[dict[str, float]] = []
    false_conf_valid: list[float] = []  # confidence of every false candidate
    false_conf_empty: list[float] = []
    false_ours = false_base = 0
    area = 0.0
    for set_name in ("valid", "pod200"):
        for seed in SETS[set_name].seeds:
            case = load_case(set_name, seed)
            plumes = run_case(case)
            lab, n = baseline_components(case.enhancement)
            for m in match_sources(plumes, case.sources_rc, case.rates):
                r, c = case.sources_rc[m.source]
                hit = baseline_found(lab, r, c)
                p = m.plume
                recs.append(
                    {
                        "set": set_name,
                        "rate": m.rate_kg_h,
                        "wind": case.wind_speed,
                        "detected": m.detected,
                        "baseline": hit,
                        "loc_px": m.location_error_px if m.detected else np.nan,
                        "loc_m": m.location_error_px * case.pixel_size_m if m.detected else np.nan,
                        "radius_px": p.source.radius_px if m.detected and p else np.nan,
                        "flux": p.flux.flux_kg_h if m.detected and p else np.nan,
                        "lo": p.flux.flux_kg_h_ci68[0] if m.detected and p else np.nan,
                        "hi": p.flux.flux_kg_h_ci68[1] if m.detected and p else np.nan,
                        # the most confident matching candidate: detected at threshold t
                        # when this is >= t (match_sources prefers it)
                        "match_conf": p.confidence if p is not None else -1.0,
                    }
                )
            if set_name == "valid":
                area += case.area_km2
                false = [
                    p for p in plumes if not candidate_is_real(p, case.truth, case.noise_ppm_m)
                ]
                false_ours += sum(p.accepted for p in false)
                false_conf_valid.extend(p.confidence for p in false)
                truth_on = case.truth > 0.5 * case.noise_ppm_m
                for k in range(1, n + 1):
                    comp = lab == k
                    if np.mean(truth_on[comp]) < 0.2:
                        false_base += 1
            print(f"{set_name}/{seed}", flush=True)
    empty_ours = empty_base = 0
    empty_area = 0.0
    for seed in SETS["empty"].seeds:
        case = load_case("empty", seed)
        found = run_case(case)
        empty_ours += sum(p.accepted for p in found)
        false_conf_empty.extend(p.confidence for p in found)
        empty_base += baseline_components(case.enhancement)[1]
        empty_area += case.area_km2
    valid = [r for r in recs if r["set"] == "valid"]
    pod200 = [r for r in recs if r["set"] == "pod200"]
    det = [r for r in valid if r["detected"]]
    ape = [abs(r["flux"] / r["rate"] - 1.0) for r in det]
    cover = [r["lo"] <= r["rate"] <= r["hi"] for r in det]
    in_radius = [r["loc_px"] <= r["radius_px"] for r in det]
    by_rate = []
    for lo, hi in itertools.pairwise(RATE_BINS):
        sel = [r for r in valid if lo <= r["rate"] < hi]
        by_rate.append(
            {
                "rate_kg_h": f"{lo}-{hi - 1 if hi == 2001 else hi}",
                "n": len(sel),
                "pod": float(np.mean([r["detected"] for r in sel])) if sel else None,
                "pod_baseline": float(np.mean([r["baseline"] for r in sel])) if sel else None,
            }
        )
    big = [r for r in det if r["rate"] >= 200]
    # The operating curve: detection against false plumes as the acceptance threshold
    # moves (the baseline has one operating point), to compare at equal detection.
    sweep = [
        {
            "min_confidence": t,
            "pod_overall": float(np.mean([r["match_conf"] >= t for r in valid])),
            "pod_200kg_h_3m_s": float(np.mean([r["match_conf"] >= t for r in pod200])),
            "false_per_100km2_valid": 100.0 * sum(c >= t for c in false_conf_valid) / area,
            "false_per_100km2_empty": 100.0 * sum(c >= t for c in false_conf_empty) / empty_area,
        }
        for t in (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    ]
    return {
        "threshold_sweep": sweep,
        "plumes_valid": len(valid),
        "scenes_valid": len(SETS["valid"].seeds),
        "pod_overall": float(np.mean([r["detected"] for r in valid])),
        "pod_overall_baseline": float(np.mean([r["baseline"] for r in valid])),
        "pod_by_rate": by_rate,
        "pod_200kg_h_3m_s": float(np.mean([r["detected"] for r in pod200])),
        "pod_200kg_h_3m_s_baseline": float(np.mean([r["baseline"] for r in pod200])),
        "n_200kg_h_3m_s": len(pod200),
        "false_per_100km2_empty": 100.0 * empty_ours / empty_area,
        "false_per_100km2_empty_baseline": 100.0 * empty_base / empty_area,
        "empty_km2": empty_area,
        "false_per_100km2_valid": 100.0 * false_ours / area,
        "false_per_100km2_valid_baseline": 100.0 * false_base / area,
        "location_median_px": float(np.nanmedian([r["loc_px"] for r in det])),
        "location_median_m": float(np.nanmedian([r["loc_m"] for r in det])),
        "location_within_radius": float(np.mean(in_radius)),
        "flux_mdape": float(np.median(ape)),
        "flux_mdape_rate_ge_200": float(np.median([abs(r["flux"] / r["rate"] - 1) for r in big])),
        "ci68_coverage": float(np.mean(cover)),
        "n_detected": len(det),
    }


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else float("nan")


def starcop() -> list[dict[str, object]]:
    import csv

    from plumetrace.io.geotiff import read_geotiff

    rates = {}
    with (STARCOP / "tiles.csv").open() as f:
        for row in csv.DictReader(f):
            rates[row["id"]] = float(row["qplume"])
    out = []
    for tile in sorted(p for p in STARCOP.iterdir() if p.is_dir()):
        geo = json.loads((tile / "georef.json").read_text())
        a, b, _, d, e, _ = geo["affine_rasterio"]
        jac = np.array([[a, b], [d, e]])
        enh = read_geotiff(tile / "mag1c.tif").data.astype(np.float64)
        rad = read_geotiff(tile / "TOA_AVIRIS_2109nm.tif").data.astype(np.float64)
        label = read_geotiff(tile / "labelbinary.tif").data > 0
        valid = rad > 0
        enh = np.where(valid, enh, np.nan)
        col_mean = np.nanmean(np.where(valid, rad, np.nan), axis=0, keepdims=True)
        albedo = np.where(valid, rad / col_mean, np.nan)
        plumes = find_plumes(
            enh,
            jacobian=jac,
            albedo=albedo,
            options=PlumeOptions(wind_speed_m_s=3.0, sensor="aviris-ng"),
        )
        ours = np.zeros(enh.shape, dtype=bool)
        for p in plumes:
            if p.accepted:
                ours[p.pixels[:, 0], p.pixels[:, 1]] = True
        lab, n_base = baseline_components(enh)
        best = max((p for p in plumes if p.accepted), key=lambda p: p.flux.ime_kg, default=None)
        rate = rates.get(tile.name, 0.0)
        rec: dict[str, object] = {
            "tile": tile.name,
            "reported_kg_h": rate,
            "label_pixels": int(label.sum()),
            "iou_plumetrace": _iou(ours, label),
            "iou_baseline": _iou(lab > 0, label),
            "plumes": int(sum(p.accepted for p in plumes)),
            "baseline_components": int(n_base),
        }
        if best is not None:
            per_ms = best.flux.flux_kg_h / best.flux.u_eff_m_s  # kg/h per m/s of U_eff
            rec.update(
                {
                    "largest_ime_kg": best.flux.ime_kg,
                    "flux_at_3m_s_kg_h": best.flux.flux_kg_h,
                    "flux_ci68_at_3m_s": list(best.flux.flux_kg_h_ci68),
                    "u10_matching_reported_m_s": rate / per_ms if rate > 0 else None,
                }
            )
        out.append(rec)
        print(tile.name, flush=True)
    return out


def speed() -> dict[str, float]:
    case = load_case("speed", 6000)
    res = {}
    for label, limit in (("1 BLAS thread", 1), ("default BLAS threads", None)):
        times = []
        with threadpool_limits(limit):
            for _ in range(5):
                t0 = time.perf_counter()
                plumes = run_case(case, sensor="aviris-ng", wind_speed_sigma_m_s=0.6)
                times.append(time.perf_counter() - t0)
        res[label] = float(np.median(times))
    res["plumes"] = float(sum(p.accepted for p in plumes))
    res["candidates"] = float(len(plumes))
    return res


def main() -> None:
    started = time.strftime("%Y-%m-%d %H:%M")
    results = {
        "date": started,
        "machine": f"{platform.node()} {platform.machine()} {platform.python_version()}",
        "speed_1000x598_s": speed(),
        "simulated": simulated(),
        "starcop": starcop(),
    }
    out = Path(__file__).resolve().parent / "results" / "plumes.json"
    out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
