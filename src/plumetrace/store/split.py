"""Rebuilding a site from its evidence rows, and splitting off what it no longer explains.

Used after merges (:mod:`plumetrace.store.fusion` decides them): the kept site is
re-clustered (:func:`plumetrace.sites.fusion.split_outliers`) and each site involved is
recomputed from its detections, reports and pass records.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from plumetrace.geo import local_projection
from plumetrace.sites.confidence import ConfidenceModel, report_llr
from plumetrace.sites.fusion import FusionOptions, split_outliers
from plumetrace.store.bulk import bulk_insert
from plumetrace.store.fusion import (
    _SITE_STATS,
    Evidence,
    _add_evidence,
    _blank_site,
    _confidence,
    _coverage_flights,
    _rate_fields,
    _site_row,
    mark_passes,
    new_site_ids,
    pass_counts,
)
from plumetrace.store.models import Detection, EvidenceLink, Report, Site, SitePass

__all__ = ["recompute_site", "split_site"]


def recompute_site(session: Session, site_id: str, model: ConfidenceModel, now: datetime) -> None:
    """Rebuild one site's position, counts, rate and confidence from its evidence rows."""
    dets = session.execute(
        select(
            Detection.id,
            Detection.lat,
            Detection.lon,
            Detection.uncertainty_m,
            Detection.time,
            Detection.rate_kg_h,
            Detection.rate_lo_kg_h,
            Detection.rate_hi_kg_h,
            Detection.score,
        ).where(Detection.site_id == site_id)
    ).all()
    reps = session.execute(
        select(
            Report.id,
            Report.lat,
            Report.lon,
            Report.uncertainty_m,
            Report.time,
            Report.source_reliability,
            Report.credibility,
        ).where(Report.site_id == site_id)
    ).all()
    evs = [
        Evidence("detection", d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8]) for d in dets
    ] + [Evidence("report", r[0], r[1], r[2], r[3], r[4], llr=report_llr(r[5], r[6])) for r in reps]
    site_row = session.execute(
        select(*[getattr(Site, c) for c in _SITE_STATS]).where(Site.id == site_id)
    ).one()
    site = dict(zip(_SITE_STATS, site_row, strict=True))
    if not evs:
        return
    fresh = _blank_site(site_id, evs[0], now)
    for ev in evs:
        _add_evidence(fresh, ev)
    w = np.asarray([1.0 / e.sigma_m**2 for e in evs])
    fresh["lat"] = float(np.dot(w, [e.lat for e in evs]) / w.sum())
    fresh["lon"] = float(np.dot(w, [e.lon for e in evs]) / w.sum())
    fresh["pos_weight"] = float(w.sum())
    fresh["uncertainty_m"] = max(float(w.sum()) ** -0.5, 5.0)
    fresh["n_passes"], fresh["n_passes_detected"] = pass_counts(session, [site_id]).get(
        site_id, (0, 0)
    )
    fresh["exposure"] = site["exposure"]
    _rate_fields(fresh)
    _confidence(fresh, model)
    vals = {k: v for k, v in _site_row(fresh, now).items() if k not in ("id", "created")}
    vals.pop("status", None)
    vals.pop("version", None)
    session.execute(update(Site).where(Site.id == site_id).values(**vals, version=Site.version + 1))


def split_site(
    session: Session,
    site_id: str,
    options: FusionOptions,
    model: ConfidenceModel,
    now: datetime,
) -> list[str]:
    """Split off the evidence a site's fused position no longer explains; return new ids."""
    dets = session.execute(
        select(Detection.id, Detection.lat, Detection.lon, Detection.uncertainty_m).where(
            Detection.site_id == site_id
        )
    ).all()
    reps = session.execute(
        select(Report.id, Report.lat, Report.lon, Report.uncertainty_m).where(
            Report.site_id == site_id
        )
    ).all()
    items = [("detection", *d) for d in dets] + [("report", *r) for r in reps]
    if len(items) < 2:
        return []
    lat = np.asarray([it[2] for it in items])
    lon = np.asarray([it[3] for it in items])
    fwd, _ = local_projection(float(lon.mean()), float(lat.mean()))
    x, y = fwd.transform(lon, lat)
    labels = split_outliers(
        np.asarray(x), np.asarray(y), np.asarray([it[4] for it in items]), options
    )
    if labels.max() == 0:
        return []
    created = []
    for g in range(1, int(labels.max()) + 1):
        members = [items[k] for k in np.flatnonzero(labels == g)]
        first = members[0]
        # derived from what it splits off, so an interrupted split re-runs to the same ids
        (sid,) = new_site_ids(session, [f"split\x00{site_id}\x00{first[0]}\x00{first[1]}"])
        bulk_insert(
            session,
            Site,
            [
                _site_row(
                    _blank_site(
                        sid, Evidence(first[0], first[1], first[2], first[3], first[4], now), now
                    ),
                    now,
                )
            ],
        )
        for kind, eid, *_ in members:
            table = Detection if kind == "detection" else Report
            session.execute(update(table).where(table.id == eid).values(site_id=sid))
            session.execute(
                update(EvidenceLink)
                .where(
                    EvidenceLink.site_id == site_id,
                    EvidenceLink.kind == kind,
                    EvidenceLink.evidence_id == eid,
                )
                .values(site_id=sid, reason="split off: the merged site no longer explains it")
            )
        # the new site's passes: flights that detected its members, and the recorded
        # coverage that contains it (empty passes)
        flights = session.execute(
            select(Detection.flight_id, func.min(Detection.time))
            .where(Detection.site_id == sid)
            .group_by(Detection.flight_id)
        ).all()
        pairs = {(sid, f): (t, True) for f, t in flights}
        grp = labels == g
        lat_g, lon_g = float(lat[grp].mean()), float(lon[grp].mean())
        for f, when in _coverage_flights(session, [lat_g], [lon_g])[0].items():
            pairs.setdefault((sid, f), (when, False))
        mark_passes(session, pairs)
        recompute_site(session, sid, model, now)
        created.append(sid)
    # the original site no longer has detections from the flights its members took away
    still = select(Detection.flight_id).where(Detection.site_id == site_id)
    session.execute(
        update(SitePass)
        .where(SitePass.site_id == site_id, SitePass.flight_id.not_in(still))
        .values(detected=False)
    )
    recompute_site(session, site_id, model, now)
    return created
