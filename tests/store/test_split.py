from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from plumetrace.data import confidence_model
from plumetrace.sites.fusion import FusionOptions
from plumetrace.store.engine import session_scope
from plumetrace.store.models import Detection
from plumetrace.store.split import split_site
from tests.store.test_ingest import T0, _ingest, det


def _split_once(engine: sa.Engine) -> tuple[str, list[str]]:
    """A site holding two detections 5 km apart (as a bad merge would leave it): split."""
    _ingest(engine, "flt-1", [det("a", 0, 0), det("b", 5000, 0)])
    with session_scope(engine, write=True) as s:
        a, b = s.scalars(sa.select(Detection).order_by(Detection.lon)).all()
        assert a.site_id is not None and b.site_id is not None and a.site_id != b.site_id
        b.site_id = a.site_id  # what a merge the evidence no longer supports leaves
        s.flush()
        kept = a.site_id
        new = split_site(s, kept, FusionOptions(), confidence_model(), T0 + timedelta(days=1))
        return kept, new


def test_split_off_sites_get_ids_derived_from_what_they_split_off(engine: sa.Engine) -> None:
    kept, new = _split_once(engine)
    assert len(new) == 1 and new[0].startswith("site-") and new[0] != kept
    with session_scope(engine) as s:
        moved = s.scalars(sa.select(Detection.site_id).order_by(Detection.lon)).all()
    assert moved == [kept, new[0]]
    # the same split in an empty store of its own gives the same id (re-runnable)
    with session_scope(engine, write=True) as s:
        for table in ("evidence_links", "site_passes", "detections", "sites"):
            s.execute(sa.text(f"DELETE FROM {table}"))
    assert _split_once(engine) == (kept, new)
