"""Shared by fit_confidence.py and bench_fusion.py: simulate campaigns, ingest, label sites.

A site is *real* when most of its evidence (detections and reports) comes from a true
source according to the simulator's truth.json; its *source* is that majority source.
Features are the confidence model's terms before the logistic weights.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _common import WORK

from plumetrace.io.tables import read_json
from plumetrace.pipeline.campaign import run_campaign
from plumetrace.pipeline.ingest import ingest_campaign
from plumetrace.sim.campaign_spec import CampaignSpec
from plumetrace.sites.confidence import ConfidenceModel, pass_llr
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.ingest import detection_id
from plumetrace.store.migrate import upgrade
from plumetrace.store.sites import list_sites, site_detail

FEATURES = ("bias", "passes", "reports", "score", "reports_only")


@dataclass
class SiteRow:
    seed: int
    site: str
    features: dict[str, float]
    confidence: float
    real: bool
    source: str | None


@dataclass
class CampaignEval:
    seed: int
    sites: list[SiteRow]
    findable: set[str]  # true sources with at least one detection or true report


def _logit(p: float) -> float:
    p = min(max(p, 0.01), 0.99)
    return math.log(p / (1 - p))


def evaluate_campaign(seed: int, model: ConfidenceModel | None = None) -> CampaignEval:
    """Simulate campaign ``seed``, ingest it into a fresh SQLite file, label every site."""
    work = WORK / "fusion" / f"seed-{seed}"
    if not (work / "campaign" / "campaign.json").exists():
        run_campaign(work / "campaign", CampaignSpec(seed=seed))
    db = work / "store.db"
    for p in work.glob("store.db*"):
        p.unlink()
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    ingest_campaign(engine, work / "campaign", actor="bench", model=model)
    truth = read_json(work / "campaign" / "truth.json")
    det_source: dict[str, str | None] = {
        detection_id(d["flight"], d["plume_id"]): (d["source"] if d["kind"] == "real" else None)
        for d in truth["detections"]
    }
    rep_source: dict[str, str | None] = {r["id"]: r["source"] for r in truth["reports"]}
    findable = {s for s in det_source.values() if s} | {s for s in rep_source.values() if s}
    rows: list[SiteRow] = []
    m = model or ConfidenceModel()
    with session_scope(engine) as s:
        for site in list_sites(s, limit=10**6):
            d = site_detail(s, site["id"], max_items=10**6)
            votes: Counter[str | None] = Counter()
            scores = []
            for det in d["detections"]:
                votes[det_source[det["id"]]] += 1
                if det["score"] is not None:
                    scores.append(_logit(det["score"]))
            for rep in d["reports"]:
                votes[rep_source[rep["id"]]] += 1
            (top, n_top), *_ = votes.most_common(1)
            real = top is not None and n_top > sum(votes.values()) / 2
            report_llr = sum(
                _report(r["source_reliability"], r["credibility"]) for r in d["reports"]
            )
            feats = {
                "bias": 1.0,
                "passes": pass_llr(d["n_passes"], d["n_passes_detected"], m),
                "reports": report_llr,
                "score": float(np.mean(scores)) if scores else 0.0,
                "reports_only": 1.0 if d["n_passes_detected"] == 0 else 0.0,
            }
            rows.append(SiteRow(seed, d["id"], feats, d["confidence"], real, top if real else None))
    engine.dispose()
    return CampaignEval(seed, rows, findable)


def _report(rel: str, cred: int) -> float:
    from plumetrace.sites.confidence import report_llr

    return report_llr(rel, cred)


def design(rows: list[SiteRow]) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray([[r.features[f] for f in FEATURES] for r in rows])
    y = np.asarray([1.0 if r.real else 0.0 for r in rows])
    return x, y


def ece(conf: np.ndarray, real: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error with equal-width bins."""
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.mean() * abs(conf[sel].mean() - real[sel].mean())
    return float(total)


def summary_json(evals: list[CampaignEval], threshold: float = 0.5) -> dict[str, Any]:
    rows = [r for e in evals for r in e.sites]
    conf = np.asarray([r.confidence for r in rows])
    real = np.asarray([r.real for r in rows], dtype=float)
    kept = conf >= threshold
    tp = int((kept & (real == 1)).sum())
    found = 0
    findable = 0
    for e in evals:
        hits = {r.source for r in e.sites if r.real and r.confidence >= threshold}
        found += len(hits & e.findable)
        findable += len(e.findable)
    return {
        "sites": len(rows),
        "real_sites": int(real.sum()),
        "threshold": threshold,
        "precision": tp / max(int(kept.sum()), 1),
        "recall": found / max(findable, 1),
        "ece": ece(conf, real),
        "brier": float(np.mean((conf - real) ** 2)),
    }


def reliability_png(evals: list[CampaignEval], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for e in evals for r in e.sites]
    conf = np.asarray([r.confidence for r in rows])
    real = np.asarray([r.real for r in rows], dtype=float)
    bins = 10
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    fig, (ax, ax2) = plt.subplots(
        2, 1, figsize=(5, 6), gridspec_kw={"height_ratios": [3, 1]}, sharex=True
    )
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    xs, ys, ns = [], [], []
    for b in range(bins):
        sel = idx == b
        if sel.any():
            xs.append(conf[sel].mean())
            ys.append(real[sel].mean())
            ns.append(int(sel.sum()))
    ax.plot(xs, ys, "o-", color="tab:blue", label="plumetrace sites")
    for x, y, n in zip(xs, ys, ns, strict=True):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_ylabel("fraction of sites that are real")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    ax2.hist(conf, bins=np.linspace(0, 1, bins + 1), color="tab:gray")
    ax2.set_xlabel("site confidence")
    ax2.set_ylabel("sites")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
