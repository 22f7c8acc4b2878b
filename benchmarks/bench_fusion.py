"""Fusion into sites: precision, recall and calibration on held-out simulated campaigns.

    python benchmarks/bench_fusion.py [--seeds 0-9]

Each seed is a ``sim campaign`` (40 sources, ~40 % intermittent, persistent clutter, 12
passes with coverage, false detections, 30 reports of mixed reliability) ingested into a
fresh SQLite store with the packaged confidence model (fitted on seeds 100-129 by
fit_confidence.py; these seeds were never used for fitting). A site is real when most of
its evidence comes from one true source. Reported: site precision and source recall at
confidence >= 0.5, expected calibration error (10 equal bins; goal <= 0.1), Brier score,
and the reliability diagram (results/fusion_reliability.png). Also the same numbers for
the unfitted default weights, to show what the fit buys.
"""

from __future__ import annotations

import argparse
import json
import time

from _common import MACHINE, ROOT
from _fusion_eval import evaluate_campaign, reliability_png, summary_json

from plumetrace.data import confidence_model
from plumetrace.sites.confidence import ConfidenceModel


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0-9")
    a, b = (int(v) for v in ap.parse_args().seeds.split("-"))
    t0 = time.perf_counter()
    fitted = [evaluate_campaign(s, confidence_model()) for s in range(a, b + 1)]
    default = [evaluate_campaign(s, ConfidenceModel()) for s in range(a, b + 1)]
    png = ROOT / "benchmarks" / "results" / "fusion_reliability.png"
    reliability_png(fitted, png, f"site confidence, held-out campaigns seeds {a}-{b}")
    res = {
        "machine": MACHINE,
        "date": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/bench_fusion.py",
        "seeds": f"{a}-{b}",
        "model": confidence_model().provenance,
        "fitted": summary_json(fitted),
        "fitted_threshold_0.8": summary_json(fitted, 0.8),
        "default_weights": summary_json(default),
        "reliability_png": str(png.relative_to(ROOT)),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    out = ROOT / "benchmarks" / "results" / "fusion.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
