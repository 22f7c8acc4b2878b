"""Fusion in the database: evidence -> sites, with merges, splits and confidence.

The decisions are the kernels' (:mod:`plumetrace.sites.fusion`,
:mod:`plumetrace.sites.confidence`); this module loads the sites near a batch of
evidence, runs the kernels on a local projection and writes back what changed: new sites,
updated positions and counts, merged sites, explainable evidence links and the pass
record each confidence rests on.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from plumetrace.geo import local_projection, lonlat_box
from plumetrace.sites.confidence import (
    ConfidenceModel,
    EvidenceSummary,
    pass_llr,
    site_confidence,
)
from plumetrace.sites.fusion import FusionOptions, SiteTracker
from plumetrace.sites.priority import site_priority
from plumetrace.store.bulk import bulk_insert, bulk_update
from plumetrace.store.models import (
    Assignment,
    Attachment,
    Attribution,
    CollectionRequest,
    Coverage,
    Detection,
    EvidenceLink,
    Report,
    Review,
    Site,
    SitePass,
)

__all__ = [
    "Evidence",
    "FusionOutcome",
    "fuse",
    "mark_passes",
    "new_site_id",
    "new_site_ids",
    "pass_counts",
    "rescore_passes",
]


def new_site_id(seed: str | None = None, attempt: int = 0) -> str:
    """Return a site identifier (``site-`` and 10 hex digits).

    Parameters
    ----------
    seed : str, optional
        What founds the site (e.g. its first evidence): the identifier is derived from it,
        so re-running an interrupted ingest creates the same sites under the same ids.
        Without a seed the identifier is random.
    attempt : int
        Taken identifiers are skipped by deriving the next attempt's.
    """
    if seed is None:
        return f"site-{secrets.token_hex(5)}"
    text = seed if attempt == 0 else f"{seed}\x00{attempt}"
    return "site-" + hashlib.sha256(text.encode()).hexdigest()[:10]


_IN_CHUNK = 500


def new_site_ids(session: Session, seeds: Sequence[str]) -> list[str]:
    """Return a deterministic, unused site identifier for each seed (see :func:`new_site_id`).

    An identifier already in the store (or given to an earlier seed of the batch) is
    replaced by the seed's next attempt, so the result depends only on the seeds and the
    store's content.
    """
    out: list[str] = [""] * len(seeds)
    attempt = [0] * len(seeds)
    chosen: set[str] = set()
    pending = list(range(len(seeds)))
    while pending:
        cand = {k: new_site_id(seeds[k], attempt[k]) for k in pending}
        values = sorted(set(cand.values()))
        taken: set[str] = set()
        for c0 in range(0, len(values), _IN_CHUNK):
            chunk = values[c0 : c0 + _IN_CHUNK]
            taken.update(session.scalars(select(Site.id).where(Site.id.in_(chunk))))
        retry = []
        for k in pending:
            if cand[k] in taken or cand[k] in chosen:
                attempt[k] += 1
                retry.append(k)
            else:
                out[k] = cand[k]
                chosen.add(cand[k])
        pending = retry
    return out


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


@dataclass
class FusionOutcome:
    """What a fusion batch did."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    merged: list[tuple[str, str]] = field(default_factory=list)  # (dropped, kept)
    split: list[tuple[str, str]] = field(default_factory=list)  # (from, new)


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


def _coverage_flights(
    session: Session, lats: list[float], lons: list[float]
) -> dict[int, dict[str, datetime]]:
    """For each point, the flights whose recorded coverage contains it, and when.

    The time is that of the coverage (the earliest, if a flight recorded several
    footprints over the point).
    """
    out: dict[int, dict[str, datetime]] = {i: {} for i in range(len(lats))}
    if not lats:
        return out
    w, s, e, n = lonlat_box(lats, lons)
    rows = session.execute(
        select(Coverage.flight_id, Coverage.time, Coverage.footprint_geojson).where(
            Coverage.min_lat <= n,
            Coverage.max_lat >= s,
            Coverage.min_lon <= e,
            Coverage.max_lon >= w,
        )
    ).all()
    if not rows:
        return out
    pts = shapely.points(np.asarray(lons), np.asarray(lats))
    for flight, when, text in rows:
        geom = shapely.from_geojson(text)
        shapely.prepare(geom)
        for i in np.flatnonzero(shapely.contains(geom, pts)):
            seen = out[int(i)]
            seen[flight] = min(seen.get(flight, when), when)
    return out


def pass_counts(session: Session, site_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Return ``{site: (passes, passes that detected it)}`` from the pass records."""
    ids = list(site_ids)
    out: dict[str, tuple[int, int]] = {}
    for k in range(0, len(ids), 500):
        chunk = ids[k : k + 500]
        rows = session.execute(
            select(
                SitePass.site_id,
                func.count(),
                func.count().filter(SitePass.detected.is_(True)),
            )
            .where(SitePass.site_id.in_(chunk))
            .group_by(SitePass.site_id)
        ).all()
        out.update({r[0]: (int(r[1]), int(r[2])) for r in rows})
    return out


def mark_passes(
    session: Session, pairs: dict[tuple[str, str], tuple[datetime, bool]]
) -> dict[str, tuple[int, int]]:
    """Upsert (site, flight) pass records; ``detected`` only ever turns on.

    Returns
    -------
    dict of str to (int, int)
        Per site, how many passes and detecting passes were added by this call.
    """
    delta: dict[str, tuple[int, int]] = {}
    if not pairs:
        return delta
    by_flight: dict[str, list[str]] = {}
    for site_id, flight_id in pairs:
        by_flight.setdefault(flight_id, []).append(site_id)
    existing: dict[tuple[str, str], bool] = {}
    for flight_id, sites in by_flight.items():
        for k in range(0, len(sites), 500):
            rows = session.execute(
                select(SitePass.site_id, SitePass.detected).where(
                    SitePass.flight_id == flight_id, SitePass.site_id.in_(sites[k : k + 500])
                )
            ).all()
            existing.update({(r[0], flight_id): bool(r[1]) for r in rows})
    new = [
        {"site_id": s, "flight_id": f, "time": t, "detected": d, "covered": True}
        for (s, f), (t, d) in pairs.items()
        if (s, f) not in existing
    ]
    if new:
        bulk_insert(session, SitePass, new)
    turn_on = [
        {"s": s, "f": f} for (s, f), (_t, d) in pairs.items() if d and existing.get((s, f)) is False
    ]
    for row in turn_on:
        session.execute(
            update(SitePass)
            .where(SitePass.site_id == row["s"], SitePass.flight_id == row["f"])
            .values(detected=True)
        )
    for (site, flight), (_t, det) in pairs.items():
        known = existing.get((site, flight))
        a, b = delta.get(site, (0, 0))
        if known is None:
            delta[site] = (a + 1, b + int(det))
        elif det and not known:
            delta[site] = (a, b + 1)
    return delta


def fuse(
    session: Session,
    evidence: list[Evidence],
    *,
    flight_id: str | None,
    options: FusionOptions,
    model: ConfidenceModel,
    now: datetime,
    set_sites: bool = True,
) -> FusionOutcome:
    """Associate evidence with sites (creating, updating and merging them) and rescore.

    ``flight_id`` is the pass the detections came from (None for reports). Each
    evidence's ``site_id`` is filled in; with ``set_sites`` the already-inserted
    evidence rows are updated to point at their sites, otherwise the caller inserts
    them afterwards (faster for large batches).
    """
    outcome = FusionOutcome()
    if not evidence:
        return outcome
    lats = [e.lat for e in evidence]
    lons = [e.lon for e in evidence]
    w, s, e_, n = lonlat_box(lats, lons, options.max_link_m * 2)
    brief = ("id", "lat", "lon", "pos_weight", "version", "created")
    query = select(*[getattr(Site, c) for c in brief]).where(
        Site.lat.between(s, n), Site.lon.between(w, e_), Site.status != "merged"
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    rows = session.execute(query).all()
    # existing sites start as brief dicts; the ones the batch touches get their full stats
    sites: list[dict[str, Any]] = [dict(zip(brief, r, strict=True)) for r in rows]
    n_existing = len(sites)
    lon0, lat0 = float(np.mean(lons)), float(np.mean(lats))
    fwd, inv = local_projection(lon0, lat0)
    if sites:
        sx, sy = fwd.transform([r["lon"] for r in sites], [r["lat"] for r in sites])
    else:
        sx, sy = [], []
    tracker = SiteTracker(
        np.asarray(sx, dtype=np.float64),
        np.asarray(sy, dtype=np.float64),
        np.asarray([r["pos_weight"] for r in sites], dtype=np.float64),
        options,
    )
    ex, ey = fwd.transform(lons, lats)
    order = sorted(range(len(evidence)), key=lambda k: (evidence[k].time, evidence[k].id))
    ex, ey = np.asarray(ex)[order], np.asarray(ey)[order]
    sig = np.asarray([evidence[k].sigma_m for k in order])
    assoc = tracker.add_batch(ex, ey, sig)
    founders = [k for k, a in zip(order, assoc, strict=True) if a.created]
    # ids derive from the founding evidence: an interrupted, re-run ingest recreates them
    ids = new_site_ids(session, [f"{evidence[k].kind}\x00{evidence[k].id}" for k in founders])
    for k, sid in zip(founders, ids, strict=True):
        sites.append(_blank_site(sid, evidence[k], now))
    touched: set[int] = {a.site for a in assoc}
    to_merge = tracker.merge_pairs(np.asarray(sorted(touched), dtype=np.intp))
    involved = touched | {i for pair in to_merge for i in pair}
    _load_stats(session, sites, sorted(i for i in involved if i < n_existing))
    gate = math.sqrt(options.gate_chi2)
    links: list[dict[str, Any]] = []
    for k, a in zip(order, assoc, strict=True):
        ev = evidence[k]
        site = sites[a.site]
        _add_evidence(site, ev)
        ev.site_id = site["id"]
        if ev.kind == "detection":
            weight = model.coef["score"] * (_logit(ev.score) if ev.score is not None else 0.0)
        else:
            weight = model.coef["reports"] * ev.llr
        reason = (
            f"founded the site ({ev.sigma_m:.0f} m 1-sigma)"
            if a.created
            else f"{a.distance_m:.0f} m from the site, {a.mahalanobis:.2f} sigma (gate {gate:.2f})"
        )
        links.append(
            {
                "site_id": site["id"],
                "kind": ev.kind,
                "evidence_id": ev.id,
                "distance_m": a.distance_m,
                "mahalanobis": a.mahalanobis,
                "weight": weight,
                "reason": reason,
                "time": now,
            }
        )
    # merges among the touched sites and their neighbours
    for i, j in to_merge:
        i, j = tracker_root(tracker, i), tracker_root(tracker, j)
        if i == j or not tracker.merge_candidates(i).count(j):
            continue  # an earlier merge in this batch moved one of them
        keep, drop = (i, j) if _older(sites[i], sites[j]) else (j, i)
        tracker.merge(keep, drop)
        _merge_stats(sites[keep], sites[drop])
        outcome.merged.append((sites[drop]["id"], sites[keep]["id"]))
        touched.add(keep)
    redirect = {sites[d]["id"]: sites[tracker_root(tracker, d)]["id"] for d in tracker.merged_into}
    for ev in evidence:
        ev.site_id = redirect.get(ev.site_id or "", ev.site_id)
    for link in links:
        link["site_id"] = redirect.get(link["site_id"], link["site_id"])
    # positions back to lon/lat
    live = [i for i in sorted(touched) if tracker.alive(i)]
    if live:
        xs = [tracker.position(i)[0] for i in live]
        ys = [tracker.position(i)[1] for i in live]
        lo, la = inv.transform(xs, ys)
        for i, lon_i, lat_i in zip(live, np.atleast_1d(lo), np.atleast_1d(la), strict=True):
            sites[i]["lon"], sites[i]["lat"] = float(lon_i), float(lat_i)
            sites[i]["pos_weight"] = tracker.weight(i)
            sites[i]["uncertainty_m"] = tracker.position(i)[2]
    new_idx = [i for i in live if i >= n_existing]
    # pass records: this flight detected its sites; earlier coverage covered new ones
    pairs: dict[tuple[str, str], tuple[datetime, bool]] = {}
    if flight_id is not None:
        for ev in evidence:
            if ev.kind == "detection" and ev.site_id:
                pairs[(ev.site_id, flight_id)] = (ev.time, True)
    cov = _coverage_flights(
        session, [sites[i]["lat"] for i in new_idx], [sites[i]["lon"] for i in new_idx]
    )
    for pos, i in enumerate(new_idx):
        for f, when in cov[pos].items():
            pairs.setdefault((sites[i]["id"], f), (when, False))
    # write: new sites first (evidence rows point to them), then the rest
    if new_idx:
        bulk_insert(
            session,
            Site,
            [_site_row(sites[i], now) for i in new_idx],
        )
    born = {site["id"] for site in sites[n_existing:]}
    for dropped, kept in outcome.merged:
        if dropped not in born:  # sites born and merged in this batch never reach the db
            _relink(session, dropped, kept, now)
    if set_sites:
        _set_evidence_sites(session, evidence)
    added = mark_passes(session, pairs)
    if links:
        bulk_insert(session, EvidenceLink, links)
    # pass counts: what this batch added, except for sites a merge combined (recounted)
    merged_keep = {kept for _d, kept in outcome.merged}
    counts = pass_counts(session, sorted(merged_keep))
    for i in live:
        site = sites[i]
        if site["id"] not in merged_keep:
            d_pass, d_det = added.get(site["id"], (0, 0))
            counts[site["id"]] = (site["n_passes"] + d_pass, site["n_passes_detected"] + d_det)
    site_rows = []
    for i in live:
        site = sites[i]
        site["n_passes"], site["n_passes_detected"] = counts.get(site["id"], (0, 0))
        _rate_fields(site)
        _confidence(site, model)
        (outcome.created if i >= n_existing else outcome.updated).append(site["id"])
        vals = _site_row(site, now)
        vals.pop("created")
        vals.pop("status", None)
        vals["version"] = site["version"] + 1 if i < n_existing else 1
        site_rows.append(vals)
    _update_sites(session, site_rows)
    for dropped, kept in outcome.merged:
        if dropped in born:
            continue
        session.execute(
            update(Site)
            .where(Site.id == dropped)
            .values(status="merged", merged_into=kept, version=Site.version + 1, updated=now)
        )
    return outcome


def rescore_passes(
    session: Session, added: dict[str, tuple[int, int]], model: ConfidenceModel, now: datetime
) -> dict[str, float]:
    """Apply new pass records (from :func:`mark_passes`) to their sites and rescore them.

    Returns
    -------
    dict of str to float
        For each site that gained a pass (sorted by id): how much its pass term moved
        the confidence logit (negative for an empty pass over an emitter).
    """
    changed = sorted(sid for sid, (d_pass, d_det) in added.items() if d_pass or d_det)
    moved: dict[str, float] = {}
    if not changed:
        return moved
    cols = [getattr(Site, c) for c in _SITE_STATS]
    rows = []
    for k in range(0, len(changed), 900):
        chunk = changed[k : k + 900]
        for r in session.execute(select(*cols).where(Site.id.in_(chunk))):
            site = dict(zip(_SITE_STATS, r, strict=True))
            d_pass, d_det = added[site["id"]]
            before = pass_llr(site["n_passes"], site["n_passes_detected"], model)
            site["n_passes"] += d_pass
            site["n_passes_detected"] += d_det
            _confidence(site, model)
            after = pass_llr(site["n_passes"], site["n_passes_detected"], model)
            moved[site["id"]] = model.coef["passes"] * (after - before)
            rows.append(
                {
                    "id": site["id"],
                    "n_passes": site["n_passes"],
                    "n_passes_detected": site["n_passes_detected"],
                    "confidence": site["confidence"],
                    "confidence_terms": site["confidence_terms"],
                    "priority": site["priority"],
                    "version": site["version"] + 1,
                    "updated": now,
                }
            )
    bulk_update(session, Site, rows)
    return {sid: moved[sid] for sid in changed}


def _update_sites(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write many sites' fields at once (rows keyed by ``id``).

    The rows were read under the write lock (SQLite's ``BEGIN IMMEDIATE``; ``FOR UPDATE``
    on PostgreSQL), so no other writer changed them meanwhile; the version still moves
    on so an analyst's stale form gets its 409.
    """
    bulk_update(session, Site, rows)


def _load_stats(session: Session, sites: list[dict[str, Any]], indices: list[int]) -> None:
    """Replace the brief dicts of existing sites at ``indices`` by their full stats."""
    cols = [getattr(Site, c) for c in _SITE_STATS]
    by_id = {sites[i]["id"]: i for i in indices}
    ids = list(by_id)
    for k in range(0, len(ids), 900):
        for r in session.execute(select(*cols).where(Site.id.in_(ids[k : k + 900]))):
            row = dict(zip(_SITE_STATS, r, strict=True))
            sites[by_id[row["id"]]] = row


def tracker_root(tracker: SiteTracker, i: int) -> int:
    """Follow merges from site index ``i`` to the live site that absorbed it."""
    while i in tracker.merged_into:
        i = tracker.merged_into[i]
    return i


def _older(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["version"] and not b["version"]:
        return True
    if b["version"] and not a["version"]:
        return False
    return bool((a["created"], a["id"]) <= (b["created"], b["id"]))


def _merge_stats(keep: dict[str, Any], drop: dict[str, Any]) -> None:
    for key in (
        "n_detections",
        "n_reports",
        "report_llr",
        "score_logit_sum",
        "n_scored",
        "log_rate_sum",
        "log_rate_sq_sum",
        "n_rated",
    ):
        keep[key] += drop[key]
    keep["first_seen"] = min(keep["first_seen"], drop["first_seen"])
    keep["last_seen"] = max(keep["last_seen"], drop["last_seen"])


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


def _set_evidence_sites(session: Session, evidence: list[Evidence]) -> None:
    det = [{"id": e.id, "site_id": e.site_id} for e in evidence if e.kind == "detection"]
    rep = [{"id": e.id, "site_id": e.site_id} for e in evidence if e.kind == "report"]
    if det:
        session.execute(update(Detection), det)
    if rep:
        session.execute(update(Report), rep)


def _relink(session: Session, dropped: str, kept: str, now: datetime) -> None:
    """Move a merged site's evidence, links and pass records to the site that kept it."""
    session.execute(update(Detection).where(Detection.site_id == dropped).values(site_id=kept))
    session.execute(update(Report).where(Report.site_id == dropped).values(site_id=kept))
    kept_links = select(EvidenceLink.kind, EvidenceLink.evidence_id).where(
        EvidenceLink.site_id == kept
    )
    dup = session.execute(
        select(EvidenceLink.id).where(
            EvidenceLink.site_id == dropped,
            EvidenceLink.evidence_id.in_(kept_links.with_only_columns(EvidenceLink.evidence_id)),
        )
    ).scalars()
    ids = list(dup)
    if ids:
        session.execute(delete(EvidenceLink).where(EvidenceLink.id.in_(ids)))
    session.execute(
        update(EvidenceLink).where(EvidenceLink.site_id == dropped).values(site_id=kept)
    )
    # the analysts' work on the retired site follows it to the site that kept it
    for model in (Review, Assignment, Attachment, CollectionRequest):
        session.execute(update(model).where(model.site_id == dropped).values(site_id=kept))
    dup_orgs = select(Attribution.organization_id).where(Attribution.site_id == kept)
    session.execute(
        delete(Attribution).where(
            Attribution.site_id == dropped, Attribution.organization_id.in_(dup_orgs)
        )
    )
    session.execute(update(Attribution).where(Attribution.site_id == dropped).values(site_id=kept))
    drop_passes = session.execute(
        select(SitePass.flight_id, SitePass.time, SitePass.detected).where(
            SitePass.site_id == dropped
        )
    ).all()
    pairs = {(kept, f): (t, bool(d)) for f, t, d in drop_passes}
    session.execute(delete(SitePass).where(SitePass.site_id == dropped))
    mark_passes(session, pairs)
