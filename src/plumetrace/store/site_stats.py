"""Site statistics for fusion: evidence summed into sites, rates, confidence, rows.

Two forms of the same bookkeeping: a dict per site (:func:`_add_evidence`, used when a
site is rebuilt from its evidence rows, :mod:`plumetrace.store.split`), and column-wise
for a fusion batch of thousands of sites (:class:`_Sites`, :func:`_add_evidence_batch`,
:func:`_score`), which sums in the same order and so gives the same numbers, bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from plumetrace.sites.confidence import (
    ConfidenceModel,
    EvidenceSummary,
    site_confidence,
    site_confidences,
)
from plumetrace.sites.fusion import Associations, FusionOptions
from plumetrace.sites.priority import site_priority
from plumetrace.store.bulk import select_by_key
from plumetrace.store.models import Site

__all__ = ["Evidence"]


@dataclass
class Evidence:
    """One piece of evidence to fuse (a detection or a report row, already built)."""

    kind: str  # detection | report
    id: str
    lat: float
    lon: float
    sigma_m: float
    time: datetime
    rate_kg_h: float | None = None
    rate_lo_kg_h: float | None = None
    rate_hi_kg_h: float | None = None
    score: float | None = None
    llr: float = 0.0  # reports: report_llr
    site_id: str | None = None  # filled by fuse()


def _logit(p: float) -> float:
    p = min(max(p, 0.01), 0.99)
    return math.log(p / (1 - p))


def _rate_fields(site: dict[str, Any]) -> None:
    n = site["n_rated"]
    if n == 0:
        site["rate_kg_h"] = site["rate_lo_kg_h"] = site["rate_hi_kg_h"] = None
        return
    mean = site["log_rate_sum"] / n
    site["rate_kg_h"] = math.exp(mean)
    if n > 1:
        var = max(site["log_rate_sq_sum"] / n - mean * mean, 0.0) * n / (n - 1)
        sd = max(math.sqrt(var), 0.1)
        site["rate_lo_kg_h"] = math.exp(mean - sd)
        site["rate_hi_kg_h"] = math.exp(mean + sd)


def _confidence(site: dict[str, Any], model: ConfidenceModel) -> None:
    summary = EvidenceSummary(
        passes=site["n_passes"],
        passes_detected=site["n_passes_detected"],
        report_llr=site["report_llr"],
        reports=site["n_reports"],
        score_logit_sum=site["score_logit_sum"],
        scored=site["n_scored"],
    )
    conf, terms = site_confidence(summary, model)
    site["confidence"] = conf
    site["confidence_terms"] = {k: round(v, 4) for k, v in terms.items()}
    site["priority"] = site_priority(conf, site["rate_kg_h"], site.get("exposure"))


_SITE_STATS = (
    "id",
    "lat",
    "lon",
    "pos_weight",
    "uncertainty_m",
    "n_detections",
    "n_reports",
    "n_passes",
    "n_passes_detected",
    "report_llr",
    "score_logit_sum",
    "n_scored",
    "log_rate_sum",
    "log_rate_sq_sum",
    "n_rated",
    "rate_kg_h",
    "rate_lo_kg_h",
    "rate_hi_kg_h",
    "first_seen",
    "last_seen",
    "exposure",
    "version",
    "created",
)


def _blank_site(sid: str, ev: Evidence, now: datetime) -> dict[str, Any]:
    return {
        "id": sid,
        "lat": ev.lat,
        "lon": ev.lon,
        "pos_weight": 0.0,
        "uncertainty_m": ev.sigma_m,
        "n_detections": 0,
        "n_reports": 0,
        "n_passes": 0,
        "n_passes_detected": 0,
        "report_llr": 0.0,
        "score_logit_sum": 0.0,
        "n_scored": 0,
        "log_rate_sum": 0.0,
        "log_rate_sq_sum": 0.0,
        "n_rated": 0,
        "rate_kg_h": None,
        "rate_lo_kg_h": None,
        "rate_hi_kg_h": None,
        "first_seen": ev.time,
        "last_seen": ev.time,
        "exposure": None,
        "version": 0,
        "created": now,
    }


def _add_evidence(site: dict[str, Any], ev: Evidence) -> None:
    if ev.kind == "detection":
        site["n_detections"] += 1
        if ev.score is not None:
            site["score_logit_sum"] += _logit(ev.score)
            site["n_scored"] += 1
        if ev.rate_kg_h is not None and ev.rate_kg_h > 0:
            lr = math.log(ev.rate_kg_h)
            site["log_rate_sum"] += lr
            site["log_rate_sq_sum"] += lr * lr
            site["n_rated"] += 1
            if site["n_rated"] == 1:
                site["rate_lo_kg_h"], site["rate_hi_kg_h"] = ev.rate_lo_kg_h, ev.rate_hi_kg_h
    else:
        site["n_reports"] += 1
        site["report_llr"] += ev.llr
    site["first_seen"] = min(site["first_seen"] or ev.time, ev.time)
    site["last_seen"] = max(site["last_seen"] or ev.time, ev.time)


_NUM_STATS = (
    "n_detections",
    "n_reports",
    "report_llr",
    "score_logit_sum",
    "n_scored",
    "log_rate_sum",
    "log_rate_sq_sum",
    "n_rated",
)
"""The additive statistics of a site (what a merge sums)."""


class _Sites:
    """The sites a fusion batch involves, column-wise (slot ``k`` = one site)."""

    def __init__(self, n: int) -> None:
        self.id: list[str] = [""] * n
        self.lat = np.zeros(n)
        self.lon = np.zeros(n)
        self.pos_weight = np.zeros(n)
        self.uncertainty_m = np.zeros(n)
        self.n_detections = np.zeros(n, dtype=np.int64)
        self.n_reports = np.zeros(n, dtype=np.int64)
        self.n_passes = np.zeros(n, dtype=np.int64)
        self.n_passes_detected = np.zeros(n, dtype=np.int64)
        self.report_llr = np.zeros(n)
        self.score_logit_sum = np.zeros(n)
        self.n_scored = np.zeros(n, dtype=np.int64)
        self.log_rate_sum = np.zeros(n)
        self.log_rate_sq_sum = np.zeros(n)
        self.n_rated = np.zeros(n, dtype=np.int64)
        self.rate_kg_h: list[float | None] = [None] * n
        self.rate_lo_kg_h: list[float | None] = [None] * n
        self.rate_hi_kg_h: list[float | None] = [None] * n
        self.first_seen: list[datetime | None] = [None] * n
        self.last_seen: list[datetime | None] = [None] * n
        self.exposure: list[str | None] = [None] * n
        self.version = np.zeros(n, dtype=np.int64)
        self.created: list[datetime | None] = [None] * n

    def older(self, a: int, b: int) -> bool:
        va, vb = int(self.version[a]), int(self.version[b])
        if va and not vb:
            return True
        if vb and not va:
            return False
        return bool((self.created[a], self.id[a]) <= (self.created[b], self.id[b]))

    def merge(self, keep: int, drop: int) -> None:
        for key in _NUM_STATS:
            col = getattr(self, key)
            col[keep] += col[drop]
        self.first_seen[keep] = min(self.first_seen[keep], self.first_seen[drop])  # type: ignore[type-var]
        self.last_seen[keep] = max(self.last_seen[keep], self.last_seen[drop])  # type: ignore[type-var]


def _load_stats(session: Session, sites: _Sites, slots: dict[str, int]) -> None:
    """Fill the slots of existing sites (``{id: slot}``) with their stored statistics.

    On PostgreSQL the rows are locked (``FOR UPDATE``) until the transaction ends: an
    analyst's concurrent change to one of them waits, then finds its version moved on.
    """
    cols = select_by_key(session, Site, _SITE_STATS, "id", list(slots), for_update=True)
    at = [slots[i] for i in cols[0]]
    for name, values in zip(_SITE_STATS, cols, strict=True):
        col = getattr(sites, name)
        if isinstance(col, np.ndarray):
            col[at] = values
        else:
            for k, v in zip(at, values, strict=True):
                col[k] = v


_ROUNDED: dict[float, float] = {}


def _round4(v: float) -> float:
    """``round(v, 4)``, remembered (the terms of most sites repeat a few values)."""
    if v == 0.0:
        return round(v, 4)  # keeps the sign of a zero, which a dict key would not
    r = _ROUNDED.get(v)
    if r is None:
        if len(_ROUNDED) > 100_000:
            _ROUNDED.clear()
        r = _ROUNDED[v] = round(v, 4)
    return r


def _score(
    sites: _Sites, slots: list[int], model: ConfidenceModel
) -> dict[int, tuple[float, dict[str, float], float]]:
    """Rate, then ``{slot: (confidence, terms, priority)}`` of the sites at ``slots``.

    The same numbers as :func:`_rate_fields` and :func:`_confidence` give, site by site.
    """
    for s in slots:
        n = int(sites.n_rated[s])
        if n == 0:
            sites.rate_kg_h[s] = sites.rate_lo_kg_h[s] = sites.rate_hi_kg_h[s] = None
            continue
        mean = float(sites.log_rate_sum[s]) / n
        sites.rate_kg_h[s] = math.exp(mean)
        if n > 1:
            var = max(float(sites.log_rate_sq_sum[s]) / n - mean * mean, 0.0) * n / (n - 1)
            sd = max(math.sqrt(var), 0.1)
            sites.rate_lo_kg_h[s] = math.exp(mean - sd)
            sites.rate_hi_kg_h[s] = math.exp(mean + sd)
    conf, terms = site_confidences(
        sites.n_passes[slots].tolist(),
        sites.n_passes_detected[slots].tolist(),
        sites.report_llr[slots].tolist(),
        sites.score_logit_sum[slots].tolist(),
        sites.n_scored[slots].tolist(),
        model,
    )
    return {
        s: (
            c,
            {k: _round4(v) for k, v in t.items()},
            site_priority(c, sites.rate_kg_h[s], sites.exposure[s]),
        )
        for s, c, t in zip(slots, conf, terms, strict=True)
    }


def _site_columns(
    sites: _Sites,
    slots: list[int],
    scored: dict[int, tuple[float, dict[str, float], float]],
    now: datetime,
    *,
    insert: bool,
) -> dict[str, list[Any]]:
    """Return the columns of the sites at ``slots`` to insert (new) or update (existing).

    A new site not scored yet (not in ``scored``) gets the neutral values that its later
    update replaces.
    """
    cols: dict[str, list[Any]] = {"id": [sites.id[s] for s in slots]}
    for c in _SITE_STATS:
        if c in ("id", "version", "created", "exposure"):
            continue
        col = getattr(sites, c)
        cols[c] = col[slots].tolist() if isinstance(col, np.ndarray) else [col[s] for s in slots]
    blank: tuple[float, dict[str, float], float] = (0.0, {}, 0.0)
    conf, terms, prio = (
        zip(*[scored.get(s, blank) for s in slots], strict=True) if slots else ((), (), ())
    )
    n = len(slots)
    cols["confidence"], cols["confidence_terms"], cols["priority"] = (
        list(conf),
        list(terms),
        list(prio),
    )
    cols["updated"] = [now] * n
    if insert:
        cols["exposure"] = [sites.exposure[s] for s in slots]
        cols["created"] = [sites.created[s] for s in slots]
        cols["status"] = ["candidate"] * n
        cols["version"] = [1] * n
    return cols


def _add_evidence_batch(
    sites: _Sites,
    evidence: list[Evidence],
    slots: list[int],
    assoc: Associations,
    options: FusionOptions,
    model: ConfidenceModel,
    now: datetime,
) -> dict[str, list[Any]]:
    """Add evidence (in order) to its sites' statistics; return the evidence links.

    The sums are taken in the evidence's order, as :func:`_add_evidence` one by one
    would (``np.add.at`` adds unbuffered, in index order).
    """
    det = [k for k, ev in enumerate(evidence) if ev.kind == "detection"]
    rep = [k for k, ev in enumerate(evidence) if ev.kind != "detection"]
    if det:
        np.add.at(sites.n_detections, [slots[k] for k in det], 1)
    scored = [k for k in det if evidence[k].score is not None]
    logits = [_logit(evidence[k].score) for k in scored]  # type: ignore[arg-type]
    if scored:
        at = [slots[k] for k in scored]
        np.add.at(sites.score_logit_sum, at, logits)
        np.add.at(sites.n_scored, at, 1)
    rated = [k for k in det if evidence[k].rate_kg_h is not None and evidence[k].rate_kg_h > 0]  # type: ignore[operator]
    if rated:
        at = [slots[k] for k in rated]
        # the first rated detection of a site without one gives its interval
        first: dict[int, int] = {}
        for s, k in zip(at, rated, strict=True):
            first.setdefault(s, k)
        for s, k in first.items():
            if sites.n_rated[s] == 0:
                sites.rate_lo_kg_h[s] = evidence[k].rate_lo_kg_h
                sites.rate_hi_kg_h[s] = evidence[k].rate_hi_kg_h
        lr = [math.log(evidence[k].rate_kg_h) for k in rated]  # type: ignore[arg-type]
        np.add.at(sites.log_rate_sum, at, lr)
        np.add.at(sites.log_rate_sq_sum, at, [v * v for v in lr])
        np.add.at(sites.n_rated, at, 1)
    if rep:
        at = [slots[k] for k in rep]
        np.add.at(sites.n_reports, at, 1)
        np.add.at(sites.report_llr, at, [evidence[k].llr for k in rep])
    first_seen, last_seen = sites.first_seen, sites.last_seen
    for s, ev in zip(slots, evidence, strict=True):
        t = ev.time
        f = first_seen[s]
        first_seen[s] = t if f is None or t < f else f
        last = last_seen[s]
        last_seen[s] = t if last is None or t > last else last
    # the links: why each piece joined its site
    gate = math.sqrt(options.gate_chi2)
    c_score, c_reports = model.coef["score"], model.coef["reports"]
    logit_of = dict(zip(scored, logits, strict=True))
    weight = [
        c_score * logit_of.get(k, 0.0) if ev.kind == "detection" else c_reports * ev.llr
        for k, ev in enumerate(evidence)
    ]
    reason = [
        f"founded the site ({ev.sigma_m:.0f} m 1-sigma)"
        if created
        else f"{d:.0f} m from the site, {m:.2f} sigma (gate {gate:.2f})"
        for ev, created, d, m in zip(
            evidence,
            assoc.created.tolist(),
            assoc.distance_m.tolist(),
            assoc.mahalanobis.tolist(),
            strict=True,
        )
    ]
    return {
        "site_id": [],  # filled in once merges are known
        "kind": [ev.kind for ev in evidence],
        "evidence_id": [ev.id for ev in evidence],
        "distance_m": assoc.distance_m.tolist(),
        "mahalanobis": assoc.mahalanobis.tolist(),
        "weight": weight,
        "reason": reason,
        "time": [now] * len(evidence),
    }


def _site_row(site: dict[str, Any], now: datetime) -> dict[str, Any]:
    keys = [k for k in _SITE_STATS if k not in ("version",)]
    row = {k: site[k] for k in keys}
    row.update(
        {
            "confidence": site.get("confidence", 0.0),
            "confidence_terms": site.get("confidence_terms", {}),
            "priority": site.get("priority", 0.0),
            "status": "candidate",
            "updated": now,
        }
    )
    if site["version"] == 0:
        row["version"] = 1
    else:
        row.pop("status")
    return row
