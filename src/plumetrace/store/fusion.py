"""Fusion in the database: evidence -> sites, with merges, splits and confidence.

The decisions are the kernels' (:mod:`plumetrace.sites.fusion`,
:mod:`plumetrace.sites.confidence`); this module loads the sites near a batch of
evidence, runs the kernels on a local projection and writes back what changed: new sites,
updated positions and counts, merged sites, explainable evidence links and the pass
record each confidence rests on.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import Table, bindparam, delete, func, select, text, update
from sqlalchemy.orm import Session

from plumetrace.geo import local_projection, lonlat_box
from plumetrace.sites.confidence import (
    ConfidenceModel,
    pass_llr,
)
from plumetrace.sites.fusion import FusionOptions, SiteTracker
from plumetrace.store.bulk import (
    bulk_update,
    dbapi_cursor,
    insert_columns,
    placeholder,
    update_columns,
)
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
from plumetrace.store.site_stats import (
    _SITE_STATS,
    Evidence,
    _add_evidence_batch,
    _confidence,
    _load_stats,
    _score,
    _site_columns,
    _Sites,
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
class FusionOutcome:
    """What a fusion batch did."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    merged: list[tuple[str, str]] = field(default_factory=list)  # (dropped, kept)
    split: list[tuple[str, str]] = field(default_factory=list)  # (from, new)


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
    for flight, when, footprint in rows:
        geom = shapely.from_geojson(footprint)
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
    session: Session,
    pairs: dict[tuple[str, str], tuple[datetime, bool]],
    *,
    new_flights: Collection[str] = (),
) -> dict[str, tuple[int, int]]:
    """Upsert (site, flight) pass records; ``detected`` only ever turns on.

    ``new_flights`` are flights created in this transaction: they have no pass records
    yet, so they are not looked up.

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
    conn = session.connection()
    for flight_id, sites in by_flight.items():
        if flight_id in new_flights:
            continue
        for k in range(0, len(sites), _IN_CHUNK):
            rows = conn.execute(
                _PASSES_OF_FLIGHT, {"f": flight_id, "ids": sites[k : k + _IN_CHUNK]}
            )
            existing.update({(r[0], flight_id): bool(r[1]) for r in rows})
    new = [(s, f, t, d) for (s, f), (t, d) in pairs.items() if (s, f) not in existing]
    if new:
        s_, f_, t_, d_ = (list(c) for c in zip(*new, strict=True))
        insert_columns(
            session,
            SitePass,
            {
                "site_id": s_,
                "flight_id": f_,
                "time": t_,
                "detected": d_,
                "covered": [True] * len(s_),
            },
        )
    turn_on = [
        {"s": s, "f": f} for (s, f), (_t, d) in pairs.items() if d and existing.get((s, f)) is False
    ]
    if turn_on:
        conn.execute(_TURN_ON, turn_on)
    for (site, flight), (_t, det) in pairs.items():
        known = existing.get((site, flight))
        a, b = delta.get(site, (0, 0))
        if known is None:
            delta[site] = (a + 1, b + int(det))
        elif det and not known:
            delta[site] = (a, b + 1)
    return delta


_FUSION_LOCK = 7_240_002
"""PostgreSQL advisory lock serialising fusion batches (see :func:`fuse`)."""

F64 = NDArray[np.float64]

_SITES = cast("Table", Site.__table__)
_PASSES = cast("Table", SitePass.__table__)
_PASSES_OF_FLIGHT = select(_PASSES.c.site_id, _PASSES.c.detected).where(
    _PASSES.c.flight_id == bindparam("f"), _PASSES.c.site_id.in_(bindparam("ids", expanding=True))
)
_TURN_ON = (
    update(_PASSES)
    .where(_PASSES.c.site_id == bindparam("s"), _PASSES.c.flight_id == bindparam("f"))
    .values(detected=True)
)
_RETIRE = (
    update(_SITES)
    .where(_SITES.c.id == bindparam("d"))
    .values(
        status="merged",
        merged_into=bindparam("k"),
        version=_SITES.c.version + 1,
        updated=bindparam("now", type_=_SITES.c.updated.type),
    )
)

_SCAN_ABOVE = 5000
"""Sites in a box's latitude band above which SQLite reads the table, not the index."""


def _brief_sites(
    session: Session, box: tuple[float, float, float, float]
) -> tuple[list[str], F64, F64, F64]:
    """Ids, positions and position precisions of the live sites in a lon/lat box."""
    w, s, e, n = box
    ph = placeholder(session)
    where = f"lat BETWEEN {ph} AND {ph} AND lon BETWEEN {ph} AND {ph} AND status != 'merged'"
    cur = dbapi_cursor(session)
    try:
        if not _is_postgresql(session):
            # a box holding much of the store is read faster by a scan of the table than
            # by the latitude index (one random table access per site); PostgreSQL's
            # planner makes that choice from its statistics
            cur.execute(f"SELECT count(*) FROM sites WHERE lat BETWEEN {ph} AND {ph}", (s, n))
            if cur.fetchone()[0] > _SCAN_ABOVE:
                where = (
                    f"+lat BETWEEN {ph} AND {ph} AND +lon BETWEEN {ph} AND {ph} "
                    "AND status != 'merged'"
                )
        cur.execute(f"SELECT id, lat, lon, pos_weight FROM sites WHERE {where}", (s, n, w, e))
        rows = cur.fetchall()
    finally:
        cur.close()
    if not rows:
        return [], np.zeros(0), np.zeros(0), np.zeros(0)
    ids, lat, lon, weight = zip(*rows, strict=True)
    return (
        list(ids),
        np.asarray(lat, dtype=np.float64),
        np.asarray(lon, dtype=np.float64),
        np.asarray(weight, dtype=np.float64),
    )


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def fuse(
    session: Session,
    evidence: list[Evidence],
    *,
    flight_id: str | None,
    options: FusionOptions,
    model: ConfidenceModel,
    now: datetime,
    set_sites: bool = True,
    new_flight: bool = False,
) -> FusionOutcome:
    """Associate evidence with sites (creating, updating and merging them) and rescore.

    ``flight_id`` is the pass the detections came from (None for reports); ``new_flight``
    says it was created in this transaction (so it has no pass records yet). Each
    evidence's ``site_id`` is filled in; with ``set_sites`` the already-inserted evidence
    rows are updated to point at their sites, otherwise the caller inserts them
    afterwards (faster for large batches).

    Concurrent batches are serialised: SQLite's writer lock (``BEGIN IMMEDIATE``), on
    PostgreSQL an advisory transaction lock taken before the sites are read, and row
    locks on the sites the batch changes.
    """
    outcome = FusionOutcome()
    if not evidence:
        return outcome
    session.flush()  # the reads below go to the connection, past the session's autoflush
    pg = _is_postgresql(session)
    if pg:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FUSION_LOCK})
    lats = [e.lat for e in evidence]
    lons = [e.lon for e in evidence]
    box = lonlat_box(lats, lons, options.max_link_m * 2)
    ids, site_lat, site_lon, site_w = _brief_sites(session, box)
    n_existing = len(ids)
    lon0, lat0 = float(np.mean(lons)), float(np.mean(lats))
    fwd, inv = local_projection(lon0, lat0)
    if n_existing:
        sx, sy = fwd.transform(site_lon, site_lat)
    else:
        sx, sy = [], []
    tracker = SiteTracker(
        np.asarray(sx, dtype=np.float64), np.asarray(sy, dtype=np.float64), site_w, options
    )
    ex, ey = fwd.transform(lons, lats)
    order = sorted(range(len(evidence)), key=lambda k: (evidence[k].time, evidence[k].id))
    ev_sorted = [evidence[k] for k in order]
    ex, ey = np.asarray(ex)[order], np.asarray(ey)[order]
    sig = np.asarray([e.sigma_m for e in ev_sorted])
    assoc = tracker.add_batch_arrays(ex, ey, sig)
    site_of = assoc.site.tolist()
    founders = np.flatnonzero(assoc.created).tolist()
    # ids derive from the founding evidence: an interrupted, re-run ingest recreates them
    new_ids = new_site_ids(session, [f"{ev_sorted[k].kind}\x00{ev_sorted[k].id}" for k in founders])
    ids.extend(new_ids)
    touched: set[int] = set(site_of)
    to_merge = tracker.merge_pairs(np.asarray(sorted(touched), dtype=np.intp))
    involved = touched | {i for pair in to_merge for i in pair}
    # the involved sites, column-wise: slots of existing ones first (by index), then new
    old_idx = sorted(i for i in involved if i < n_existing)
    idx = [*old_idx, *range(n_existing, tracker.n)]
    slot = {i: k for k, i in enumerate(idx)}
    sites = _Sites(len(idx))
    _load_stats(session, sites, {ids[i]: slot[i] for i in old_idx})
    for k, i in zip(founders, range(n_existing, tracker.n), strict=True):
        ev, s = ev_sorted[k], slot[i]
        sites.id[s] = ids[i]
        sites.lat[s], sites.lon[s], sites.uncertainty_m[s] = ev.lat, ev.lon, ev.sigma_m
        sites.first_seen[s] = sites.last_seen[s] = ev.time
        sites.created[s] = now
    links = _add_evidence_batch(
        sites, ev_sorted, [slot[i] for i in site_of], assoc, options, model, now
    )
    # merges among the touched sites and their neighbours
    for i, j in to_merge:
        i, j = tracker_root(tracker, i), tracker_root(tracker, j)
        if i == j or not tracker.merge_candidates(i).count(j):
            continue  # an earlier merge in this batch moved one of them
        keep, drop = (i, j) if sites.older(slot[i], slot[j]) else (j, i)
        tracker.merge(keep, drop)
        sites.merge(slot[keep], slot[drop])
        outcome.merged.append((ids[drop], ids[keep]))
        touched.add(keep)
    redirect = {ids[d]: ids[tracker_root(tracker, d)] for d in tracker.merged_into}
    link_site = [redirect.get(ids[i], ids[i]) for i in site_of]
    for ev, sid in zip(ev_sorted, link_site, strict=True):
        ev.site_id = sid
    links["site_id"] = link_site
    # positions back to lon/lat
    live = [i for i in sorted(touched) if tracker.alive(i)]
    live_slots = [slot[i] for i in live]
    if live:
        px, py, pw = tracker.positions(np.asarray(live, dtype=np.intp))
        weight = pw.tolist()
        lo, la = inv.transform(px, py)
        sites.lon[live_slots] = np.atleast_1d(lo)
        sites.lat[live_slots] = np.atleast_1d(la)
        sites.pos_weight[live_slots] = weight
        floor = options.min_uncertainty_m
        sites.uncertainty_m[live_slots] = [max(w**-0.5, floor) for w in weight]
    new_idx = [i for i in live if i >= n_existing]
    # pass records: this flight detected its sites; earlier coverage covered new ones
    pairs: dict[tuple[str, str], tuple[datetime, bool]] = {}
    if flight_id is not None:
        for ev in evidence:
            if ev.kind == "detection" and ev.site_id:
                pairs[(ev.site_id, flight_id)] = (ev.time, True)
    cov = _coverage_flights(
        session,
        [float(sites.lat[slot[i]]) for i in new_idx],
        [float(sites.lon[slot[i]]) for i in new_idx],
    )
    for pos, i in enumerate(new_idx):
        for f, when in cov[pos].items():
            pairs.setdefault((ids[i], f), (when, False))
    merged_keep = {kept for _d, kept in outcome.merged}
    born = set(new_ids)
    # new sites no merge combined hold only this batch's pass records: final now
    final_new = [slot[i] for i in new_idx if ids[i] not in merged_keep]
    final_set = {sites.id[s] for s in final_new}
    n_new_pass: dict[str, list[int]] = {}
    for (sid, _f), (_t, det) in pairs.items():
        if sid in final_set:
            c = n_new_pass.setdefault(sid, [0, 0])
            c[0] += 1
            c[1] += int(det)
    for s in final_new:
        sites.n_passes[s], sites.n_passes_detected[s] = n_new_pass.get(sites.id[s], (0, 0))
    scored = _score(sites, final_new, model)
    # write: new sites first (evidence rows point to them), then the rest
    if new_idx:
        new_slots = [slot[i] for i in new_idx]
        insert_columns(session, Site, _site_columns(sites, new_slots, scored, now, insert=True))
    for dropped, kept in outcome.merged:
        if dropped not in born:  # sites born and merged in this batch never reach the db
            _relink(session, dropped, kept, now)
    if set_sites:
        _set_evidence_sites(session, evidence)
    added = mark_passes(
        session, pairs, new_flights=(flight_id,) if new_flight and flight_id else ()
    )
    insert_columns(session, EvidenceLink, links)
    # pass counts: what this batch added, except for sites a merge combined (recounted)
    counts = pass_counts(session, sorted(merged_keep))
    rest = [slot[i] for i in live if i < n_existing or ids[i] in merged_keep]
    for s in rest:
        sid = sites.id[s]
        if sid in merged_keep:
            sites.n_passes[s], sites.n_passes_detected[s] = counts.get(sid, (0, 0))
        else:
            d_pass, d_det = added.get(sid, (0, 0))
            sites.n_passes[s] += d_pass
            sites.n_passes_detected[s] += d_det
    scored_rest = _score(sites, rest, model)
    cols = _site_columns(sites, rest, scored_rest, now, insert=False)
    n_old = len(old_idx)  # slots below it hold existing sites
    cols["version"] = [int(sites.version[s]) + 1 if s < n_old else 1 for s in rest]
    update_columns(session, Site, cols)
    for i in live:
        (outcome.created if i >= n_existing else outcome.updated).append(ids[i])
    gone = [{"d": d, "k": k, "now": now} for d, k in outcome.merged if d not in born]
    if gone:
        session.connection().execute(_RETIRE, gone)
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


def tracker_root(tracker: SiteTracker, i: int) -> int:
    """Follow merges from site index ``i`` to the live site that absorbed it."""
    while i in tracker.merged_into:
        i = tracker.merged_into[i]
    return i


def _set_evidence_sites(session: Session, evidence: list[Evidence]) -> None:
    det = [{"id": e.id, "site_id": e.site_id} for e in evidence if e.kind == "detection"]
    rep = [{"id": e.id, "site_id": e.site_id} for e in evidence if e.kind == "report"]
    if det:
        session.execute(update(Detection), det)
    if rep:
        session.execute(update(Report), rep)


_REVIEW_TABLES = tuple(
    cast("Table", m.__table__) for m in (Review, Assignment, Attachment, CollectionRequest)
)
_LINKS = cast("Table", EvidenceLink.__table__)
_ATTRIB = cast("Table", Attribution.__table__)
_DET = cast("Table", Detection.__table__)
_REP = cast("Table", Report.__table__)


def _move(table: Any) -> Any:
    return update(table).where(table.c.site_id == bindparam("d")).values(site_id=bindparam("k"))


_MOVE = {t.name: _move(t) for t in (_DET, _REP, _LINKS, _ATTRIB, *_REVIEW_TABLES)}
_DUP_LINKS = select(_LINKS.c.id).where(
    _LINKS.c.site_id == bindparam("d"),
    _LINKS.c.evidence_id.in_(
        select(_LINKS.c.evidence_id).where(_LINKS.c.site_id == bindparam("k"))
    ),
)
_DELETE_LINKS = delete(_LINKS).where(_LINKS.c.id.in_(bindparam("ids", expanding=True)))
_DUP_ATTRIB = delete(_ATTRIB).where(
    _ATTRIB.c.site_id == bindparam("d"),
    _ATTRIB.c.organization_id.in_(
        select(_ATTRIB.c.organization_id).where(_ATTRIB.c.site_id == bindparam("k"))
    ),
)
_PASSES_OF_SITE = select(_PASSES.c.flight_id, _PASSES.c.time, _PASSES.c.detected).where(
    _PASSES.c.site_id == bindparam("d")
)
_DELETE_PASSES = delete(_PASSES).where(_PASSES.c.site_id == bindparam("d"))


def _relink(session: Session, dropped: str, kept: str, now: datetime) -> None:
    """Move a merged site's evidence, links and pass records to the site that kept it."""
    conn = session.connection()
    p = {"d": dropped, "k": kept}
    conn.execute(_MOVE["detections"], p)
    conn.execute(_MOVE["reports"], p)
    ids = list(conn.execute(_DUP_LINKS, p).scalars())
    if ids:
        conn.execute(_DELETE_LINKS, {"ids": ids})
    conn.execute(_MOVE["evidence_links"], p)
    # the analysts' work on the retired site follows it to the site that kept it
    for table in _REVIEW_TABLES:
        conn.execute(_MOVE[table.name], p)
    conn.execute(_DUP_ATTRIB, p)
    conn.execute(_MOVE["attributions"], p)
    drop_passes = conn.execute(_PASSES_OF_SITE, p).all()
    pairs = {(kept, f): (t, bool(d)) for f, t, d in drop_passes}
    conn.execute(_DELETE_PASSES, p)
    mark_passes(session, pairs)
