"""Probe (no goal): does a spectral-fit residual separate surface artefacts from gas plumes?

    python benchmarks/probe_spectral_residual.py DEMO_OUT/scenes/town [MORE_SCENE_DIRS ...]

Each argument is a ``plumetrace demo`` scene folder (``scene/`` with the radiance and
``truth.json``, ``detect/``, ``plumes/candidates.geojson``). For every pixel the script
fits the scene's CH4 target to the pixel's departure from its column's mean, in the
column's whitened space (the retrieval's own column background of all pixels, its
covariance shrunk by 1e-6 towards its diagonal), and keeps the residual energy per
degree of freedom:

    residual = ((x - μ)ᵀ C⁻¹ (x - μ) - p² / tᵀC⁻¹t) / (bands - 1),  p = (x - μ)ᵀ C⁻¹ t

It is ~1 for a pixel the background model and the target explain (noise only) and
larger for a pixel whose spectrum departs from the background in ways the gas does not
(metal tanks, caliche, plastics). For each plume candidate it prints the median residual
over the retrieval's enhanced pixels (> 500 ppm·m within 15 pixels of the located
source) over the scene's median, with the candidate's confidence, whether ``plumes``
accepted it, and whether a true source is within 150 m.

This probes an idea for the plume-confidence model (a feature that needs the radiance
cube, so it would come from ``detect``); it does not change the product.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import rasterio

from plumetrace.detect.background import estimate_background, group_columns, ungroup_columns
from plumetrace.io import open_radiance
from plumetrace.pipeline.detect import DetectOptions, plan_scene

MATCH_M = 150.0
NEAR_PX = 15
ENHANCED_PPM_M = 500.0
RIDGE = 1e-6
"""Covariance shrinkage towards its diagonal (a ridge; the sample covariance is near singular)."""


def residual_map(scene_dir: Path) -> np.ndarray:
    """Whitened residual energy per degree of freedom of the target fit, (rows, cols)."""
    path = scene_dir / "radiance.hdr"
    plan = plan_scene(path, DetectOptions())
    with open_radiance(path) as scene:
        cube = scene.read(bands=plan.idx).astype(np.float64)
    rows, cols, bands = cube.shape
    stacks = group_columns(cube, 1)  # (cols, rows, bands)
    bg = estimate_background(stacks, np.ones(stacks.shape[:2], bool), shrinkage=RIDGE)
    tau = plan.unit_absorption.astype(np.float64)[None, :] * bg.mean  # (cols, bands)
    z = bg.solve(tau)
    norm = np.einsum("gb,gb->g", tau, z)
    p = np.einsum("gnb,gb->gn", bg.centered, z)
    mahal = np.einsum("gnb,gbc,gnc->gn", bg.centered, bg.precision, bg.centered)
    resid = (mahal - p**2 / norm[:, None]) / (bands - 1)
    return np.asarray(ungroup_columns(resid, rows, cols))


def probe(where: Path) -> list[dict[str, object]]:
    """One row per candidate with enough enhanced pixels near its source."""
    resid = residual_map(where / "scene")
    scene_median = float(np.nanmedian(resid))
    with rasterio.open(where / "detect" / "enhancement.tif") as src:
        enh = src.read(1)
    truth = json.loads((where / "scene" / "truth.json").read_text())
    pixel = float(truth["pixel_size_m"])
    sources = [(s["row"], s["col"]) for s in truth["sources"]]
    cands = json.loads((where / "plumes" / "candidates.geojson").read_text())["features"]
    yy, xx = np.mgrid[: enh.shape[0], : enh.shape[1]]
    rows = []
    for f in cands:
        p = f["properties"]
        r, c = p["source_row"], p["source_col"]
        near = (np.hypot(yy - r, xx - c) <= NEAR_PX) & (enh > ENHANCED_PPM_M)
        if near.sum() < 3:
            continue
        rows.append(
            {
                "scene": where.name,
                "candidate": p["candidate"],
                "confidence": round(float(p["confidence"]), 2),
                "accepted": bool(p["accepted"]),
                "real": any(np.hypot(r - a, c - b) * pixel <= MATCH_M for a, b in sources),
                "pixels": int(near.sum()),
                "residual_over_scene": round(float(np.median(resid[near])) / scene_median, 2),
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenes", nargs="+", type=Path, help="demo scene folders")
    a = ap.parse_args()
    print("scene            cand  conf  accepted  real  pixels  residual/scene")
    for where in a.scenes:
        for row in probe(where):
            print(
                f"{row['scene']:<16} {row['candidate']:>4} {row['confidence']:>5}  "
                f"{'yes' if row['accepted'] else 'no':>8}  {'yes' if row['real'] else 'no':>4}  "
                f"{row['pixels']:>6}  {row['residual_over_scene']:>14}"
            )


if __name__ == "__main__":
    main()
