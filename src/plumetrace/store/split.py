"""Rebuilding a site from its evidence rows, and splitting off what it no longer explains.

Used after merges (:mod:`plumetrace.store.fusion` decides them): the kept site is
re-clustered (:func:`plumetrace.sites.fusion.split_outliers`) and each site involved is
recomputed from its detections, reports and pass records.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import numpy as np
from sqlalchemy import BindParameter, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from plumetrace.geo import local_projection
from plumetrace.sites.confidence import ConfidenceModel, report_llr
from plumetrace.sites.fusion import FusionOptions, split_outliers
from plumetrace.store.bulk import bulk_insert
from plumetrace.store.fusion import (
    _coverage_flights,
    mark_passes,
    new_site_ids,
    pass_counts,
)
from plumetrace.store.models import Detection, EvidenceLink, Report, Site, SitePass
from plumetrace.store.site_stats import (
    _SITE_STATS,
    Evidence,
    _add_evidence,
    _blank_site,
    _confidence,
    _rate_fields,
    _site_row,
)

__all__ = ["recompute_site", "split_site"]


_SITES = cast("Table", Site.__table__)
_DET = cast("Table", Detection.__table__)
_REP = cast("Table", Report.__table__)
_LINKS = cast("Table", EvidenceLink.__table__)
_PASSES = cast("Table", SitePass.__table__)
_SITE: BindParameter[str] = bindparam("site")

_DETS_OF_SITE = select(
    _DET.c.id,
    _DET.c.lat,
    _DET.c.lon,
    _DET.c.uncertainty_m,
    _DET.c.time,
    _DET.c.rate_kg_h,
    _DET.c.rate_lo_kg_h,
    _DET.c.rate_hi_kg_h,
    _DET.c.score,
).where(_DET.c.site_id == _SITE)
_REPS_OF_SITE = select(
    _REP.c.id,
    _REP.c.lat,
    _REP.c.lon,
    _REP.c.uncertainty_m,
    _REP.c.time,
    _REP.c.source_reliability,
    _REP.c.credibility,
).where(_REP.c.site_id == _SITE)
_STATS_OF_SITE = select(*[_SITES.c[c] for c in _SITE_STATS]).where(_SITES.c.id == _SITE)
_RECOMPUTED = [
    c
    for c in (*_SITE_STATS, "confidence", "confidence_terms", "priority", "updated")
    if c not in ("id", "created", "version")
]
_RECOMPUTE = (
    update(_SITES)
    .where(_SITES.c.id == _SITE)
    .values(
        {
            **{c: bindparam(f"v_{c}", type_=_SITES.c[c].type) for c in _RECOMPUTED},
            "version": _SITES.c.version + 1,
        }
    )
)
_DET_POSITIONS = select(_DET.c.id, _DET.c.lat, _DET.c.lon, _DET.c.uncertainty_m).where(
    _DET.c.site_id == _SITE
)
_REP_POSITIONS = select(_REP.c.id, _REP.c.lat, _REP.c.lon, _REP.c.uncertainty_m).where(
    _REP.c.site_id == _SITE
)
_MOVE_EVIDENCE = {
    t.name: update(t).where(t.c.id == bindparam("eid")).values(site_id=bindparam("sid"))
    for t in (_DET, _REP)
}
_MOVE_LINK = (
    update(_LINKS)
    .where(
        _LINKS.c.site_id == bindparam("old"),
        _LINKS.c.kind == bindparam("k_kind"),
        _LINKS.c.evidence_id == bindparam("eid"),
    )
    .values(site_id=bindparam("sid"), reason="split off: the merged site no longer explains it")
)
_FLIGHTS_OF_SITE = (
    select(_DET.c.flight_id, func.min(_DET.c.time))
    .where(_DET.c.site_id == _SITE)
    .group_by(_DET.c.flight_id)
)
_UNDETECT = (
    update(_PASSES)
    .where(
        _PASSES.c.site_id == _SITE,
        _PASSES.c.flight_id.not_in(select(_DET.c.flight_id).where(_DET.c.site_id == _SITE)),
    )
    .values(detected=False)
)


def recompute_site(session: Session, site_id: str, model: ConfidenceModel, now: datetime) -> None:
    """Rebuild one site's position, counts, rate and confidence from its evidence rows."""
    conn = session.connection()
    p = {"site": site_id}
    dets = conn.execute(_DETS_OF_SITE, p).all()
    reps = conn.execute(_REPS_OF_SITE, p).all()
    evs = [
        Evidence("detection", d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8]) for d in dets
    ] + [Evidence("report", r[0], r[1], r[2], r[3], r[4], llr=report_llr(r[5], r[6])) for r in reps]
    site_row = conn.execute(_STATS_OF_SITE, p).one()
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
    row = _site_row(fresh, now)
    conn.execute(_RECOMPUTE, {"site": site_id, **{f"v_{c}": row[c] for c in _RECOMPUTED}})


def split_site(
    session: Session,
    site_id: str,
    options: FusionOptions,
    model: ConfidenceModel,
    now: datetime,
) -> list[str]:
    """Split off the evidence a site's fused position no longer explains; return new ids."""
    conn = session.connection()
    p = {"site": site_id}
    dets = conn.execute(_DET_POSITIONS, p).all()
    reps = conn.execute(_REP_POSITIONS, p).all()
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
            table = "detections" if kind == "detection" else "reports"
            conn.execute(_MOVE_EVIDENCE[table], {"eid": eid, "sid": sid})
            conn.execute(_MOVE_LINK, {"old": site_id, "k_kind": kind, "eid": eid, "sid": sid})
        # the new site's passes: flights that detected its members, and the recorded
        # coverage that contains it (empty passes)
        flights = conn.execute(_FLIGHTS_OF_SITE, {"site": sid}).all()
        pairs = {(sid, f): (t, True) for f, t in flights}
        grp = labels == g
        lat_g, lon_g = float(lat[grp].mean()), float(lon[grp].mean())
        for f, when in _coverage_flights(session, [lat_g], [lon_g])[0].items():
            pairs.setdefault((sid, f), (when, False))
        mark_passes(session, pairs)
        recompute_site(session, sid, model, now)
        created.append(sid)
    # the original site no longer has detections from the flights its members took away
    conn.execute(_UNDETECT, p)
    recompute_site(session, site_id, model, now)
    return created
