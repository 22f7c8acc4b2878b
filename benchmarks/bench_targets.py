"""Compare plumetrace's CH4 target with published targets (JPL AVIRIS-NG, EMIT, mag1c).

For every CSV in ``--targets-dir`` (default ``/work/shared/data/targets``) our target is
built with :func:`plumetrace.spectra.target_from_lookup_table` at that file's own band
centres and FWHM, for both ``weighting="radiance"`` and ``weighting="absorption"``, and
compared over 2100-2500 nm:

* ``r``: Pearson correlation of the two per-ppm·m spectra (the issue's goal: >= 0.99 with
  JPL's AVIRIS-NG and EMIT targets),
* ``scale``: least-squares amplitude of the file's target relative to ours
  (``file ≈ scale · ours``), and the median band ratio over bands where |ours| exceeds
  10 % of its peak.

Run from the repository root::

    python benchmarks/bench_targets.py [--json out.json]

Needs only plumetrace (no peers).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import plumetrace
from plumetrace.data import ch4_lookup_table
from plumetrace.spectra import target_from_lookup_table

DEFAULT_DIR = Path("/work/shared/data/targets")
LO, HI = 2100.0, 2500.0


def _read(path: Path) -> dict[str, np.ndarray]:
    with path.open() as f:
        rows = list(csv.DictReader(f))
    cols = rows[0].keys()
    out: dict[str, np.ndarray] = {}
    for c in cols:
        vals = [r[c] for r in rows]
        out[c] = np.array([float(v) if v not in ("", None) else np.nan for v in vals])
    return out


def _fwhm(table: dict[str, np.ndarray]) -> np.ndarray:
    for key in ("fwhm_nm", "fwhm_nm_approx"):
        if key in table:
            return table[key]
    raise KeyError("no FWHM column")


def _r(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _ours(lut: Any, wl: np.ndarray, fwhm: np.ndarray, weighting: str) -> np.ndarray:
    """plumetrace's CH4 target at these bands, per ppm·m."""
    return target_from_lookup_table(
        lut,
        wl,
        fwhm,
        weighting=weighting,  # type: ignore[arg-type]
    ).absorption_per_ppm_m


def compare(path: Path) -> list[dict[str, object]]:
    t = _read(path)
    wl = t["wavelength_nm"]
    fwhm = _fwhm(t)
    sel = (wl >= LO) & (wl <= HI) & np.isfinite(fwhm)
    columns = ["absorption_per_ppm_m"]
    if "absorption_alt_csv" in t:
        columns.append("absorption_alt_csv")
    lut = ch4_lookup_table()
    results = []
    for weighting in ("radiance", "absorption"):
        ours = _ours(lut, wl[sel], fwhm[sel], weighting)
        for col in columns:
            theirs = t[col][sel] * (1e-5 if col == "absorption_alt_csv" else 1.0)
            r = _r(ours, theirs)
            scale = float(np.dot(ours, theirs) / np.dot(ours, ours))
            strong = np.abs(ours) > 0.1 * np.max(np.abs(ours))
            ratio = float(np.median(theirs[strong] / ours[strong]))
            results.append(
                {
                    "file": path.name,
                    "column": col,
                    "weighting": weighting,
                    "bands": int(sel.sum()),
                    "r": r,
                    "scale_ls": scale,
                    "median_ratio": ratio,
                }
            )
    return results


JPL_FILE = "avirisng_jpl_ch4_unit_absorption_425.csv"
EMIT_FILE = "emit_ch4_target_emit20220815t042838_285.csv"
FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def _degrade(
    values: np.ndarray, wl: np.ndarray, fwhm: np.ndarray, to_wl: np.ndarray, to_fwhm: np.ndarray
) -> np.ndarray:
    """Resample a spectrum sampled at narrow bands to wider bands (Gaussian, extra width).

    Each wide band is a Gaussian of ``sqrt(to_fwhm² - median(fwhm)²)`` FWHM over the
    narrow bands' values: what the wide instrument would see of the narrow one's spectrum.
    """
    extra = np.sqrt(np.maximum(to_fwhm**2 - np.median(fwhm) ** 2, 1e-6)) * FWHM_TO_SIGMA
    w = np.exp(-0.5 * ((wl[None, :] - to_wl[:, None]) / extra[:, None]) ** 2)
    return np.asarray((w / w.sum(axis=1, keepdims=True)) @ values)


def cross_check(directory: Path) -> dict[str, object]:
    """How far apart are the two published targets themselves?

    JPL's AVIRIS-NG target (~5.6 nm bands) is resampled to EMIT's bands (~8.7 nm) and
    correlated with EMIT's target over the window. The resampling's own fidelity is
    measured on plumetrace's target: built at the AVIRIS-NG bands and resampled, against
    the same target built directly at EMIT's bands (each weighting). If one target had
    r >= 0.99 with both files, the angles add up (r = cos θ; θ <= 8.1° to each file, plus
    the resampling's angle): the two files would then correlate at least as
    ``cos(2 acos(0.99) + θ_resampling)`` with each other. (That the resampled JPL file
    stays as close to such a target as the native one is an assumption; on these spectra
    resampling raised our targets' r with JPL: radiance 0.960 -> 0.969, absorption
    0.998 -> 0.998.)
    """
    jpl, emit = _read(directory / JPL_FILE), _read(directory / EMIT_FILE)
    wa, fa = jpl["wavelength_nm"], _fwhm(jpl)
    wb, fb = emit["wavelength_nm"], _fwhm(emit)
    sa = (wa >= LO - 100) & (wa <= HI + 10) & np.isfinite(fa)  # margin for the kernel
    sb = (wb >= LO) & (wb <= HI) & np.isfinite(fb)
    lut = ch4_lookup_table()

    def down(v: np.ndarray) -> np.ndarray:
        return _degrade(v, wa[sa], fa[sa], wb[sb], fb[sb])

    jpl_down = down(jpl["absorption_per_ppm_m"][sa])
    out: dict[str, object] = {
        "r_jpl_resampled_vs_emit": _r(jpl_down, emit["absorption_per_ppm_m"][sb]),
        "r_jpl_resampled_vs_emit_alt": _r(jpl_down, emit["absorption_alt_csv"][sb] * 1e-5),
    }
    worst_angle = 0.0
    for weighting in ("radiance", "absorption"):
        r_cal = _r(
            down(_ours(lut, wa[sa], fa[sa], weighting)), _ours(lut, wb[sb], fb[sb], weighting)
        )
        out[f"r_resampling_fidelity_{weighting}"] = r_cal
        worst_angle = max(worst_angle, float(np.arccos(min(r_cal, 1.0))))
    bound = float(np.cos(2 * np.arccos(0.99) + worst_angle))
    out["r_files_would_reach_if_goal_met"] = bound
    out["goal_reachable_by_one_target"] = bool(
        max(float(out["r_jpl_resampled_vs_emit"]), float(out["r_jpl_resampled_vs_emit_alt"]))  # type: ignore[arg-type]
        >= bound
    )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--targets-dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--quick", action="store_true", help="same as the full run (it is fast)")
    args = ap.parse_args(argv)
    files = sorted(args.targets_dir.glob("*.csv"))
    if not files:
        print(f"no target CSVs in {args.targets_dir}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    rows = [res for f in files for res in compare(f)]
    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "plumetrace": plumetrace.__version__,
        "window_nm": [LO, HI],
        "seconds": time.perf_counter() - t0,
    }
    print(f"# CH4 target comparison over {LO:.0f}-{HI:.0f} nm  ({json.dumps(meta)})")
    print("| file | column | weighting | bands | r | LS scale (file/ours) | median ratio |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['file']} | {r['column']} | {r['weighting']} | {r['bands']} | "
            f"{r['r']:.4f} | {r['scale_ls']:.3f} | {r['median_ratio']:.3f} |"
        )
    goal = [
        r
        for r in rows
        if r["column"] == "absorption_per_ppm_m"
        and ("jpl" in str(r["file"]) or "emit" in str(r["file"]))
    ]
    print()
    for w in ("radiance", "absorption"):
        sub = [r for r in goal if r["weighting"] == w]
        worst = min(sub, key=lambda r: float(r["r"]))  # type: ignore[arg-type]
        met = all(float(r["r"]) >= 0.99 for r in sub)  # type: ignore[arg-type]
        print(
            f"goal r >= 0.99 with JPL AVIRIS-NG and EMIT, weighting={w}: "
            f"{'MET' if met else 'NOT MET'} (lowest r = {worst['r']:.4f}, {worst['file']})"
        )
    best = {}
    for r in goal:
        f = str(r["file"])
        if f not in best or float(r["r"]) > float(best[f]["r"]):  # type: ignore[arg-type]
            best[f] = r
    met = all(float(r["r"]) >= 0.99 for r in best.values())  # type: ignore[arg-type]
    detail = ", ".join(f"{f}: r = {r['r']:.4f} ({r['weighting']})" for f, r in best.items())
    print(
        f"goal r >= 0.99 with each file at its own convention's weighting: "
        f"{'MET' if met else 'NOT MET'} ({detail})"
    )
    cross: dict[str, object] | None = None
    if (args.targets_dir / JPL_FILE).exists() and (args.targets_dir / EMIT_FILE).exists():
        cross = cross_check(args.targets_dir)
        print("\nThe two files against each other (JPL resampled to EMIT's bands):")
        for k, v in cross.items():
            print(f"  {k}: {v:.4f}" if isinstance(v, float) else f"  {k}: {v}")
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "rows": rows, "cross": cross}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
