from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from plumetrace import security
from plumetrace.errors import InvalidParameterError
from plumetrace.io.evidence_files import evidence_file_path, store_evidence_file
from plumetrace.io.evidence_purge import remove_evidence_files
from plumetrace.pipeline.retention import RetentionDays, run_purge
from plumetrace.store import workflow
from plumetrace.store.engine import session_scope
from plumetrace.store.ingest import FlightSpec, ingest_detections
from plumetrace.store.models import Site
from plumetrace.store.users import add_user
from tests.api.conftest import T0, det


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


def test_purge_deletes_the_files_nothing_references(engine: sa.Engine, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    with session_scope(engine, write=True) as s:
        ingest_detections(
            s,
            FlightSpec("flt-1", "border-unit", "ac-1", "aviris-ng"),
            [det("a", 0, 0)],
            time=T0,
            actor="t",
            source="t",
        )
        ana, _ = add_user(s, "ana", "analyst", actor="t")
        site = s.scalars(sa.select(Site.id)).one()
        sha = store_evidence_file(evidence, b"a photo of a roof")
        workflow.add_attachment(
            s, site, sha256=sha, filename="roof.jpg", media_type="image/jpeg", size=17, by=ana
        )
    path = evidence_file_path(evidence, sha)
    assert path.is_file()
    days = RetentionDays(unconfirmed_sites=30.0, raw_tracks=None, attachments=None)
    later = T0 + timedelta(days=10)  # not old enough yet
    result, files = run_purge(engine, evidence, days, actor="ops", now=later)
    assert result.sites == [] and files == 0 and path.is_file()
    result, files = run_purge(engine, evidence, days, actor="ops", now=T0 + timedelta(days=31))
    assert result.sites == [site] and result.attachments == 1 and files == 1
    assert not path.exists() and not path.parent.exists()  # the empty fan-out went too
    assert remove_evidence_files(evidence, [sha]) == 0  # already gone: fine


def test_retention_days_give_cutoffs() -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    cut = RetentionDays(unconfirmed_sites=365, raw_tracks=0, attachments=None).cutoffs(now)
    assert cut.unconfirmed_sites == now - timedelta(days=365) and cut.raw_tracks == now
    assert cut.attachments is None
    with pytest.raises(InvalidParameterError, match="raw_tracks must be >= 0"):
        RetentionDays(raw_tracks=-1).cutoffs(now)
