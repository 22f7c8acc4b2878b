from __future__ import annotations

import pytest
import sqlalchemy as sa

from plumetrace.store import fusion
from plumetrace.store.engine import session_scope
from tests.store.test_ingest import _ingest, det


def test_sites_of_a_box_by_index_or_by_scan_are_the_same(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ingest(engine, "flt-1", [det(f"p{k}", 3000.0 * (k % 7), 2500.0 * (k // 7)) for k in range(40)])
    box = (-106.45, 31.75, -106.3, 31.8)  # west, south, east, north
    got = []
    for above in (10**9, 0):  # the index, then a scan of the table
        monkeypatch.setattr(fusion, "_SCAN_ABOVE", above)
        with session_scope(engine) as s:
            ids, lat, lon, w = fusion._brief_sites(s, box)
        got.append(sorted(zip(ids, lat.tolist(), lon.tolist(), w.tolist(), strict=True)))
    assert got[0] == got[1]
    assert 0 < len(got[0]) < 40  # the box holds some of the sites, not all
