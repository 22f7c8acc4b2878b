from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from plumetrace.errors import (
    AuthError,
    ConflictError,
    InvalidParameterError,
    NotFoundError,
)
from plumetrace.geo import local_projection
from plumetrace.io import evidence_files
from plumetrace.io.evidence import DetectionRecord
from plumetrace.io.evidence_files import evidence_file_path, store_evidence_file
from plumetrace.store.audit_log import verify
from plumetrace.store.engine import session_scope
from plumetrace.store.ingest import FlightSpec, ingest_detections
from plumetrace.store.models import (
    Assignment,
    AuditEvent,
    CollectionRequest,
    Review,
    Site,
    User,
)
from plumetrace.store.users import add_user, find_user, list_users
from plumetrace.store.workflow import (
    add_attachment,
    assign,
    attachment_by_sha,
    close_collection_request,
    list_collection_requests,
    review,
)

LON0, LAT0 = -106.45, 31.75
T0 = datetime(2026, 5, 1, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from plumetrace import security

    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


def _det(key: str, x: float, sigma: float = 20.0) -> DetectionRecord:
    _fwd, inv = local_projection(LON0, LAT0)
    lon, lat = inv.transform(x, 0.0)
    return DetectionRecord(key, "plume", float(lat), float(lon), sigma, 50.0, 35.0, 65.0, 0.8)


@pytest.fixture
def world(engine: sa.Engine) -> dict[str, str]:
    """Two sites and users of every role; return name -> id (sites as site1, site2)."""
    out: dict[str, str] = {}
    with session_scope(engine, write=True) as s:
        for name, role in [
            ("ana", "analyst"),
            ("bob", "analyst"),
            ("sue", "supervisor"),
            ("lia", "liaison"),
        ]:
            user, _ = add_user(s, name, role, actor="test")
            out[name] = user.id
        r = ingest_detections(
            s,
            FlightSpec("flt-1", operator="op", platform="ac-1", sensor="s"),
            [_det("a", 0), _det("b", 8000, sigma=200.0)],
            time=T0,
            actor="test",
            source="t",
        )
    assert len(r.sites_created) == 2
    with session_scope(engine) as s:
        near, far = s.scalars(sa.select(Site.id).order_by(Site.uncertainty_m)).all()
    out["site1"], out["site2"] = near, far
    return out


def _user(engine: sa.Engine, uid: str) -> User:
    with session_scope(engine) as s:
        u = s.get(User, uid)
        assert u is not None
        return u


def _site(engine: sa.Engine, sid: str) -> Site:
    with session_scope(engine) as s:
        site = s.get(Site, sid)
        assert site is not None
        return site


def _events(engine: sa.Engine, action: str) -> list[AuditEvent]:
    with session_scope(engine) as s:
        return list(s.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


# ------------------------------------------------------------------------------- assign


def test_assign_replaces_the_active_assignment_and_bumps_the_version(
    engine: sa.Engine, world: dict[str, str]
) -> None:
    sue = _user(engine, world["sue"])
    sid = world["site1"]
    v0 = _site(engine, sid).version
    with session_scope(engine, write=True) as s:
        out = assign(s, sid, "ana", by=sue, expected_version=v0)
    assert out["assignment"].startswith("asg-") and out["version"] == v0 + 1
    with session_scope(engine, write=True) as s:
        assign(s, sid, world["bob"], by=sue, expected_version=v0 + 1)
    site = _site(engine, sid)
    assert site.assignee_id == world["bob"] and site.version == v0 + 2
    with session_scope(engine) as s:
        rows = s.scalars(sa.select(Assignment).where(Assignment.site_id == sid)).all()
    assert sorted((a.user_id, a.active) for a in rows) == sorted(
        [(world["ana"], False), (world["bob"], True)]
    )
    ev = _events(engine, "site.assign")[-1]
    assert ev.before == {"assignee_id": world["ana"], "version": v0 + 1}
    assert ev.after is not None and ev.after["assignee_id"] == world["bob"]
    assert ev.actor == "sue"


def test_assign_refuses_stale_versions_and_wrong_people(
    engine: sa.Engine, world: dict[str, str]
) -> None:
    ana = _user(engine, world["ana"])
    sid = world["site1"]
    v0 = _site(engine, sid).version
    with pytest.raises(ConflictError, match="reload"), session_scope(engine, write=True) as s:
        assign(s, sid, "ana", by=ana, expected_version=v0 + 5)
    with pytest.raises(AuthError) as info, session_scope(engine, write=True) as s:
        assign(s, sid, "bob", by=ana, expected_version=v0)
    assert info.value.status == 403
    with (
        pytest.raises(InvalidParameterError, match="cannot be assigned"),
        session_scope(engine, write=True) as s,
    ):
        assign(s, sid, "lia", by=_user(engine, world["sue"]), expected_version=v0)
    with pytest.raises(NotFoundError), session_scope(engine, write=True) as s:
        assign(s, sid, "nobody", by=ana, expected_version=v0)
    with pytest.raises(NotFoundError), session_scope(engine, write=True) as s:
        assign(s, "site-nope", "ana", by=ana, expected_version=v0)
    site = _site(engine, sid)
    assert site.assignee_id is None and site.version == v0  # nothing written
    with session_scope(engine, write=True) as s:  # an analyst may take a site
        assign(s, sid, "ana", by=ana, expected_version=v0)
    assert _site(engine, sid).assignee_id == world["ana"]


# ------------------------------------------------------------------------------- review


@pytest.mark.parametrize(
    ("decision", "status"),
    [("confirm", "confirmed"), ("reject", "rejected"), ("needs-collection", "needs-collection")],
)
def test_review_sets_the_status(
    engine: sa.Engine, world: dict[str, str], decision: str, status: str
) -> None:
    ana = _user(engine, world["ana"])
    sid = world["site1"]
    v0 = _site(engine, sid).version
    with session_scope(engine, write=True) as s:
        out = review(s, sid, decision, "looks right", by=ana, expected_version=v0)
    assert out["review"].startswith("rev-") and out["status"] == status
    site = _site(engine, sid)
    assert site.status == status and site.version == v0 + 1
    ev = _events(engine, "site.review")[-1]
    assert ev.before == {"status": "candidate", "version": v0}
    assert ev.after is not None and ev.after["status"] == status
    with session_scope(engine) as s:
        (rev,) = s.scalars(sa.select(Review)).all()
        assert (rev.decision, rev.note, rev.user_id) == (decision, "looks right", ana.id)
        n_creq = s.scalar(sa.select(sa.func.count()).select_from(CollectionRequest))
        assert verify(s).ok
    assert n_creq == (1 if decision == "needs-collection" else 0)


def test_needs_collection_opens_a_request_around_the_site(
    engine: sa.Engine, world: dict[str, str]
) -> None:
    ana = _user(engine, world["ana"])
    near, far = world["site1"], world["site2"]  # uncertainty 20 m and 200 m
    with session_scope(engine, write=True) as s:
        a = review(
            s, near, "needs-collection", "", by=ana, expected_version=_site(engine, near).version
        )
        b = review(
            s, far, "needs-collection", "", by=ana, expected_version=_site(engine, far).version
        )
    with session_scope(engine) as s:
        ca = s.get(CollectionRequest, a["collection_request"])
        cb = s.get(CollectionRequest, b["collection_request"])
        assert ca is not None and cb is not None
        assert ca.id.startswith("creq-") and ca.status == "open"
        assert ca.radius_m == 250.0  # floor
        far_site = s.get(Site, far)
        assert far_site is not None
        assert cb.radius_m == pytest.approx(3 * far_site.uncertainty_m)
        assert (ca.lat, ca.lon) == (_site(engine, near).lat, _site(engine, near).lon)
    assert len(_events(engine, "collection_request.open")) == 2
    with session_scope(engine, write=True) as s:
        c = review(
            s,
            near,
            "needs-collection",
            "",
            by=ana,
            expected_version=_site(engine, near).version,
            radius_m=1000.0,
        )
        assert s.get(CollectionRequest, c["collection_request"]).radius_m == 1000.0  # type: ignore[union-attr]


def test_note_leaves_the_site_alone(engine: sa.Engine, world: dict[str, str]) -> None:
    ana = _user(engine, world["ana"])
    sid = world["site1"]
    before = _site(engine, sid)
    with session_scope(engine, write=True) as s:
        out = review(s, sid, "note", "smell of solvent reported", by=ana)
    after = _site(engine, sid)
    assert (after.status, after.version) == (before.status, before.version)
    assert out["collection_request"] is None
    assert _events(engine, "site.note")[-1].after == {
        "review": out["review"],
        "note": "smell of solvent reported",
    }


def test_review_refuses_bad_input_and_stale_versions(
    engine: sa.Engine, world: dict[str, str]
) -> None:
    ana = _user(engine, world["ana"])
    sid = world["site1"]
    v0 = _site(engine, sid).version
    with (
        pytest.raises(InvalidParameterError, match="decision"),
        session_scope(engine, write=True) as s,
    ):
        review(s, sid, "strike", "", by=ana, expected_version=v0)
    with (
        pytest.raises(InvalidParameterError, match="version"),
        session_scope(engine, write=True) as s,
    ):
        review(s, sid, "confirm", "", by=ana)
    with (
        pytest.raises(InvalidParameterError, match="radius"),
        session_scope(engine, write=True) as s,
    ):
        review(s, sid, "needs-collection", "", by=ana, expected_version=v0, radius_m=-1)
    with session_scope(engine, write=True) as s:
        review(s, sid, "confirm", "first", by=ana, expected_version=v0)
    with (
        pytest.raises(ConflictError, match=f"version {v0}.*version {v0 + 1}"),
        session_scope(engine, write=True) as s,
    ):
        review(s, sid, "reject", "second", by=ana, expected_version=v0)
    with session_scope(engine) as s:
        assert [r.note for r in s.scalars(sa.select(Review))] == ["first"]
    assert _site(engine, sid).status == "confirmed"


def test_merged_sites_cannot_be_reviewed(engine: sa.Engine, world: dict[str, str]) -> None:
    ana = _user(engine, world["ana"])
    sid = world["site1"]
    with session_scope(engine, write=True) as s:
        s.execute(
            sa.update(Site)
            .where(Site.id == sid)
            .values(status="merged", merged_into=world["site2"])
        )
    with (
        pytest.raises(ConflictError, match=f"merged into {world['site2']}"),
        session_scope(engine, write=True) as s,
    ):
        review(s, sid, "confirm", "", by=ana, expected_version=_site(engine, sid).version)


def test_concurrent_reviews_one_wins_one_conflicts(
    engine: sa.Engine, world: dict[str, str]
) -> None:
    users = [_user(engine, world["ana"]), _user(engine, world["bob"])]
    sid = world["site1"]
    v0 = _site(engine, sid).version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def work(user: User, decision: str) -> None:
        barrier.wait()
        try:
            with session_scope(engine, write=True) as s:
                review(s, sid, decision, user.name, by=user, expected_version=v0)
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [
        threading.Thread(target=work, args=(u, d))
        for u, d in zip(users, ["confirm", "reject"], strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["conflict", "ok"]
    with session_scope(engine) as s:
        (rev,) = s.scalars(sa.select(Review)).all()
        site = s.get(Site, sid)
        assert site is not None and site.version == v0 + 1
        assert site.status == {"confirm": "confirmed", "reject": "rejected"}[rev.decision]
        assert verify(s).ok


# --------------------------------------------------------------------- collection requests


def test_collection_requests_list_and_close(engine: sa.Engine, world: dict[str, str]) -> None:
    ana, sue = _user(engine, world["ana"]), _user(engine, world["sue"])
    sid = world["site1"]
    with session_scope(engine, write=True) as s:
        out = review(
            s,
            sid,
            "needs-collection",
            "fly again",
            by=ana,
            expected_version=_site(engine, sid).version,
        )
    cid = out["collection_request"]
    with session_scope(engine) as s:
        (row,) = list_collection_requests(s)
        assert row["id"] == cid and row["note"] == "fly again" and row["version"] == 1
        assert list_collection_requests(s, "closed") == []
        with pytest.raises(InvalidParameterError):
            list_collection_requests(s, "pending")
    with pytest.raises(ConflictError), session_scope(engine, write=True) as s:
        close_collection_request(s, cid, by=sue, expected_version=7)
    with session_scope(engine, write=True) as s:
        closed = close_collection_request(s, cid, by=sue, expected_version=1, note="flown")
    assert closed["status"] == "closed" and closed["version"] == 2
    assert closed["note"] == "fly again\nflown"
    with pytest.raises(ConflictError, match="already closed"), session_scope(engine) as s:
        close_collection_request(s, cid, by=sue, expected_version=2)
    with pytest.raises(NotFoundError), session_scope(engine) as s:
        close_collection_request(s, "creq-nope", by=sue, expected_version=1)
    with session_scope(engine) as s:
        assert list_collection_requests(s) == []
        assert [r["id"] for r in list_collection_requests(s, None)] == [cid]
    ev = _events(engine, "collection_request.close")[-1]
    assert ev.before is not None and ev.before["status"] == "open"
    assert ev.after is not None and ev.after["status"] == "closed"


# ---------------------------------------------------------------------------- attachments


def test_evidence_files_are_content_addressed(tmp_path: Path) -> None:
    data = b"photo bytes"
    sha = store_evidence_file(tmp_path / "ev", data)
    assert sha == hashlib.sha256(data).hexdigest()
    path = evidence_file_path(tmp_path / "ev", sha, must_exist=True)
    assert path == tmp_path / "ev" / sha[:2] / sha and path.read_bytes() == data
    assert store_evidence_file(tmp_path / "ev", data) == sha  # again: nothing changes
    assert [p.name for p in (tmp_path / "ev").rglob("*") if p.is_file()] == [sha]
    with pytest.raises(InvalidParameterError):
        evidence_file_path(tmp_path, "../../etc/passwd")
    with pytest.raises(NotFoundError):
        evidence_file_path(tmp_path, "0" * 64, must_exist=True)


def test_evidence_files_over_the_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert evidence_files.MAX_EVIDENCE_BYTES == 50 * 1024 * 1024
    monkeypatch.setattr(evidence_files, "MAX_EVIDENCE_BYTES", 10)
    with pytest.raises(InvalidParameterError, match="limit") as info:
        store_evidence_file(tmp_path, b"x" * 11)
    assert "\n" not in str(info.value)
    assert not any(tmp_path.iterdir())


def test_attachments_record_metadata_once(engine: sa.Engine, world: dict[str, str]) -> None:
    ana = _user(engine, world["ana"])
    sid = world["site1"]
    sha = hashlib.sha256(b"x").hexdigest()
    with session_scope(engine, write=True) as s:
        a = add_attachment(
            s,
            sid,
            sha256=sha,
            filename="C:\\photos\\lab.jpg",
            media_type="image/jpeg",
            size=1,
            by=ana,
        )
        again = add_attachment(
            s, sid, sha256=sha, filename="other.jpg", media_type="image/jpeg", size=1, by=ana
        )
    assert a["id"].startswith("att-") and a["filename"] == "lab.jpg"
    assert again["id"] == a["id"]
    assert len(_events(engine, "site.attach")) == 1
    with session_scope(engine) as s:
        assert attachment_by_sha(s, sha)["site_id"] == sid
        with pytest.raises(NotFoundError):
            attachment_by_sha(s, "f" * 64)
    bad: list[dict[str, Any]] = [
        {"sha256": "xyz"},
        {"filename": "../"},
        {"media_type": "jpeg"},
        {"size": -1},
    ]
    for override in bad:
        kwargs: dict[str, Any] = {
            "sha256": sha,
            "filename": "a.jpg",
            "media_type": "image/jpeg",
            "size": 1,
            **override,
        }
        with pytest.raises(InvalidParameterError), session_scope(engine) as s:
            add_attachment(s, sid, by=ana, **kwargs)
    with pytest.raises(NotFoundError), session_scope(engine) as s:
        add_attachment(s, "site-nope", sha256=sha, filename="a", media_type="a/b", size=1, by=ana)


def test_users_are_listed_without_secrets(engine: sa.Engine, world: dict[str, str]) -> None:
    with session_scope(engine) as s:
        rows = list_users(s)
        assert [r["name"] for r in rows] == ["ana", "bob", "lia", "sue"]
        assert all("password_hash" not in r for r in rows)
        assert find_user(s, "ana").id == world["ana"]
        assert find_user(s, world["bob"]).name == "bob"
