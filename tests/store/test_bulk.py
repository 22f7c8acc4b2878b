from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from plumetrace.store.bulk import (
    bulk_insert,
    bulk_update,
    insert_columns,
    select_by_key,
    update_columns,
)
from plumetrace.store.engine import session_scope
from plumetrace.store.models import Site
from plumetrace.store.site_stats import _round4

T0 = datetime(2026, 5, 1, 17, 0, tzinfo=UTC)


def _site(sid: str, k: int, when: datetime) -> dict[str, object]:
    return {
        "id": sid,
        "lat": 31.75 + k * 1e-3,
        "lon": -106.45,
        "uncertainty_m": 20 + k,  # an int in a float column
        "confidence": 0.5,
        "status": "candidate",
        "pos_weight": 0.0025,
        **dict.fromkeys(("n_detections", "n_reports", "n_passes", "n_passes_detected"), 0),
        **dict.fromkeys(("n_scored", "n_rated"), 0),
        **dict.fromkeys(("report_llr", "score_logit_sum", "log_rate_sum", "log_rate_sq_sum"), 0.0),
        "priority": 0.0,
        "confidence_terms": {"bias": 0.1 * k, "passes": -0.0},
        "first_seen": when,
        "last_seen": when,
        "rate_kg_h": None if k % 2 else 12.5,
        "created": when,
        "updated": when,
        "version": 1,
    }


def test_column_wise_writes_and_keyed_reads_round_trip(engine: sa.Engine) -> None:
    later = T0 + timedelta(hours=3)
    same_instant = later.astimezone(UTC)  # an equal time, another object
    with session_scope(engine, write=True) as s:
        rows = [_site(f"site-{k:010d}", k, T0) for k in range(5)]
        bulk_insert(s, Site, rows[:2])
        insert_columns(s, Site, {c: [r[c] for r in rows[2:]] for c in rows[0]})
        update_columns(
            s,
            Site,
            {
                "id": ["site-0000000001", "site-0000000003"],
                "last_seen": [later, same_instant],
                "confidence_terms": [{"x": 1}, {"x": 2}],
                "n_detections": [4, 7],
            },
        )
        bulk_update(s, Site, [{"id": "site-0000000004", "rate_kg_h": 3.25}])
    cols = ("id", "uncertainty_m", "rate_kg_h", "last_seen", "confidence_terms", "n_detections")
    with session_scope(engine) as s:
        got = select_by_key(
            s,
            Site,
            cols,
            "id",
            [f"site-{k:010d}" for k in (4, 3, 1, 0, 9)],
            for_update=True,
            chunk=2,
        )
        orm = {x.id: x for x in s.scalars(sa.select(Site))}
    by_id = {r[0]: dict(zip(cols, r, strict=True)) for r in zip(*got, strict=True)}
    assert set(by_id) == {
        "site-0000000004",
        "site-0000000003",
        "site-0000000001",
        "site-0000000000",
    }
    for sid, row in by_id.items():
        site = orm[sid]
        assert row["last_seen"] == site.last_seen and row["last_seen"].tzinfo is not None
        assert row["uncertainty_m"] == site.uncertainty_m and isinstance(
            row["uncertainty_m"], float
        )
        assert (row["rate_kg_h"], row["confidence_terms"], row["n_detections"]) == (
            site.rate_kg_h,
            site.confidence_terms,
            site.n_detections,
        )
    assert by_id["site-0000000003"]["last_seen"] == later
    assert by_id["site-0000000003"]["confidence_terms"] == {"x": 2}
    assert by_id["site-0000000004"]["rate_kg_h"] == 3.25
    assert by_id["site-0000000000"]["confidence_terms"] == {"bias": 0.0, "passes": -0.0}
    assert by_id["site-0000000001"]["n_detections"] == 4


def test_rounded_terms_keep_the_sign_of_zero() -> None:
    assert str(_round4(-0.0)) == "-0.0" and str(_round4(0.0)) == "0.0"
    assert _round4(0.123456) == round(0.123456, 4) == _round4(0.123456)
    assert _round4(-1.00005) == round(-1.00005, 4)


def test_names_that_need_quoting_are_quoted(engine: sa.Engine) -> None:
    # a reserved word and a mixed-case name: unquoted, both backends would refuse them
    meta = sa.MetaData()
    table = sa.Table(
        "Bulk Check",
        meta,
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("order", sa.Integer),
        sa.Column("Value", sa.Float),
    )
    meta.create_all(engine)

    class Model:
        __table__ = table

    with session_scope(engine, write=True) as s:
        insert_columns(s, Model, {"id": ["a", "b"], "order": [1, 2], "Value": [0.5, 1.5]})
        update_columns(s, Model, {"id": ["b"], "order": [3], "Value": [2.5]})
    with session_scope(engine) as s:
        got = select_by_key(s, Model, ("id", "order", "Value"), "id", ["a", "b"])
    assert sorted(zip(*got, strict=True)) == [("a", 1, 0.5), ("b", 3, 2.5)]
